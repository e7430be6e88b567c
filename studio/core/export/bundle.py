"""The project bundle: one zip with what it takes to reproduce a run.

Contents: ``project.dlstudio`` (the run's frozen project), ``run.json``, ``history.json`` when
present, ``model.keras`` (the exported model), ``manifest.json`` (DL Studio and library versions,
the dataset fingerprint, a SHA-256 per file) and ``README.txt``. ``studio train project.dlstudio``
retrains the run; the fingerprint tells whether the data is still the same.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import zipfile
from pathlib import Path

from studio.core.export.report import ExportError

MANIFEST = "manifest.json"
MODEL = "model.keras"
BUNDLE_VERSION = 1

_README = """DL Studio project bundle: {name}

project.dlstudio  the run's project (data source, augmentation, graph, training settings)
run.json          the run record (status, settings, library versions, dataset fingerprint)
model.keras       the trained model (load with keras.saving.load_model(..., safe_mode=True))
manifest.json     versions of DL Studio and the libraries, dataset fingerprint, file checksums

Reproduce the run: unzip, then `studio train project.dlstudio`. `studio data` prints the dataset
fingerprint; it should equal {fingerprint}.
"""


def write_bundle(model, source, path: str) -> None:
    """Write the bundle of ``source``'s run, with ``model`` as its model."""
    from studio import __version__
    from studio.core.training.plan import versions
    from studio.core.training.runs import HISTORY_FILE, RunFolder

    if source.run_dir is None:
        raise ExportError("a project bundle needs a run folder (project snapshot and run record)")
    folder = RunFolder(source.run_dir)
    files = {name: (folder.path / name).read_bytes()
             for name in (folder.project_file.name, folder.run_json.name, HISTORY_FILE)
             if (folder.path / name).is_file()}
    with tempfile.TemporaryDirectory(prefix="studio-bundle-") as tmp:
        model_path = Path(tmp) / MODEL
        model.save(model_path)
        files[MODEL] = model_path.read_bytes()
    fingerprint = dataset_fingerprint(source)
    files["README.txt"] = _README.format(name=source.name, fingerprint=fingerprint).encode()
    manifest = {
        "bundle_version": BUNDLE_VERSION, "studio_version": __version__, "created": time.time(),
        "name": source.name, "run": folder.path.name, "part": source.part, "versions": versions(),
        "run_versions": source.run_info.get("versions"), "dataset_fingerprint": fingerprint,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))


def dataset_fingerprint(source) -> str | None:
    """The fingerprint the run recorded (or, without one, that of the dataset loaded now)."""
    recorded = (source.run_info.get("dataset") or {}).get("fingerprint")
    if recorded:
        return recorded
    return source.dataset.fingerprint() if source.dataset is not None else None


def check_bundle(path: str) -> dict:
    """Open a bundle, check every checksum and the project file; return its manifest."""
    from studio.core.project import project_from_dict

    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            for name, digest in manifest["files"].items():
                if hashlib.sha256(archive.read(name)).hexdigest() != digest:
                    raise ExportError(f"bundle {path}: {name} does not match its checksum")
            if "project.dlstudio" in manifest["files"]:
                project_from_dict(json.loads(archive.read("project.dlstudio")), "bundle project")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(f"bundle {path} is damaged: {exc}") from None
    return manifest


def load_bundle(path: str):
    """Check a bundle and reload its model in Keras (safe mode); returns a runtime predict function."""
    from studio.core.export.runtimes import load_keras

    check_bundle(path)
    with tempfile.TemporaryDirectory(prefix="studio-bundle-") as tmp, zipfile.ZipFile(path) as archive:
        archive.extract(MODEL, tmp)
        return load_keras(str(Path(tmp) / MODEL))
