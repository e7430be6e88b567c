"""Activations, Grad-CAM, saliency, filters, predictions and histograms on tiny real models."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.core.inspect import (  # noqa: E402
    ActivationProbe,
    InspectError,
    activations,
    channel_stats,
    conv_kernel,
    default_cam_layer,
    filter_images,
    grad_cam,
    gradient_saliency,
    predict,
    probe_for,
    spatial_layers,
)

SIZE = 16
PATCH = 4


@pytest.fixture(scope="module")
def small_cnn():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 3), name="image")
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.MaxPooling2D(name="pool")(h)
    h = keras.layers.Dropout(0.5, name="drop")(h)
    h = keras.layers.Flatten(name="flat")(h)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(h)
    return keras.Model(inputs, outputs)


def patch_model(confidence_scale=1.0):
    """A hand-weighted classifier: class 1 means "a bright patch is present".

    conv channel 0 fires only where a 3x3 window is bright, channel 1 on dim background; the head
    reads their global averages with opposite signs.
    """
    inputs = keras.Input((SIZE, SIZE, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="detect")
    h = conv(inputs)
    pool = keras.layers.MaxPooling2D(2, name="pool")(h)
    gap = keras.layers.GlobalAveragePooling2D(name="gap")(pool)
    head = keras.layers.Dense(2, activation="softmax", name="head")
    outputs = head(gap)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((3, 3, 1, 2), "float32")
    kernel[..., 0, 0] = 1 / 9
    kernel[..., 0, 1] = -1 / 9
    conv.set_weights([kernel, np.array([-0.5, 0.4], "float32")])
    weights = np.array([[-1.0, 1.0], [0.02, -0.02]], "float32") * 20 * confidence_scale
    head.set_weights([weights, np.zeros(2, "float32")])
    return model


def patch_image(rng, top, left):
    image = rng.uniform(0, 0.3, (SIZE, SIZE, 1)).astype("float32")
    image[top:top + PATCH, left:left + PATCH] = 1.0
    return image


def test_activations_equal_hand_built_sub_models(small_cnn):
    x = np.random.default_rng(0).normal(size=(5, 12, 12, 3)).astype("float32")
    probe = ActivationProbe(small_cnn)
    for layer in small_cnn.layers[1:]:
        expected = keras.Model(small_cnn.inputs[0], layer.output)(x, training=False)
        np.testing.assert_allclose(probe.activations(x, layer.name), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_probe_is_cached_and_follows_weight_changes(small_cnn):
    probe = probe_for(small_cnn)
    assert probe_for(small_cnn) is probe
    x = np.ones((12, 12, 3), "float32")
    before = activations(small_cnn, x, "conv1")
    assert before.shape == (1, 10, 10, 4)
    assert probe._probe("conv1") is probe._probe("conv1")
    conv = small_cnn.get_layer("conv1")
    saved = conv.get_weights()
    try:
        conv.set_weights([w * 2 for w in saved])
        after = activations(small_cnn, x, "conv1")
    finally:
        conv.set_weights(saved)
    np.testing.assert_allclose(after, before * 2, rtol=1e-5, atol=1e-6)


def test_bad_layer_and_bad_input_are_explained(small_cnn):
    with pytest.raises(InspectError, match="no layer named 'nope'.*conv1"):
        activations(small_cnn, np.zeros((12, 12, 3)), "nope")
    with pytest.raises(InspectError, match="does not fit the model input"):
        activations(small_cnn, np.zeros((10, 10, 3)), "conv1")


def test_channel_stats_per_channel():
    activation = np.stack([np.zeros((4, 4)), np.arange(16.0).reshape(4, 4)], axis=-1)
    stats = channel_stats(activation)
    np.testing.assert_allclose(stats["mean"], [0, 7.5])
    np.testing.assert_allclose(stats["max"], [0, 15])
    np.testing.assert_allclose(stats["zero_fraction"], [1, 1 / 16])
    assert channel_stats(np.array([1.0, -2.0]))["min"].tolist() == [1.0, -2.0]


@pytest.mark.parametrize("layer", ["detect", "pool"])
def test_grad_cam_peaks_inside_the_bright_patch(layer):
    model = patch_model()
    rng = np.random.default_rng(3)
    corners = [(1, 2), (10, 9), (6, 11), (11, 1)]
    images = np.stack([patch_image(rng, top, left) for top, left in corners])
    result = grad_cam(model, images, layer, class_index=1)
    assert result.heatmaps.shape == (len(corners), SIZE, SIZE)
    assert result.class_indices.tolist() == [1] * len(corners)
    for heatmap, (top, left) in zip(result.heatmaps, corners):
        inside = np.zeros((SIZE, SIZE), bool)
        inside[top:top + PATCH, left:left + PATCH] = True
        peak = np.unravel_index(heatmap.argmax(), heatmap.shape)
        grown = np.zeros_like(inside)
        grown[max(top - 1, 0):top + PATCH + 1, max(left - 1, 0):left + PATCH + 1] = True
        assert grown[peak], f"peak {peak} outside patch at {(top, left)}"
        assert heatmap[inside].mean() > 3 * heatmap[~grown].mean()
        assert heatmap.max() == pytest.approx(1.0)


def test_grad_cam_uses_logits_so_saturated_predictions_still_explain():
    model = patch_model(confidence_scale=200)  # the softmax output rounds to exactly 1.0
    image = patch_image(np.random.default_rng(4), 5, 5)
    result = grad_cam(model, image, "detect")
    assert result.outputs[0, 1] == 1.0
    assert result.class_indices.tolist() == [1]
    assert result.heatmaps[0].max() == pytest.approx(1.0)


def test_gradient_saliency_highlights_the_patch():
    model = patch_model()
    image = patch_image(np.random.default_rng(5), 8, 3)
    heatmap = gradient_saliency(model, image, class_index=1).heatmaps[0]
    assert heatmap.shape == (SIZE, SIZE)
    inside = np.zeros((SIZE, SIZE), bool)
    inside[7:13, 2:8] = True
    assert heatmap[inside].mean() > 10 * heatmap[~inside].mean()


def test_grad_cam_refuses_layers_without_spatial_output():
    model = patch_model()
    assert spatial_layers(model) == ["detect", "pool"]
    assert default_cam_layer(model) == "pool"
    with pytest.raises(InspectError, match=r"'gap' outputs \(2,\) with no spatial axes.*detect, pool"):
        grad_cam(model, np.zeros((SIZE, SIZE, 1)), "gap")
    with pytest.raises(InspectError, match="class index 2 is out of range"):
        grad_cam(model, np.zeros((SIZE, SIZE, 1)), "detect", class_index=2)


def test_predict_gives_probabilities_and_heatmap():
    model = patch_model()
    rng = np.random.default_rng(6)
    assert predict(model, rng.uniform(0, 0.3, (SIZE, SIZE, 1)), ["plain", "patch"]).class_name == "plain"
    prediction = predict(model, patch_image(rng, 2, 2), class_names=["plain", "patch"])
    assert prediction.class_name == "patch"
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert prediction.confidence == pytest.approx(prediction.probabilities.max())
    assert prediction.layer == "pool" and prediction.heatmap.shape == (SIZE, SIZE)


def test_predict_binary_sigmoid_model_without_conv_layers():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("out").set_weights([np.array([[1.0], [0.0], [0.0]], "float32"), np.zeros(1, "float32")])
    prediction = predict(model, np.array([-2.0, 0, 0]))
    p = 1 / (1 + np.exp(2.0))
    np.testing.assert_allclose(prediction.probabilities, [1 - p, p], rtol=1e-5)
    assert prediction.class_index == 0 and prediction.heatmap is None and prediction.layer is None


def test_saliency_of_a_sigmoid_model_explains_the_predicted_class():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("out").set_weights([np.array([[1.0], [-1.0], [0.0]], "float32"), np.zeros(1, "float32")])
    samples = np.array([[2.0, 0, 0], [-2.0, 0, 0]], "float32")
    result = gradient_saliency(model, samples)
    assert list(result.class_indices) == [1, 0]  # the positive class for p > 0.5
    np.testing.assert_allclose(result.heatmaps, [[1.0, 1.0, 0.0]] * 2, atol=1e-6)  # |weights|, peak 1
    assert list(gradient_saliency(model, samples, class_index=1).class_indices) == [1, 1]


def test_filter_images_rgb_first_layer_and_per_input_channel(small_cnn):
    kernel = np.asarray(small_cnn.get_layer("conv1").kernel)
    assert conv_kernel(small_cnn, "conv1").shape == (3, 3, 3, 4)
    rgb = filter_images(small_cnn, "conv1")
    assert rgb.shape == (4, 3, 3, 3)
    expected = (kernel - kernel.min()) / (kernel.max() - kernel.min())
    np.testing.assert_allclose(rgb, expected.transpose(3, 0, 1, 2), rtol=1e-6)
    grey = filter_images(small_cnn, "conv1", input_channel=2)
    assert grey.shape == (4, 3, 3)
    assert grey.min() == 0 and grey.max() == 1
    with pytest.raises(InspectError, match="3 input channels"):
        filter_images(small_cnn, "conv1", input_channel=3)
    with pytest.raises(InspectError, match="no 2-D convolution kernel"):
        filter_images(small_cnn, "head")


def test_live_probe_snapshot_round_trip(tmp_path):
    from studio.core.inspect.live import load_probe_snapshot, probe_snapshot, save_probe_snapshot

    model = patch_model()
    rng = np.random.default_rng(8)
    samples = np.stack([patch_image(rng, 1, 1), rng.uniform(0, 0.3, (SIZE, SIZE, 1))])
    snapshot = probe_snapshot(model, samples, "detect")
    np.testing.assert_allclose(snapshot["activations"], activations(model, samples, "detect"))
    np.testing.assert_allclose(snapshot["heatmaps"], grad_cam(model, samples, "pool").heatmaps)
    assert snapshot["classes"].tolist() == [1, 0]
    path = tmp_path / "probes.npz"
    save_probe_snapshot(path, snapshot)
    loaded = load_probe_snapshot(path)
    assert sorted(loaded) == sorted(snapshot)
    np.testing.assert_array_equal(loaded["heatmaps"], snapshot["heatmaps"])
    with pytest.raises(InspectError, match="between 1 and 8"):
        probe_snapshot(model, np.zeros((9, SIZE, SIZE, 1)), "detect")
    (tmp_path / "bad.npz").write_text("nope")
    with pytest.raises(InspectError, match="not a readable probe snapshot"):
        load_probe_snapshot(tmp_path / "bad.npz")


def test_worker_threads_share_the_caches_safely():
    from concurrent.futures import ThreadPoolExecutor

    model = patch_model()
    images = np.stack([patch_image(np.random.default_rng(seed), seed, seed) for seed in range(4)])
    with ThreadPoolExecutor(4) as pool:
        maps = list(pool.map(lambda i: activations(model, images[i], "detect")[0], range(4)))
        cams = list(pool.map(lambda i: grad_cam(model, images[i], "detect").heatmaps[0], range(4)))
    np.testing.assert_allclose(np.stack(maps), activations(model, images, "detect"), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.stack(cams), grad_cam(model, images, "detect").heatmaps, rtol=1e-5, atol=1e-6)


def test_hirescam_equals_grad_cam_when_the_layer_feeds_global_pooling():
    model = patch_model()
    image = patch_image(np.random.default_rng(7), 4, 6)
    plain = grad_cam(model, image, "pool", class_index=1).heatmaps
    per_position = grad_cam(model, image, "pool", class_index=1, per_position=True).heatmaps
    np.testing.assert_allclose(per_position, plain, atol=1e-5)


def test_hirescam_explains_a_flatten_head_where_grad_cam_cancels_out():
    inputs = keras.Input((4, 4, 1))
    features = keras.layers.Conv2D(1, 1, use_bias=False, name="feat")(inputs)
    head = keras.layers.Dense(2, activation="softmax", name="head")
    model = keras.Model(inputs, head(keras.layers.Flatten()(features)))
    model.get_layer("feat").set_weights([np.ones((1, 1, 1, 1), "float32")])
    weights = np.zeros((16, 2), "float32")
    weights[0, 1], weights[15, 1] = 1.0, -1.0  # averaged over positions, class 1's gradient is zero
    head.set_weights([weights, np.zeros(2, "float32")])
    image = np.zeros((4, 4, 1), "float32")
    image[0, 0] = 1.0
    assert grad_cam(model, image, "feat", class_index=1).heatmaps.max() == 0
    heatmap = grad_cam(model, image, "feat", class_index=1, per_position=True).heatmaps[0]
    assert np.unravel_index(heatmap.argmax(), heatmap.shape) == (0, 0)
