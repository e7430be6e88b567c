"""Keras backends (TensorFlow, JAX, PyTorch): which are installed and usable, and which a run uses.

Nothing here imports a backend: ``installed`` reads package metadata, ``probe`` asks a fresh
``python`` process (``studio.core.backends.probe``, killed after a timeout) what a backend sees.
The per-backend adapters (``adapter()``) hold the few things Keras has no neutral API for.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata, util
from typing import Any

logger = logging.getLogger(__name__)

BACKENDS = ("tensorflow", "jax", "torch")
CHOICES = ("auto", *BACKENDS)
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
TITLES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
PROBE_TIMEOUT_S = 120.0
NO_BACKEND = "no Keras backend is installed: pip install 'dl-studio[jax]'"


@dataclass
class BackendFacts:
    """What one backend can do on this machine; ``fix`` is the one command that helps, or ''."""

    name: str
    installed: bool
    version: str | None = None
    usable: bool = False
    reason: str = ""
    gpus: list[dict[str, Any]] = field(default_factory=list)
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def installed(name: str) -> bool:
    """Whether ``name``'s package can be imported (checked without importing it)."""
    try:
        return util.find_spec(PACKAGES[name]) is not None
    except (ImportError, ValueError):  # a blocked or half-removed package
        return False


def version(name: str) -> str | None:
    try:
        return metadata.version(PACKAGES[name])
    except metadata.PackageNotFoundError:
        return None


def versions(backend: str | None = None) -> dict[str, str]:
    """Versions that decide a run's numbers (python, keras, numpy, the backend used)."""
    names = ["keras", "numpy", *(BACKENDS if backend is None else [backend])]
    found = {"python": platform.python_version()}
    for package in names:
        try:
            found[package] = metadata.version(PACKAGES.get(package, package))
        except metadata.PackageNotFoundError:
            found[package] = "missing"
    return found


def install_command(name: str, system: str | None = None, gpu: bool = True) -> str:
    """The one command that installs ``name`` for training on this kind of machine."""
    system = system or platform.system()
    if name == "jax" and gpu and system == "Linux":
        return "pip install 'dl-studio[jax-cuda]'"
    if name == "tensorflow" and gpu and system == "Linux":
        return "pip install 'tensorflow[and-cuda]'"
    return f"pip install 'dl-studio[{name}]'" if name != "tensorflow" else "pip install tensorflow"


def gpu_limitation(name: str, system: str | None = None) -> str:
    """Why ``name`` cannot use a GPU on this operating system ('' when it can)."""
    system = system or platform.system()
    if name == "tensorflow" and system == "Windows":
        return ("TensorFlow >= 2.11 has no GPU on native Windows: "
                + install_command("torch", system))
    if name == "tensorflow" and system == "Darwin":
        return "TensorFlow has no working Apple GPU plugin: " + install_command("torch", system)
    if name == "jax" and system == "Windows":
        return "JAX has no GPU on native Windows: " + install_command("torch", system)
    return ""


def probe(name: str, timeout: float = PROBE_TIMEOUT_S) -> BackendFacts:
    """Facts about ``name``, asked of a fresh Python process (a broken install cannot hang us).

    Args:
        name: tensorflow, jax or torch.
        timeout: seconds the probe process may take to import the backend.

    Returns:
        BackendFacts: installed, version, usable (or why not), the GPUs it sees, and a ``fix``
        command (install, reinstall, or how to get a GPU on this system).

    Raises:
        ValueError: an unknown backend name.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    facts = BackendFacts(name, installed(name), version(name))
    if not facts.installed:
        facts.reason = f"{TITLES[name]} is not installed"
        facts.fix = install_command(name)
        return facts
    from studio.core import processes

    try:
        done = processes.run(processes.module("studio.core.backends.probe", name), timeout=timeout,
                             env={"KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3"})
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        found = {"usable": False, "reason": f"importing {TITLES[name]} took over {timeout:.0f} s"}
    except (ValueError, IndexError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        found = {"usable": False, "reason": f"{TITLES[name]} failed to start: {last}"}
    facts.usable = bool(found.get("usable"))
    facts.reason = found.get("reason", "")
    facts.gpus = found.get("gpus", [])
    if not facts.usable:
        facts.fix = f"pip install --force-reinstall {PACKAGES[name]}"
    elif not facts.gpus:
        facts.fix = gpu_limitation(name)
    return facts


def describe(facts) -> list[str]:
    """Readable lines for one backend's facts (``studio doctor`` and the app's Devices dialog)."""
    title = TITLES[facts.name]
    if not facts.installed:
        return [f"{title}: not installed  ->  {facts.fix}"]
    state = "usable" if facts.usable else f"NOT usable ({facts.reason})"
    lines = [f"{title} {facts.version}: {state}"]
    for gpu in facts.gpus:
        memory = f", {gpu['memory_mb']:,} MB" if gpu.get("memory_mb") else ""
        lines.append(f"  GPU {gpu.get('id')}: {gpu['name']}{memory}")
    if facts.usable and not facts.gpus:
        lines.append("  no GPU: trains on the CPU")
    if facts.fix:
        lines.append(f"  fix: {facts.fix}")
    return lines


def probe_all(timeout: float = PROBE_TIMEOUT_S) -> list[BackendFacts]:
    """``probe`` of every backend, in parallel processes."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(BACKENDS)) as pool:
        return list(pool.map(lambda name: probe(name, timeout), BACKENDS))


_SESSION_FACTS: list[BackendFacts] = []


def session_facts() -> list[BackendFacts]:
    """``probe_all`` once per process (slow: call it off the GUI thread); later calls reuse it."""
    if not _SESSION_FACTS:
        _SESSION_FACTS.extend(probe_all())
    return list(_SESSION_FACTS)


def session_probe(name: str) -> BackendFacts:
    """``probe(name)`` once per process (reusing ``session_facts`` when they were gathered), and a
    backend that started is not probed again while its install is unchanged (``_install_stamp``):
    ``studio train`` would otherwise wait for a fresh import of TensorFlow each time.

    Args:
        name: tensorflow, jax or torch.

    Returns:
        The backend's facts (``usable``, ``reason``, ``fix``).
    """
    found = next((facts for facts in _SESSION_FACTS if facts.name == name), None) or _PROBED.get(name)
    if found is None:
        where, stamp = _install_stamp(name)
        known = _usable_probes().get(where) if where else None
        if isinstance(known, dict) and known.get("stamp") == stamp:
            found = BackendFacts(**known["facts"])
        else:
            found = probe(name)
            if where and found.usable:  # a failure is probed again next time: the user may fix it
                _remember_usable(where, stamp, found)
        _PROBED[name] = found
    return found


_PROBED: dict[str, BackendFacts] = {}


def _install_stamp(name: str) -> tuple[str | None, str | None]:
    """Where ``name`` is installed for this interpreter, and a stamp of that install (its file's
    time and the package version): a changed stamp means the install changed."""
    try:
        origin = util.find_spec(PACKAGES[name]).origin
        return f"{sys.executable}|{origin}", f"{os.stat(origin).st_mtime_ns}|{version(name)}"
    except (ImportError, ValueError, AttributeError, TypeError, OSError):
        return None, None


def _probes_file():
    from studio.core.backends.measurements import cache_file

    return cache_file().with_name("backend_probes.json")


def _usable_probes() -> dict[str, Any]:
    from studio.core.fileio import loads_json_bounded, read_bytes_capped

    path = _probes_file()
    if not path.exists():  # nothing probed on this install yet
        return {}
    try:
        found = loads_json_bounded(read_bytes_capped(path, 1 << 20))
    except (OSError, ValueError) as exc:  # a damaged cache only costs a probe: say so in the log
        logger.warning("ignoring %s (%s): the backends are probed again", path, exc)
        return {}
    return found if isinstance(found, dict) else {}


def _remember_usable(where: str, stamp: str, facts: BackendFacts) -> None:
    from studio.core.fileio import atomic_write_json

    known = {**_usable_probes(), where: {"stamp": stamp, "facts": facts.to_dict()}}
    try:
        _probes_file().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(_probes_file(), known)
    except OSError as exc:  # an unwritable cache folder only costs the next probe
        logger.warning("cannot remember that %s starts: %s", facts.name, exc)


def forget_session_facts() -> None:
    """Probe again on the next ``session_facts`` (after installing a backend; tests)."""
    _SESSION_FACTS.clear()
    _PROBED.clear()


def default_backend(system: str | None = None) -> str | None:
    """The documented choice of ``auto`` without measurements: the first installed of an order
    that keeps TensorFlow where it has a GPU (Linux) and prefers PyTorch where it has none."""
    system = system or platform.system()
    order = BACKENDS if system == "Linux" else ("torch", "jax", "tensorflow")
    return next((name for name in order if installed(name)), None)


def resolve(choice: str, model_signature: str | None = None) -> tuple[str, str]:
    """``(backend, why)`` for a setting: the backend itself, or for ``auto`` the fastest measured
    one on this machine for this model (``doctor --bench``), else ``default_backend``.

    Args:
        choice: the ``backend`` setting: auto, tensorflow, jax or torch.
        model_signature: the model's ``measurements.project_signature``, or None for no measurement.

    Returns:
        The backend's name and a sentence saying why it was chosen. Nothing is imported or probed.

    Raises:
        ValueError: an unknown choice, a chosen backend that is not installed, or no backend installed.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown backend {choice!r}: choose one of {', '.join(CHOICES)}")
    if choice != "auto":
        if not installed(choice):
            raise ValueError(f"backend {choice} is not installed: {install_command(choice)}")
        return choice, "chosen in the settings"
    from studio.core.backends.measurements import fastest

    best = fastest(model_signature)
    if best is not None:
        return best["backend"], (f"auto: fastest measured on this machine "
                                 f"({best['samples_per_s']:.0f} samples/s, studio doctor --bench)")
    name = default_backend()
    if name is None:
        raise ValueError(NO_BACKEND)
    return name, (f"auto: no measurement for this model on this machine, so the default order "
                  f"picked {name} (run `studio doctor --bench` to choose by speed)")


def active() -> str:
    """The backend of the running process's Keras (imports Keras)."""
    import keras

    return keras.backend.backend()


def activate() -> str:
    """Choose the running process's Keras backend before Keras is imported, and name it.

    Keras' own choice (``KERAS_BACKEND``, else keras.json, else TensorFlow) stands when it is
    installed; otherwise ``default_backend()`` is set in ``KERAS_BACKEND``, as Keras would fail to
    import. Once Keras is imported, this is ``active()``.

    Returns:
        The backend's name (one of BACKENDS, or another that Keras' settings name).

    Raises:
        ValueError: no Keras backend is installed.
    """
    if "keras" in sys.modules:
        return active()
    choice = os.environ.get("KERAS_BACKEND") or _keras_json_backend() or "tensorflow"
    if choice not in BACKENDS or installed(choice):
        return choice
    name = default_backend()
    if name is None:
        raise ValueError(NO_BACKEND)
    os.environ["KERAS_BACKEND"] = name
    return name


def _keras_json_backend() -> str | None:
    """The backend named in Keras' settings file (``$KERAS_HOME/keras.json``), if any."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            return json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def adapter(name: str | None = None):
    """The adapter module for ``name`` (default: the active backend)."""
    return importlib.import_module(f"studio.core.backends.{name or active()}")


def stateless(model, fn):
    """``fn(*args)`` compiled by the active backend with ``model``'s variables passed in as
    arguments, so the compiled function always reads the current weights (a jitted JAX closure
    would freeze them at tracing time).

    Args:
        model: the Keras model whose variables ``fn`` reads.
        fn: a function of tensors built with keras.ops (e.g. a probe model's call).

    Returns:
        A function of the same arguments that runs the compiled ``fn`` on the current weights.
    """
    import keras

    backend, variables = adapter(), list(model.variables)

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)

    compiled = backend.compile(pure)

    def call(*args):
        backend.sync(model)
        return compiled([v.value for v in variables], *args)

    return call
