"""Keras backends: facts without importing them, adapters that agree, generative steps on each.

Each backend runs in its own Python process (Keras picks its backend once per process); the
gradient and generative checks share one process per backend, as every start imports it anew, and
run in the test process for its own backend.
"""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from process_helpers import QUICK_EXIT

from studio.core import backends

ROOT = Path(__file__).resolve().parents[2]
AVAILABLE = [name for name in backends.BACKENDS if backends.installed(name)]
needs = {name: pytest.mark.skipif(name not in AVAILABLE, reason=f"{name} is not installed")
         for name in backends.BACKENDS}
each_backend = pytest.mark.parametrize("backend", [pytest.param(n, marks=needs[n]) for n in backends.BACKENDS])


def run_python(code: str, backend: str, timeout: float = 300, env=None) -> dict:
    """Run ``code`` under ``backend``; it prints one JSON line last, returned here."""
    done = subprocess.run([sys.executable, "-c", code + QUICK_EXIT], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "KERAS_BACKEND": backend,
                                         "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


GRADIENTS = """
import json, numpy as np, keras
from studio.core.backends import adapter, stateless
from studio.core.inspect.saliency import grad_cam, gradient_saliency
model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
                          keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax", name="out")])
rng = np.random.default_rng(0)
model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
x = rng.uniform(size=(5, 6, 6, 1)).astype("float32"); y = np.arange(5) % 4
loss_fn = keras.losses.SparseCategoricalCrossentropy()
def loss(trainable, x):
    pred, _ = model.stateless_call(trainable, [], x)
    return loss_fn(y, pred)
values = [v.value for v in model.trainable_variables]
value, (g_w, g_x) = adapter().value_and_grad(loss, [values, keras.ops.convert_to_tensor(x)])
probe = stateless(model, lambda x: model(x))
out = {"loss": float(value), "grads": [np.asarray(keras.ops.convert_to_numpy(g)).tolist() for g in g_w],
       "grad_x": np.asarray(keras.ops.convert_to_numpy(g_x)).tolist(),
       "cam": grad_cam(model, x, "conv").heatmaps.tolist(), "saliency": gradient_saliency(model, x).heatmaps.tolist()}
model.layers[-1].bias.assign(np.full(4, 3.0, "float32"))
out["fresh"] = bool(np.allclose(keras.ops.convert_to_numpy(probe(x)), model.predict(x, verbose=0), atol=1e-5))
RESULTS["gradients"] = out
"""


def test_facts_come_without_importing_a_backend():
    code = ("import json, sys; from studio.core import backends; "
            "facts = [backends.installed(n) for n in backends.BACKENDS]; "
            "print(json.dumps([m for m in ('tensorflow', 'jax', 'torch', 'keras') if m in sys.modules]))")
    assert run_python(code, "jax") == []
    assert backends.resolve("jax")[0] == "jax" if "jax" in AVAILABLE else True
    with pytest.raises(ValueError, match="choose one of auto, tensorflow, jax, torch"):
        backends.resolve("mxnet")


def test_probe_reports_the_fix_for_a_missing_backend(monkeypatch):
    monkeypatch.setitem(backends.PACKAGES, "torch", "no_such_package_for_studio")
    missing = backends.probe("torch")
    assert not missing.installed and "not installed" in missing.reason and "dl-studio[torch]" in missing.fix
    assert "no GPU on native Windows" in backends.gpu_limitation("tensorflow", "Windows")


def test_auto_without_measurements_says_it_used_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    name, why = backends.resolve("auto", "abc")
    assert name == backends.default_backend() and "no measurement" in why
    from studio.core.backends.measurements import record

    other = next(n for n in AVAILABLE if n != name) if len(AVAILABLE) > 1 else name
    record("abc", [{"backend": name, "samples_per_s": 10.0}, {"backend": other, "samples_per_s": 50.0}])
    assert backends.resolve("auto", "abc") == (other, backends.resolve("auto", "abc")[1])
    assert "fastest measured" in backends.resolve("auto", "abc")[1]


@pytest.mark.slow
def test_adapter_gradients_and_saliency_agree_across_backends():
    results = {name: backend_checks(name)["gradients"] for name in AVAILABLE}
    reference = results[AVAILABLE[0]]
    for name, result in results.items():
        assert result["fresh"], f"{name}: a compiled probe kept stale weights"
        assert result["loss"] == pytest.approx(reference["loss"], rel=1e-4), name
        for key in ("grad_x", "cam", "saliency"):
            np.testing.assert_allclose(result[key], reference[key], atol=2e-4, err_msg=f"{name} {key}")
        for mine, theirs in zip(result["grads"], reference["grads"]):
            np.testing.assert_allclose(mine, theirs, atol=2e-4, err_msg=name)
    assert np.abs(np.asarray(reference["cam"])).sum() > 0


GENERATIVE = """
import json, numpy as np, keras
from studio.core.generative.graphs import dcgan, vae, autoencoder
from studio.core.generative.parts import find_parts, settings
from studio.core.generative.training import make_model
rng = np.random.default_rng(0)
x = rng.uniform(0, 1, (32, 8, 8, 1)).astype("float32"); y = np.arange(32) % 3
out = {}
for kind, graph in (("gan", dcgan(8, 1, latent_dim=4, width=4)), ("vae", vae(8, 1, latent_dim=2, width=4)),
                    ("autoencoder", autoencoder(8, 1, latent_dim=4, width=4))):
    keras.utils.set_random_seed(0)
    model = make_model(graph, find_parts(graph, kind, (8, 8, 1)), settings({"kind": kind}))
    if kind == "gan":
        model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [np.array(w) for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                        validation_data=None if kind == "gan" else (x, y)).history
    out[kind] = {"logs": {k: [float(v) for v in vals] for k, vals in history.items()},
                 "changed": sum(not np.allclose(a, b) for a, b in zip(before, model.get_weights())),
                 "weights": len(before)}
    if kind == "gan":
        out[kind]["steps"] = [int(keras.ops.convert_to_numpy(o.iterations.value))
                              for o in (model.optimizer, model.g_optimizer)]
RESULTS["generative"] = out
"""


@functools.cache
def backend_checks(backend: str) -> dict:
    """GRADIENTS and GENERATIVE run under ``backend``: ``{"gradients": ..., "generative": ...}``; in this
    process when it is this process's backend (a fresh one would only import it again), else in one
    process of their own."""
    import keras

    if backend == keras.backend.backend():
        scope = {"RESULTS": {}}
        exec(GRADIENTS + GENERATIVE, scope)
        return scope["RESULTS"]
    return run_python("RESULTS = {}\n" + GRADIENTS + GENERATIVE + "print(json.dumps(RESULTS))", backend)


@pytest.mark.slow
@each_backend
def test_generative_train_steps_update_every_part(backend):
    result = backend_checks(backend)["generative"]
    assert result["gan"]["steps"] == [12, 12]  # both optimizers stepped once per batch, state kept
    assert {"d_loss", "g_loss", "d_acc_real", "d_acc_fake"} <= set(result["gan"]["logs"])
    for kind in ("gan", "vae", "autoencoder"):
        assert result[kind]["changed"] == result[kind]["weights"], kind
    for kind in ("vae", "autoencoder"):
        logs = result[kind]["logs"]
        assert logs["loss"][-1] < logs["loss"][0] and "val_loss" in logs, kind


@pytest.mark.slow
def test_doctor_prints_every_backend_as_json():
    """``studio doctor`` probes each backend in a process of its own (``backends.probe``): an installed
    one reports it is usable and its version."""
    done = subprocess.run([sys.executable, "-m", "studio", "doctor", "--json"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    report = json.loads(done.stdout)
    names = [item["name"] for item in report["backends"]]
    assert names == list(backends.BACKENDS)
    for item in report["backends"]:
        assert item["installed"] == (item["name"] in AVAILABLE)
        assert item["usable"] or item["fix"], item
    first = report["backends"][names.index(AVAILABLE[0])]
    assert first["installed"] and first["usable"] and first["version"], first
    assert done.returncode == 0


def test_a_backend_that_started_is_not_probed_again_until_its_install_changes(tmp_path, monkeypatch):
    from studio.core import backends

    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    probed = []

    def fake_probe(name):
        probed.append(name)
        return backends.BackendFacts(name, True, "1.0", usable=name == "jax", reason="" if name == "jax" else "boom")

    monkeypatch.setattr(backends, "probe", fake_probe)
    stamp = {"jax": ("python|jax/__init__.py", "1|1.0"), "torch": ("python|torch/__init__.py", "1|2.0")}
    monkeypatch.setattr(backends, "_install_stamp", lambda name: stamp[name])
    for _ in range(2):  # two processes: each starts with no facts of its own
        backends.forget_session_facts()
        assert backends.session_probe("jax").usable and not backends.session_probe("torch").usable
    assert probed == ["jax", "torch", "torch"]  # a failure is asked again: the user may have fixed it
    stamp["jax"] = ("python|jax/__init__.py", "2|1.1")  # upgraded
    backends.forget_session_facts()
    backends.session_probe("jax")
    backends.forget_session_facts()
    assert probed[-1] == "jax" and len(probed) == 4
