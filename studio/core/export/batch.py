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

    ``progress`` receives ``("stage", index, text)``, ``("exported", ExportResult)`` (ok, or failed
    verification) and ``("refused", format, message)`` for an export that could not be made.
    """
    try:
        source = open_source(run_dir, part)
    except ExportError as exc:
        for name in formats:
            progress(("refused", name, str(exc)))
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
            progress(("refused", name, str(exc)))
            continue
        except Exception as exc:  # a converter bug must not end the other formats: show it, log its traceback
            logger.error("exporting %s as %s failed", run_dir, name, exc_info=exc)
            progress(("refused", name, f"{type(exc).__name__}: {exc}"))
            continue
        progress(("exported", result))
