"""``export_model``: write one format, reload it in its own runtime, compare, then publish.

The export is written under a temporary name next to the target and verified there; only a
verified export is moved to the target path, so a failed check leaves nothing behind. A metadata
JSON (``<target>.meta.json``) is written beside every export.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from studio.core import fileio
from studio.core.export import bundle, runtimes, writers
from studio.core.export.clean import assert_clean, raw_inputs, strip_random_layers, with_normalization
from studio.core.export.formats import (QUANTIZED_AGREEMENT_FLOOR, QUANTIZED_AGREEMENT_TARGET, FormatSpec,
                                        format_spec)
from studio.core.export.report import ExportError, ExportResult, ExportTargetExistsError, ExportVerificationError
from studio.core.export.script import python_script
from studio.core.export.source import ExportSource, open_source
from studio.core.tasks import get_task

FLOAT_SAMPLES = 64  # real samples compared for float formats
QUANTIZED_SAMPLES = 2000  # the whole test split, up to this many, for quantized formats
SCRIPT_TIMEOUT_S = 300

Progress = Callable[[str], None]


def meta_path(path: str | os.PathLike) -> Path:
    """Where the metadata JSON of an export at ``path`` goes."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def script_weights_path(path: str | os.PathLike) -> Path:
    """The weights file the Python export reads: ``model.py`` -> ``model.weights.h5``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".py") + ".weights.h5")


def export_model(source, format: str, path: str | os.PathLike, *, part: str | None = None,
                 which: str = "auto", include_normalization: bool = False, with_training: bool = False,
                 force: bool = False, progress: Progress | None = None,
                 latency_repeats: int = 30) -> ExportResult:
    """Export, verify and report one format.

    Args:
        source: a run folder, an ``ExportSource`` (see ``open_source``), a Keras model or a Graph.
        format: one of ``FORMATS`` (keras, h5, savedmodel, tflite, tflite-fp16, tflite-dynamic,
            tflite-int8, onnx, python, bundle).
        path: the file (or SavedModel folder) to write.
        part: for generative runs, the sub-model to export (e.g. "generator", "decoder").
        which: the run's model file: auto, final, best or last.
        include_normalization: image models only: the export takes raw 0..255 pixels.
        with_training: python format: add the data loading and training setup.
        force: replace an existing file.
        progress: called with a short text at each stage.
        latency_repeats: single-sample inferences timed for the latency median.

    Returns:
        The ExportResult of a verified export (``ok`` true): size, latency, differences, warnings.
        The file is in place with its ``.meta.json`` beside it.

    Raises:
        ExportTargetExistsError: ``path`` exists and ``force`` is false.
        ExportError: bad input (format, path, a layer the format cannot express, ...).
        ExportVerificationError: the export does not reproduce the model (``.result`` says how);
            nothing is left at ``path``.
    """
    spec = format_spec(format)
    path = Path(path)
    note = progress or (lambda text: None)
    _check_target(path, spec, force)
    source = open_source(source, part, which)
    note("preparing the inference model")
    model, inputs, convert = _inference_model(source, include_normalization, spec)
    reference = runtimes.keras_runtime(model)(inputs)
    result = ExportResult(spec.name, str(path), samples=len(inputs[0]), warnings=list(source.warnings),
                          tolerance=spec.tolerance)
    verify = _verifier(source, model, spec, inputs, reference, result, note, latency_repeats)
    try:
        if spec.name == "python":
            _export_python(model, source, path, with_training, include_normalization, verify, note)
        else:
            note(f"writing {spec.title}")
            writer = _writer(spec, source, model, convert)
            publish = fileio.atomic_replace_dir if spec.directory else fileio.atomic_replace_with
            publish(path, lambda tmp: (writer(tmp), verify(tmp)))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    result.size_bytes = _size(path) + (_size(script_weights_path(path)) if spec.name == "python" else 0)
    result.ok = True
    fileio.atomic_write_json(meta_path(path), _metadata(source, model, spec, path, result, include_normalization))
    note("done")
    return result


def _check_target(path: Path, spec: FormatSpec, force: bool) -> None:
    targets = [path, script_weights_path(path)] if spec.name == "python" else [path]
    for target in targets:
        if target.exists() and not force:
            raise ExportTargetExistsError(target)
        if target.is_dir() != spec.directory and target.exists():
            kind = "a folder" if target.is_dir() else "a file"
            raise ExportError(f"{target} is {kind}; choose another path for the {spec.title} export")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    why = fileio.unwritable_reason(path.parent)
    if why:
        raise ExportError(f"cannot write to {path.parent}: {why}; choose a writable folder")


def _inference_model(source: ExportSource, include_normalization: bool, spec: FormatSpec):
    """The clean model to export, the inputs it is verified on and a function that turns samples
    of the dataset into the units that model reads."""
    model = strip_random_layers(source.model)
    convert = lambda arrays: arrays  # noqa: E731
    if include_normalization:
        if source.dataset is None or not source.uses_dataset_inputs():
            raise ExportError("include_normalization needs the run's dataset (its normalization is unknown)")
        normalization = source.dataset.normalization
        model = with_normalization(model, normalization)
        convert = lambda arrays: [raw_inputs(arrays[0], normalization)]  # noqa: E731
    assert_clean(model)
    limit = FLOAT_SAMPLES if spec.tolerance is not None else QUANTIZED_SAMPLES
    return model, convert(source.samples("test", limit)), convert


def _writer(spec: FormatSpec, source: ExportSource, model, convert) -> Callable[[str], None]:
    if spec.name.startswith("tflite"):
        mode = {"tflite": "float32", "tflite-fp16": "float16", "tflite-dynamic": "dynamic",
                "tflite-int8": "int8"}[spec.name]
        calibration = convert(source.calibration_samples()) if mode == "int8" else None
        return lambda path: writers.write_tflite(model, path, mode, calibration)
    return {
        "keras": lambda path: writers.write_keras(model, path),
        "h5": lambda path: writers.write_weights(model, path),
        "savedmodel": lambda path: writers.write_savedmodel(model, path),
        "onnx": lambda path: writers.write_onnx(model, path),
        "bundle": lambda path: bundle.write_bundle(model, source, path),
    }[spec.name]


def _loader(spec: FormatSpec, model) -> Callable[[str], runtimes.Predict]:
    """How to reload the export in its own runtime."""
    if spec.name.startswith("tflite"):
        return runtimes.load_tflite
    return {
        "keras": runtimes.load_keras,
        "h5": lambda path: runtimes.load_weights(path, model),
        "savedmodel": runtimes.load_savedmodel,
        "onnx": runtimes.load_onnx,
        "bundle": bundle.load_bundle,
    }[spec.name]


def _verifier(source, model, spec, inputs, reference, result, note, latency_repeats):
    """A function that checks the export at a path and fills ``result`` (raising when it fails)."""
    def verify(path: str) -> None:
        note(f"verifying {spec.title}")
        if spec.name == "python":
            try:
                outputs = _run_script(path, inputs)
            except ExportError as exc:
                result.message = str(exc)
                raise ExportVerificationError(f"{spec.title} export failed verification: {exc}", result) from None
            predict = runtimes.keras_runtime(runpy.run_path(path, run_name="studio_export_check")["model"])
        else:
            predict = _loader(spec, model)(path)
            outputs = predict(inputs)
        check_outputs(reference, outputs, spec, result, source.classifies)
        if spec.name == "bundle":
            _check_fingerprint(path, source, result)
        note(f"timing {spec.title}")
        result.latency_ms = runtimes.median_latency_ms(predict, inputs, latency_repeats)
    return verify


def check_outputs(reference: list[np.ndarray], outputs: list[np.ndarray], spec: FormatSpec,
                  result: ExportResult, classifies: bool) -> None:
    """Fill the comparison figures of ``result``; raise ExportVerificationError when they fail."""
    def fail(message: str):
        result.ok, result.message = False, message
        raise ExportVerificationError(f"{spec.title} export failed verification: {message}", result)

    if len(outputs) != len(reference):
        fail(f"{len(outputs)} outputs instead of {len(reference)}")
    for expected, actual in zip(reference, outputs):
        if expected.shape != actual.shape:
            fail(f"output shape {actual.shape} instead of {expected.shape}")
    diffs = [float(np.max(np.abs(e.astype(np.float64) - a))) if e.size else 0.0 for e, a in zip(reference, outputs)]
    result.max_abs_diff = max(diffs) if all(np.isfinite(diffs)) else float("inf")
    result.argmax_agreement = agreement(reference[0], outputs[0]) if classifies else None
    if spec.tolerance is not None:
        allowed = allowed_difference(spec.tolerance, reference)
        if not result.max_abs_diff <= allowed:
            fail(f"outputs differ by up to {result.max_abs_diff:.3g} (allowed {allowed:.3g}) "
                 f"on {result.samples} samples")
        result.message = f"verified on {result.samples} samples: max |diff| {result.max_abs_diff:.2e} <= {allowed:.0e}"
        return
    if not np.isfinite(result.max_abs_diff):
        fail("the quantized model outputs NaN or infinity")
    if result.argmax_agreement is None:
        result.message = f"quantized: max |diff| {result.max_abs_diff:.3g} on {result.samples} samples"
        return
    if result.argmax_agreement < QUANTIZED_AGREEMENT_FLOOR:
        fail(f"argmax agreement {result.argmax_agreement:.1%} is below {QUANTIZED_AGREEMENT_FLOOR:.0%}")
    if result.argmax_agreement < QUANTIZED_AGREEMENT_TARGET:
        result.warnings.append(f"argmax agreement {result.argmax_agreement:.1%} is below the "
                               f"{QUANTIZED_AGREEMENT_TARGET:.0%} target: check the quantized model's accuracy")
    result.message = f"quantized: argmax agreement {result.argmax_agreement:.2%} on {result.samples} test samples"


def allowed_difference(tolerance: float, reference: list[np.ndarray]) -> float:
    """``tolerance``, scaled by the output magnitude when it exceeds 1 (float32 keeps ~7 digits)."""
    largest = max((float(np.max(np.abs(r))) for r in reference if r.size), default=0.0)
    return tolerance * max(1.0, largest)


def agreement(expected: np.ndarray, actual: np.ndarray) -> float | None:
    """Share of samples whose predicted class is the same (argmax, or the 0.5/0 threshold for one unit)."""
    if expected.ndim < 2 or not len(expected):
        return None
    if expected.shape[-1] == 1:
        threshold = 0.5 if expected.min() >= 0 and expected.max() <= 1 else 0.0
        same = (expected[..., 0] > threshold) == (actual[..., 0] > threshold)
    else:
        same = np.argmax(expected, axis=-1) == np.argmax(actual, axis=-1)
    return float(np.mean(same))


def _export_python(model, source, path: Path, with_training: bool, normalization_included: bool,
                   verify, note) -> None:
    """Weights beside the script first (the script reads them), then the script, verified."""
    weights = script_weights_path(path)
    note("writing the Python script and its weights")
    code = python_script(model, source, weights.name, with_training, normalization_included)
    fileio.atomic_replace_with(weights, model.save_weights)
    try:
        fileio.atomic_replace_with(path, lambda tmp: (fileio.atomic_write_text(tmp, code), verify(tmp)))
    except BaseException:
        weights.unlink(missing_ok=True)
        raise


def _run_script(path: str, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run the generated script in a fresh interpreter on saved inputs; its saved outputs."""
    from studio.core import processes

    with tempfile.TemporaryDirectory(prefix="studio-script-") as tmp:
        files = []
        for index, array in enumerate(inputs):
            files.append(str(Path(tmp) / f"x{index}.npy"))
            np.save(files[-1], array)
        output = Path(tmp) / "y.npy"
        try:
            done = processes.run(processes.script(path, "--predict", *files, "--output", output),
                                 env={"TF_CPP_MIN_LOG_LEVEL": "2"}, cwd=tmp, timeout=SCRIPT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ExportError(f"the generated script did not finish within {SCRIPT_TIMEOUT_S} s") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
            raise ExportError(f"the generated script failed to run: {last}")
        if output.exists():
            return [np.load(output)]
        with np.load(output.with_suffix(".npz")) as saved:
            return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def _check_fingerprint(path: str, source: ExportSource, result: ExportResult) -> None:
    """Warn when the data loaded now is not the data the run was trained on."""
    recorded = bundle.check_bundle(path).get("dataset_fingerprint")
    if recorded and source.dataset is not None and source.dataset.fingerprint() != recorded:
        result.warnings.append(f"the dataset changed since the run (fingerprint {source.dataset.fingerprint()} "
                               f"now, {recorded} at training): retraining will not reproduce it exactly")


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size if path.exists() else 0


def _metadata(source: ExportSource, model, spec: FormatSpec, path: Path, result: ExportResult,
              normalization_included: bool) -> dict:
    from studio import __version__
    from studio.core.training.plan import versions

    dataset = source.dataset if source.uses_dataset_inputs() else None
    return {
        "format": spec.name,
        "file": path.name,
        "created": time.time(),
        "studio_version": __version__,
        "versions": versions(),
        "source": {"name": source.name, "run": str(source.run_dir) if source.run_dir else None,
                   "part": source.part, "model_file": source.model_file},
        "inputs": [{"name": t.name, "shape": list(t.shape[1:]), "dtype": str(t.dtype)} for t in model.inputs],
        "outputs": [{"shape": list(t.shape[1:])} for t in model.outputs],
        "task": dataset.task if dataset else None,
        "class_names": dataset.class_names if dataset else [],
        "output_note": get_task(dataset.task).output_note if dataset else "",
        "normalization": dataset.normalization if dataset else None,
        "normalization_included": normalization_included,
        "input_note": ("feed raw pixels (0..255): the model normalizes them" if normalization_included else
                       "normalize inputs as described in 'normalization' before feeding them"),
        "dataset_fingerprint": bundle.dataset_fingerprint(source),
        "verification": {key: getattr(result, key) for key in
                         ("ok", "message", "samples", "tolerance", "max_abs_diff", "argmax_agreement",
                          "latency_ms", "size_bytes")},
        "warnings": result.warnings,
    }
