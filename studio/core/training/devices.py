"""Device choice for a run: parse ``--devices``, detect GPUs, build the distribution strategy.

``setup_devices`` must run in the training process before TensorFlow touches a device (memory
growth and logical CPU devices can only be set then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """Parse ``auto``, ``cpu``, ``gpu``, ``all``, ``N`` or ``cpu:N``; raise ValueError otherwise."""
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


def _set_precision(mixed_precision: bool, used: list, notes: list[str]) -> str:
    """Set Keras' global dtype policy; return its name."""
    import keras

    policy = "float32"
    if mixed_precision and used:
        policy = precision_policy(used)
    elif mixed_precision:
        notes.append("mixed precision needs a GPU: training in float32")
    keras.mixed_precision.set_global_policy(policy)
    return policy


def setup_devices(request: DeviceRequest, mixed_precision: bool = False,
                  compile_choice: bool | None = None) -> DeviceSetup:
    """Devices, distribution, precision and compile mode for the active Keras backend.

    ``compile_choice``: whether XLA / torch.compile measured faster for this model on this
    machine (``studio doctor --bench``); None: the backend's default (TensorFlow: XLA on GPUs
    only; JAX: always XLA; PyTorch: eager).
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        setup = _setup_tensorflow(request, mixed_precision)
        if compile_choice is not None and setup.info["kind"] == "gpu":
            setup.jit_compile = compile_choice
    else:
        setup = _setup_jax(request, mixed_precision) if backend == "jax" else \
            _setup_torch(request, mixed_precision, bool(compile_choice))
    setup.info["backend"] = backend
    setup.info["compile_mode"] = setup.compile_mode
    return setup


def _check_request(request: DeviceRequest, gpus: list) -> None:
    if request.kind in ("gpu", "gpus") and not gpus:
        raise ValueError("no GPU found: train with --devices cpu (or auto)")
    if request.kind == "gpus" and request.count > len(gpus):
        raise ValueError(f"{request.count} GPUs requested but only {len(gpus)} found")


def _info(used: list, gpus: list, replicas: int, strategy: str, policy: str) -> dict[str, Any]:
    return {"kind": "gpu" if used else "cpu", "gpus": used, "replicas": replicas, "strategy": strategy,
            "mixed_precision": policy != "float32", "precision": policy, "detected_gpus": gpus}


def _setup_jax(request: DeviceRequest, mixed_precision: bool) -> DeviceSetup:
    """JAX: the chosen devices data-parallel through ``keras.distribution``; XLA always. With
    ``JAX_COORDINATOR_ADDRESS`` set, several processes form one mesh and each feeds its own rows of
    every global batch (``studio.core.backends.jax.process_rows``)."""
    import os

    import jax
    import keras

    if os.environ.get("JAX_COORDINATOR_ADDRESS") and not jax.distributed.is_initialized():
        _join_cluster(jax)
    notes: list[str] = []
    gpus = detect_gpus() if request.kind not in ("cpu", "cpu_split") else []
    _check_request(request, gpus)
    if gpus:
        count = len(gpus) if request.kind == "gpus" and request.count == 0 else \
            (request.count if request.kind == "gpus" else 1)
        devices, used = jax.local_devices(backend="gpu")[:count], gpus[:count]
    else:
        if request.kind == "auto":
            notes.append("no GPU found: training on the CPU")
        devices, used = jax.local_devices(backend="cpu"), []
        if request.kind != "cpu_split":
            devices = devices[:1]
        jax.config.update("jax_default_device", devices[0])
    if jax.process_count() > 1:
        devices = jax.devices()  # every process's devices: one data-parallel mesh over the cluster
    strategy = "default"
    if len(devices) > 1:  # several processes feed their own rows already: no tf.data auto-sharding
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=devices, auto_shard_dataset=jax.process_count() == 1))
        strategy = "DataParallel"
    policy = _set_precision(mixed_precision, used, notes)
    return DeviceSetup(None, _info(used, gpus, len(devices), strategy, policy), jit_compile=True,
                       notes=notes, compiler="xla")


def _join_cluster(jax) -> None:
    """Join the processes at ``JAX_COORDINATOR_ADDRESS``; ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``
    say how many and which one (JAX reads only the address itself; without them it detects SLURM,
    Open MPI and the like)."""
    import os

    def number(name):
        value = os.environ.get(name)
        if value is not None and not value.strip().isdigit():
            raise ValueError(f"{name}={value!r} must be a whole number (docs/training.md, Beyond one machine)")
        return None if value is None else int(value)

    jax.distributed.initialize(num_processes=number("JAX_NUM_PROCESSES"),
                               process_id=number("JAX_PROCESS_ID"))


def _setup_torch(request: DeviceRequest, mixed_precision: bool, compile_model: bool) -> DeviceSetup:
    """PyTorch: one device (Keras' PyTorch trainer has no data parallelism)."""
    notes: list[str] = []
    gpus = detect_gpus() if request.kind not in ("cpu", "cpu_split") else []
    _check_request(request, gpus)
    if request.kind == "cpu_split" or (request.kind == "gpus" and request.count != 1):
        raise ValueError("several devices need the jax or tensorflow backend: "
                         "use --backend jax, or --devices gpu")
    if not gpus and request.kind == "auto":
        notes.append("no GPU found: training on the CPU")
    used = gpus[:1]
    policy = _set_precision(mixed_precision, used, notes)
    return DeviceSetup(None, _info(used, gpus, 1, "default", policy), jit_compile=compile_model,
                       notes=notes, compiler="torch.compile")


def _setup_tensorflow(request: DeviceRequest, mixed_precision: bool = False) -> DeviceSetup:
    """Make the requested devices visible, turn on memory growth and pick strategy and XLA.

    XLA is used on GPUs only: on CPUs it brought no clear gain here and was measured ~6x slower
    than plain graph mode for a small CNN on another machine.
    """
    import tensorflow as tf

    notes: list[str] = []
    physical = tf.config.list_physical_devices("GPU")
    gpus = detect_gpus() if physical else []
    if request.kind in ("gpu", "gpus") and not physical:
        raise ValueError("no GPU found: train with --devices cpu (or auto)")
    if request.kind == "gpus" and request.count > len(physical):
        raise ValueError(f"{request.count} GPUs requested but only {len(physical)} found")

    if request.kind in ("cpu", "cpu_split") or not physical:
        if physical:
            tf.config.set_visible_devices([], "GPU")
        elif request.kind == "auto":
            notes.append("no GPU found: training on the CPU")
        used: list[dict[str, Any]] = []
    else:
        count = len(physical) if request.kind == "gpus" and request.count == 0 else request.count
        chosen = physical[: count if request.kind == "gpus" else 1]
        tf.config.set_visible_devices(chosen, "GPU")
        for device in chosen:
            tf.config.experimental.set_memory_growth(device, True)
        used = gpus[: len(chosen)]

    strategy = None
    if request.kind == "cpu_split":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(request.count)]
        )
        names = [device.name for device in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(names) if len(names) > 1 else None
    elif len(used) > 1:
        strategy = tf.distribute.MirroredStrategy()  # every visible GPU: exactly the chosen ones

    policy = _set_precision(mixed_precision, used, notes)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    info = _info(used, gpus, replicas, type(strategy).__name__ if strategy is not None else "default", policy)
    return DeviceSetup(strategy, info, jit_compile=bool(used), notes=notes)
