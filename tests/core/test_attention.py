"""Attention maps per head and token saliency on the tiny GPT template (untrained, seeded)."""

import numpy as np
import pytest

from studio.core.inspect import InspectError
from studio.core.inspect.attention import (
    attention_layers,
    attention_maps,
    attention_picture,
    explained_position,
    token_saliency,
)


@pytest.fixture(scope="module")
def gpt():
    import keras

    from studio.core.graph.keras_io import to_keras
    from studio.core.graph.templates import load_template

    keras.utils.set_random_seed(0)
    return to_keras(load_template("tiny_gpt").graph)


def _tokens(filled=40):
    x = np.random.default_rng(0).integers(2, 32, 64).astype("int32")
    x[filled:] = 0
    return x


def test_maps_per_head_are_causal_distributions(gpt):
    assert attention_layers(gpt) == ["multi_head_attention", "multi_head_attention_1"]
    maps = attention_maps(gpt, _tokens(), "multi_head_attention_1")
    assert maps.layer == "multi_head_attention_1" and maps.scores.shape == (4, 64, 64)
    np.testing.assert_allclose(maps.scores.sum(-1), 1.0, atol=1e-4)
    assert np.all(np.triu(maps.scores, k=1) == 0)  # causal: no query looks ahead
    assert not np.allclose(maps.scores[0], maps.scores[1])  # heads differ
    first = attention_maps(gpt, _tokens()[None]).scores
    assert not np.allclose(first, maps.scores)  # the default is the first layer, which sees other inputs
    picture = attention_picture(maps, np.linspace(0, 1, 64))
    assert picture.dtype == np.uint8 and picture.shape[1] > 4 * 64 * 4 and picture.shape[2] == 3


def test_saliency_explains_the_last_token_and_ignores_the_future(gpt):
    x = _tokens(filled=40)
    assert explained_position(x) == 39
    saliency, target = token_saliency(gpt, x)
    assert saliency.shape == (64,) and saliency.max() == pytest.approx(1.0)
    assert np.all(saliency[40:] == 0)  # causal: later tokens cannot change step 39's prediction
    assert saliency[:40].min() > 0
    scores = np.asarray(gpt.predict_on_batch(x[None]))[0, 39]
    assert target == int(np.argmax(scores))
    early, _ = token_saliency(gpt, x, position=10)
    assert np.all(early[11:] == 0) and early[:11].max() == pytest.approx(1.0)


def test_bad_requests_say_what_to_do(gpt):
    with pytest.raises(InspectError, match="not attention; choose one of: multi_head_attention"):
        attention_maps(gpt, _tokens(), "dense")
    with pytest.raises(InspectError, match="expects"):
        attention_maps(gpt, np.zeros(10, "int32"))
    with pytest.raises(InspectError, match="outside the sequence"):
        token_saliency(gpt, _tokens(), position=64)


def test_single_head_attention_layers_give_one_map():
    import keras

    from studio.core.graph.keras_io import to_keras
    from studio.core.graph.templates import load_template

    keras.utils.set_random_seed(0)
    model = to_keras(load_template("seq2seq_attention").graph)
    assert attention_layers(model) == ["attention"]  # a keras.layers.Attention
    maps = attention_maps(model, np.arange(1, 9, dtype="int32"))
    assert maps.layer == "attention" and maps.scores.shape == (1, 8, 8)
    np.testing.assert_allclose(maps.scores.sum(-1), 1.0, atol=1e-4)
