"""Device choice for a run: parse the ``devices`` setting, detect GPUs, set up the active backend.

``setup_devices`` must run in the training process before the backend touches a device (memory
growth and logical CPU devices can only be set then); each adapter module does its own part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_GPU = "no GPU found"


class DeviceError(ValueError):
    """The requested devices cannot be had here.

    The message says what is wrong, never how a front end spells the remedy: ``fixes`` holds the
    settings that would work as ``(setting, value)`` pairs (``("devices", "cpu")``), which the CLI
    words as flags and the GUI as its controls.
    """

    def __init__(self, message: str, fixes: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.fixes = tuple(fixes)


@dataclass(frozen=True)
class DeviceRequest:
    """What the user asked for: ``kind`` is auto, cpu, gpu, gpus (first ``count``) or cpu_split."""

    kind: str
    count: int = 1


@dataclass
class DeviceSetup:
    """What the run got: a strategy (None: default device), a description and the compile mode."""

    strategy: Any
    info: dict[str, Any]
    jit_compile: bool
    notes: list[str] = field(default_factory=list)
    compiler: str = "xla"  # what jit_compile turns on: xla, or torch.compile on PyTorch

    @property
    def compile_mode(self) -> str:
        if self.compiler == "torch.compile":
            return "torch.compile" if self.jit_compile else "eager"
        return "xla" if self.jit_compile else "graph"


def parse_devices(text: str) -> DeviceRequest:
    """Parse ``auto``, ``cpu``, ``gpu``, ``all``, ``N`` or ``cpu:N``; raise ValueError otherwise.

    Args:
        text: the ``devices`` setting (case and surrounding spaces ignored).

    Returns:
        The DeviceRequest: ``all`` is kind ``gpus`` with count 0, ``N`` kind ``gpus`` with count N,
        ``cpu:N`` kind ``cpu_split`` with count N.

    Raises:
        ValueError: any other text.
    """
    value = str(text).strip().lower()
    if value in ("auto", "cpu", "gpu"):
        return DeviceRequest(value)
    if value == "all":
        return DeviceRequest("gpus", 0)
    if value.isdigit() and int(value) >= 1:
        return DeviceRequest("gpus", int(value))
    if value.startswith("cpu:") and value[4:].isdigit() and int(value[4:]) >= 1:
        return DeviceRequest("cpu_split", int(value[4:]))
    raise ValueError(
        f"unknown devices {text!r}: use auto, cpu, gpu, all, a GPU count like 2, or cpu:2"
    )


def detect_gpus() -> list[dict[str, Any]]:
    """Local GPUs the active Keras backend sees, as ``{"name", "id", "memory_mb", ...}``."""
    from studio.core.backends import adapter

    return adapter().list_gpus()


def setup_devices(request: DeviceRequest, mixed_precision: bool = False,
                  compile_choice: bool | None = None) -> DeviceSetup:
    """Devices, distribution, precision and compile mode for the active Keras backend.

    Args:
        request: the parsed ``devices`` setting.
        mixed_precision: train in the GPUs' mixed policy (float32 without a GPU, with a note).
        compile_choice: whether XLA / torch.compile measured faster for this model on this
            machine (``studio doctor --bench``); None: the backend's default (TensorFlow: XLA on
            GPUs only; JAX: always XLA; PyTorch: eager).

    Returns:
        The DeviceSetup, its ``info`` naming the backend and compile mode.

    Raises:
        DeviceError: the request cannot be met here (no GPU, too few, several on PyTorch).
    """
    from studio.core.backends import active, adapter

    backend = active()
    setup = adapter(backend).setup_devices(request, mixed_precision, compile_choice)
    setup.info["backend"] = backend
    setup.info["compile_mode"] = setup.compile_mode
    return setup


def check_request(request: DeviceRequest, gpus: list) -> None:
    """Raise DeviceError when ``request`` asks for more GPUs than ``gpus``."""
    if request.kind in ("gpu", "gpus") and not gpus:
        raise DeviceError(NO_GPU, fixes=(("devices", "cpu"), ("devices", "auto")))
    if request.kind == "gpus" and request.count > len(gpus):
        raise DeviceError(f"{request.count} GPUs requested but only {len(gpus)} found",
                          fixes=(("devices", str(len(gpus))),))


def precision_policy(gpus: list[dict[str, Any]]) -> str:
    """The mixed policy for these GPUs: bfloat16 where every one has it (compute capability 8+,
    Apple GPUs), float16 otherwise."""
    def has_bf16(gpu):
        capability = gpu.get("compute_capability")
        if gpu.get("id") == "mps":
            return True
        try:
            return float(str(capability).split(",")[0].strip("() ")) >= 8.0
        except ValueError:
            return False
    return "mixed_bfloat16" if gpus and all(has_bf16(gpu) for gpu in gpus) else "mixed_float16"


def set_precision(mixed_precision: bool, used: list, notes: list[str]) -> str:
    """Set Keras' global dtype policy for the ``used`` GPUs; return its name."""
    import keras

    policy = "float32"
    if mixed_precision and used:
        policy = precision_policy(used)
    elif mixed_precision:
        notes.append("mixed precision needs a GPU: training in float32")
    keras.mixed_precision.set_global_policy(policy)
    return policy


def setup_info(used: list, gpus: list, replicas: int, strategy: str, policy: str) -> dict[str, Any]:
    """The run's device description (run.json ``device``) from an adapter's choices."""
    return {"kind": "gpu" if used else "cpu", "gpus": used, "replicas": replicas, "strategy": strategy,
            "mixed_precision": policy != "float32", "precision": policy, "detected_gpus": gpus}
