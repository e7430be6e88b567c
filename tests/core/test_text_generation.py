"""Text generation with a tiny untrained causal model: seeded, top-k, temperature 0, sliding window."""

import numpy as np
import pytest

from studio.core.data.tokenize import PAD, UNKNOWN, Vocabulary
from studio.core.generative import GenerativeError
from studio.core.generative.text import generate, next_token

VOCAB = Vocabulary([PAD, UNKNOWN, *"abcde "], "char")


def _model(window=6):
    from studio.core.graph.blocks import encoder_block
    from studio.core.graph.builder import Builder
    from studio.core.graph.keras_io import to_keras

    import keras

    keras.utils.set_random_seed(0)
    b = Builder()
    x = b.add("Input", shape=[window], dtype="int32")
    x = b.add("PositionalEmbedding", b.add("Embedding", x, input_dim=len(VOCAB), output_dim=8), sequence_length=window)
    x = encoder_block(b, x, heads=2, key_dim=4, ff=8, width=8, causal=True)
    b.add("Dense", x, units=len(VOCAB))
    return to_keras(b.graph)


def test_next_token_top_k_and_temperature():
    rng = np.random.default_rng(0)
    scores = np.array([9.0, 8.0, 1.0, 3.0, 2.9, -5.0])
    assert next_token(scores, 0.0, 0, rng) == 3  # argmax, never padding or unknown
    picks = {next_token(scores, 1.0, 2, rng) for _ in range(200)}
    assert picks == {3, 4}
    assert next_token(np.array([0.5, 0.1, 0.1, 0.8]), 0.0, 0, rng, logits=False) == 3


def test_generate_is_seeded_and_slides_past_the_window():
    model = _model()
    text = generate(model, VOCAB, "abc", 10, temperature=1.0, top_k=3, seed=4)
    assert text.startswith("abc") and len(text) == 13  # longer than the 6-step window
    assert generate(model, VOCAB, "abc", 10, temperature=1.0, top_k=3, seed=4) == text
    assert {generate(model, VOCAB, "abc", 10, seed=s) for s in range(5)} != {text}
    greedy = generate(model, VOCAB, "ab", 4, temperature=0)
    assert greedy == generate(model, VOCAB, "ab", 4, temperature=0, seed=9)
    with pytest.raises(GenerativeError, match="between 0 and"):
        generate(model, VOCAB, "a", -1)


def test_a_batch_of_prompts_writes_what_each_prompt_writes_alone():
    from studio.core.generative.text import generate_many

    model = _model()
    texts = generate_many(model, VOCAB, ["abc", "d", "abcdeab"], 8, temperature=1.0, top_k=3, seeds=[4, 1, 2])
    assert texts == [generate(model, VOCAB, p, 8, 1.0, 3, s) for p, s in (("abc", 4), ("d", 1), ("abcdeab", 2))]


def test_a_language_model_run_is_loaded_by_the_safe_loader(tmp_path):
    import keras

    from studio.core.generative.text import load_language_model

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs))
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "model.keras")
    with pytest.raises(GenerativeError, match="Lambda"):
        load_language_model(tmp_path / "run")
