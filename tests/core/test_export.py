"""Every export format round-trips on a small CNN and a skip-connection model, and is verified."""

import json
import runpy

import numpy as np
import pytest

from export_helpers import make_run, skip_model, small_cnn
from studio.core.export import (FORMATS, ExportError, ExportTargetExistsError, ExportVerificationError, export_model,
                                meta_path, open_source, script_weights_path)
from studio.core.export import exporter, writers

FLOAT_FORMATS = ("keras", "h5", "savedmodel", "tflite", "onnx", "bundle")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {"cnn": make_run(root / "cnn", small_cnn(), name="cnn"),
            "skip": make_run(root / "skip", skip_model(), name="skip")}


@pytest.fixture(scope="module")
def test_inputs(runs):
    source = open_source(runs["cnn"])
    return source.dataset.x_test[:32], source.model


@pytest.mark.parametrize("kind", ["cnn", pytest.param("skip", marks=pytest.mark.slow)])
def test_float_formats_round_trip(runs, tmp_path, kind):
    for name in FLOAT_FORMATS:
        path = tmp_path / f"model{FORMATS[name].suffix}"
        result = export_model(runs[kind], name, path, latency_repeats=3)
        assert result.ok, result.message
        assert result.max_abs_diff <= 1e-5
        assert result.argmax_agreement == 1.0
        assert result.samples == 64 and result.latency_ms > 0
        assert path.exists() and result.size_bytes > 0
        meta = json.loads(meta_path(path).read_text())
        assert meta["format"] == name and meta["verification"]["ok"]
        assert meta["class_names"] == [str(d) for d in range(10)]
        assert meta["normalization"] == {"mode": "scale", "divide": 255.0}
        assert meta["inputs"][0]["shape"] == [8, 8, 1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left behind


def test_onnx_export_matches_keras_in_onnxruntime(runs, tmp_path, test_inputs):
    import onnxruntime

    x, model = test_inputs
    export_model(runs["cnn"], "onnx", tmp_path / "m.onnx", latency_repeats=1)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(onnx_out, model(x).numpy(), atol=1e-5)


def test_quantized_tflite_formats(runs, tmp_path):
    from studio.core.export.runtimes import tflite_interpreter

    sizes = {}
    for name in ("tflite", "tflite-fp16", "tflite-dynamic", "tflite-int8"):
        path = tmp_path / f"m{FORMATS[name].suffix}"
        result = export_model(runs["cnn"], name, path, latency_repeats=3)
        assert result.ok, result.message
        sizes[name] = result.size_bytes
        if name in ("tflite-dynamic", "tflite-int8"):
            assert result.tolerance is None and result.samples > 64  # the whole test split
            assert result.argmax_agreement >= 0.9
    assert sizes["tflite-dynamic"] < sizes["tflite"] and sizes["tflite-fp16"] < sizes["tflite"]
    interpreter = tflite_interpreter(tmp_path / "m.int8.tflite")
    assert interpreter.get_input_details()[0]["dtype"] == np.int8


@pytest.mark.slow
def test_python_script_with_training_reproduces_outputs(runs, tmp_path, test_inputs):
    x, model = test_inputs
    path = tmp_path / "digits.py"
    # Verification runs the script in a fresh interpreter (--predict) and compares its outputs.
    result = export_model(runs["cnn"], "python", path, with_training=True, include_normalization=True,
                          latency_repeats=3)
    assert result.ok and result.max_abs_diff <= 1e-5
    assert script_weights_path(path).exists()
    code = path.read_text()
    assert "def train():" in code and "'normalize': 'none'" in code
    namespace = runpy.run_path(str(path), run_name="check")
    raw = (x * 255.0).astype("float32")
    np.testing.assert_allclose(namespace["predict"](raw), model(x).numpy(), atol=1e-5)


def test_include_normalization_takes_raw_pixels(runs, tmp_path, test_inputs):
    from studio.core.export.runtimes import tflite_interpreter

    x, model = test_inputs
    result = export_model(runs["skip"], "tflite", tmp_path / "m.tflite", include_normalization=True,
                          latency_repeats=1)
    assert result.ok
    assert json.loads(meta_path(tmp_path / "m.tflite").read_text())["normalization_included"]
    runner = tflite_interpreter(tmp_path / "m.tflite").get_signature_runner()
    (output,) = runner(**{runner.get_input_details().popitem()[0]: x[:1] * 255.0}).values()
    reference = open_source(runs["skip"]).model(x[:1]).numpy()
    np.testing.assert_allclose(output, reference, atol=1e-4)


def test_perturbed_export_fails_verification_and_leaves_nothing(runs, tmp_path, monkeypatch):
    def perturbed_save(model, path):
        kernel = model.get_layer("classes").kernel
        changed = kernel.numpy()
        changed[:, 0] += 0.5  # a planted mismatch in the exported copy only (one class's weights)
        kernel.assign(changed)
        model.save(path)

    monkeypatch.setattr(writers, "write_keras", perturbed_save)
    with pytest.raises(ExportVerificationError) as caught:
        export_model(runs["cnn"], "keras", tmp_path / "m.keras", latency_repeats=1)
    assert caught.value.result.ok is False and caught.value.result.max_abs_diff > 1e-3
    assert list(tmp_path.iterdir()) == []


def test_runtime_mismatch_fails_verification(runs, tmp_path, monkeypatch):
    real = exporter.runtimes.load_onnx

    def off_by_a_bit(path):
        predict = real(path)
        return lambda inputs: [o + 1e-3 for o in predict(inputs)]

    monkeypatch.setattr(exporter.runtimes, "load_onnx", off_by_a_bit)
    with pytest.raises(ExportVerificationError, match="differ by up to"):
        export_model(runs["cnn"], "onnx", tmp_path / "m.onnx", latency_repeats=1)
    assert not (tmp_path / "m.onnx").exists() and not meta_path(tmp_path / "m.onnx").exists()


def test_layer_a_format_cannot_express_is_named(tmp_path):
    import keras

    inputs = keras.Input((6, 4), name="sequence")
    outputs = keras.layers.Dense(2)(keras.layers.LSTM(3, name="memory")(inputs))
    with pytest.raises(ExportError, match=r"TFLite \(float32\) cannot express layer 'memory' \(LSTM\)"):
        export_model(keras.Model(inputs, outputs), "tflite", tmp_path / "m.tflite", latency_repeats=1)
    assert not (tmp_path / "m.tflite").exists()


def test_untrained_graph_warns(tmp_path):
    result = export_model(small_cnn(), "keras", tmp_path / "m.keras", latency_repeats=1)
    assert result.ok and any("untrained" in warning for warning in result.warnings)


def test_existing_and_unwritable_paths_are_refused(runs, tmp_path):
    target = tmp_path / "m.keras"
    target.write_text("keep me")
    with pytest.raises(ExportTargetExistsError, match="already exists$") as refused:
        export_model(runs["cnn"], "keras", target)
    assert refused.value.path == target  # the front end words the remedy (CLI --force, GUI check box)
    assert target.read_text() == "keep me"
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ExportError, match="cannot create the folder"):
        export_model(runs["cnn"], "keras", blocker / "sub" / "m.keras")
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(runs["cnn"], "pickle", tmp_path / "m.pkl")
    result = export_model(runs["cnn"], "keras", target, force=True, latency_repeats=1)
    assert result.ok and target.stat().st_size > 100


def test_random_augmentation_layers_are_stripped(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 1))
    flipped = keras.layers.RandomFlip("horizontal", name="random_flip")(inputs)
    outputs = keras.layers.Dense(3, name="head")(keras.layers.Flatten()(flipped))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "m.keras"
    result = export_model(model, "keras", path, latency_repeats=1)
    assert result.ok
    exported = keras.saving.load_model(path, safe_mode=True)
    assert not [layer for layer in exported.layers if type(layer).__name__.startswith("Random")]
    np.testing.assert_array_equal(exported.get_layer("head").kernel.numpy(), model.get_layer("head").kernel.numpy())


def test_generative_part_goes_through_the_hook(runs, tmp_path, monkeypatch):
    import keras

    from studio.core.export import source as source_module

    latent = keras.Input((4,), name="z")
    decoder = keras.Model(latent, keras.layers.Dense(6, activation="sigmoid", name="pixels")(latent), name="decoder")
    asked = []
    monkeypatch.setattr(source_module, "_generative_hook",
                        lambda: lambda run_dir, part, which: asked.append(part) or decoder)
    result = export_model(runs["cnn"], "onnx", tmp_path / "decoder.onnx", part="decoder", latency_repeats=1)
    assert asked == ["decoder"] and result.ok and result.argmax_agreement is None
    meta = json.loads(meta_path(tmp_path / "decoder.onnx").read_text())
    assert meta["source"]["part"] == "decoder" and meta["inputs"][0]["shape"] == [4]
    assert meta["class_names"] == []


def test_bundle_holds_what_reproduces_the_run(runs, tmp_path):
    import zipfile

    from studio.core.export.bundle import check_bundle
    from studio.core.project import project_from_dict
    from studio.core.training import read_run

    path = tmp_path / "cnn.zip"
    export_model(runs["cnn"], "bundle", path, latency_repeats=1)
    manifest = check_bundle(str(path))
    run = read_run(runs["cnn"])
    assert manifest["dataset_fingerprint"] == run["dataset"]["fingerprint"]
    assert set(manifest["versions"]) >= {"python", "keras", "tensorflow", "numpy"}
    with zipfile.ZipFile(path) as archive:
        assert {"project.dlstudio", "run.json", "model.keras", "manifest.json"} <= set(archive.namelist())
        project = project_from_dict(json.loads(archive.read("project.dlstudio")))
    assert project.dataset == json.loads((runs["cnn"] / "project.dlstudio").read_text())["dataset"]
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("run.json", "{}")  # a second, different run.json: the checksum no longer matches
    with pytest.raises(ExportError, match="does not match its checksum"):
        check_bundle(str(path))


def test_normalization_is_added_to_a_model_with_nested_models_keeping_their_weights():
    import keras

    from studio.core.export.clean import with_normalization

    stem = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(2, 3, name="conv")], name="stem")
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(stem(inputs)))
    normalized = with_normalization(model, {"mode": "scale", "divide": 255.0})
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(normalized(pixels), model(pixels / 255.0), rtol=1e-5, atol=1e-6)
