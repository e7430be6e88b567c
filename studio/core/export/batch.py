"""Several formats of one run in a row, the model and data loaded once (the Export panel's job)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from studio.core.export.exporter import export_model
from studio.core.export.formats import default_file_name
from studio.core.export.report import ExportError, ExportVerificationError
from studio.core.export.source import open_source

logger = logging.getLogger(__name__)


def export_formats(run_dir: Path, formats: list[str], folder: Path, base_name: str, part: str | None,
                   include_normalization: bool, with_training: bool, force: bool,
                   progress: Callable[[tuple[Any, ...]], None]) -> None:
    """Export one run in several formats, one after the other (call it off the GUI thread).

    Args:
        run_dir: the run folder; its model, project snapshot and dataset are loaded once.
        formats: format names (keys of ``FORMATS``), exported in this order.
        folder, base_name: each file is ``folder / default_file_name(base_name, format)``.
        part: a generative run's sub-model (None: the whole model, or the image-making part).
        include_normalization, with_training, force: as ``export_model`` takes them.
        progress: receives ``("stage", index, text)``, ``("exported", ExportResult)`` (ok, or failed
            verification) and ``("refused", format, ExportError)`` for an export that could not be
            made; the caller words the remedy (e.g. for ``ExportTargetExistsError``).
    """
    try:
        source = open_source(run_dir, part)
    except ExportError as exc:
        for name in formats:
            progress(("refused", name, exc))
        return
    for index, name in enumerate(formats):
        progress(("stage", index, f"{name}: starting"))
        path = folder / default_file_name(base_name, name)
        try:
            result = export_model(
                source, name, path, include_normalization=include_normalization,
                with_training=with_training and name == "python", force=force,
                progress=lambda text, index=index, name=name: progress(("stage", index, f"{name}: {text}")))
        except ExportVerificationError as exc:
            result = exc.result
        except ExportError as exc:
            progress(("refused", name, exc))
            continue
        except Exception as exc:  # a converter bug must not end the other formats: show it, log its traceback
            logger.error("exporting %s as %s failed", run_dir, name, exc_info=exc)
            progress(("refused", name, ExportError(f"{type(exc).__name__}: {exc}")))
            continue
        progress(("exported", result))
