"""ChannelShuffle and MaxUnpooling2D: what they compute, their shape checks, the safe loader and export."""

import numpy as np
import pytest

from studio.core.graph.builder import Builder
from studio.core.graph.infer import analyze
from studio.core.graph.keras_io import load_keras_file, to_keras


def segnet_step(height=8, width=8):
    """Input -> MaxPooling2D -> Conv2D -> MaxUnpooling2D(conv, input) -> ChannelShuffle."""
    b = Builder()
    x = b.add("Input", shape=[height, width, 4])
    pooled = b.add("MaxPooling2D", x)
    features = b.add("Conv2D", pooled, filters=4, padding="same")
    unpooled = b.add("MaxUnpooling2D", features, x)
    b.add("ChannelShuffle", unpooled, groups=2)
    return b.graph


def test_channel_shuffle_interleaves_the_groups():
    from studio.core.graph.custom_layers import ChannelShuffle

    x = np.arange(12, dtype="float32").reshape(1, 2, 6)
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(2)(x))[0, 0], [0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(3)(x))[0, 1], [6, 8, 10, 7, 9, 11])


def unpool_reference(values, before, ph, pw):
    """Each value at its window's first maximum in ``before``; uncovered rows/columns stay zero."""
    out = np.zeros_like(before)
    for b, i, j, c in np.ndindex(values.shape):
        window = before[b, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw, c]
        r, s = np.unravel_index(np.argmax(window), window.shape)
        out[b, i * ph + r, j * pw + s, c] = values[b, i, j, c]
    return out


@pytest.mark.parametrize("size, pool", [((6, 4), (2, 2)), ((5, 7), (2, 3))])
def test_max_unpooling_puts_each_value_where_its_window_maximum_was(size, pool):
    from studio.core.graph.custom_layers import MaxUnpooling2D

    rng = np.random.default_rng(1)
    before = rng.integers(0, 3, size=(2, *size, 3)).astype("float32")  # small integers: ties happen
    rows, cols = size[0] // pool[0], size[1] // pool[1]
    values = rng.normal(size=(2, rows, cols, 3)).astype("float32")
    result = np.asarray(MaxUnpooling2D(pool)([values, before]))
    np.testing.assert_array_equal(result, unpool_reference(values, before, *pool))


def test_unpooling_the_pooled_tensor_keeps_exactly_the_maxima():
    import keras

    from studio.core.graph.custom_layers import MaxUnpooling2D

    before = np.random.default_rng(2).normal(size=(1, 4, 4, 2)).astype("float32")
    pooled = keras.layers.MaxPooling2D()(before)
    result = np.asarray(MaxUnpooling2D()([pooled, before]))
    assert np.count_nonzero(result) == 8
    np.testing.assert_array_equal(result[result != 0], before[result != 0])


def test_shapes_are_inferred_and_mismatches_named():
    analysis = analyze(segnet_step())
    assert analysis.ok and [info.output_shape for info in analysis.nodes.values()][-2:] == [(8, 8, 4)] * 2
    graph = segnet_step()
    node = next(n for n in graph.nodes.values() if n.type == "MaxUnpooling2D")
    graph.set_param(node.id, "pool_size", [4, 4])
    assert "must have the shape (2, 2, 4)" in " ".join(analyze(graph).nodes[node.id].errors)
    graph.set_param(node.id, "pool_size", [2, 2])
    shuffle = next(n for n in graph.nodes.values() if n.type == "ChannelShuffle")
    graph.set_param(shuffle.id, "groups", 3)
    assert "4 channels do not split into 3 equal groups" in " ".join(analyze(graph).nodes[shuffle.id].errors)


def test_a_model_using_them_saves_and_loads_through_the_safe_loader(tmp_path):
    graph = segnet_step()
    model = to_keras(graph)
    path = tmp_path / "segnet_step.keras"
    model.save(path)
    imported, loaded = load_keras_file(path, with_model=True)
    assert sorted(n.type for n in imported.nodes.values()) == sorted(n.type for n in graph.nodes.values())
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(to_keras(imported)(x)).shape, (2, 8, 8, 4))


@pytest.mark.slow
@pytest.mark.parametrize("format", ["tflite", "onnx", "python"])
def test_formats_express_both_layers(tmp_path, format):
    from studio.core.export.exporter import export_model

    result = export_model(segnet_step(), format, tmp_path / f"m.{format}", latency_repeats=1)
    assert result.ok and result.max_abs_diff < 1e-4
