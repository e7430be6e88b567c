"""Text and sequence sources: folders, CSV text, corpora, Keras text cache, built-ins, NPZ sequences."""

import sys

import numpy as np
import pytest

from studio.core.data import DataError, load_dataset
from studio.core.data.tokenize import dataset_vocabulary, fit_vocabulary

SPLIT = {"train": 0.6, "val": 0.2, "test": 0.2}


def _folder(tmp_path, docs):
    for label, texts in docs.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            data = text if isinstance(text, bytes) else text.encode()
            (tmp_path / label / f"{i}.txt").write_bytes(data)
    return tmp_path


def test_text_folder_tokenizes_with_a_training_vocabulary_and_reports(tmp_path):
    good = [f"a good happy film number {i}" for i in range(10)]
    bad = [f"a bad sad film number {i} " + "very " * 30 for i in range(10)]
    root = _folder(tmp_path, {"neg": bad + ["   "], "pos": good + ["x" * 200_000]})
    data = load_dataset({"source": "text_folder", "path": str(root), "max_length": 12, "max_tokens": 12,
                         "split": SPLIT})
    assert data.class_names == ["neg", "pos"] and data.task == "binary"
    assert data.x_train.shape[1:] == (12,) and data.x_train.dtype == np.int32
    assert data.x_train.max() < 12 and data.normalization["mode"] == "none"
    report = "\n".join(data.report)
    assert "skipped empty document neg/10.txt" in report
    assert "cut to its first 100000 characters" in report
    assert "vocabulary overflow" in report and "truncated" in report
    vocabulary = dataset_vocabulary(data)
    assert len(vocabulary) == 12 and vocabulary.tokens[:2] == ["", "[UNK]"]
    assert "film" in vocabulary.tokens  # frequent words are kept


def test_non_utf8_text_is_skipped_naming_the_file(tmp_path):
    root = _folder(tmp_path, {"a": [f"fine text {i}" for i in range(5)],
                              "b": [b"caf\xe9 latin-1"] + [f"good words {i}" for i in range(5)]})
    data = load_dataset({"source": "text_folder", "path": str(root), "split": SPLIT})
    assert "skipped b/0.txt is not UTF-8 text (byte 3); save it as UTF-8" in data.report
    assert sum(len(y) for y in (data.y_train, data.y_val, data.y_test)) == 10


def test_csv_text_column(tmp_path):
    rows = ["review,stars,label"] + [f'"great, lovely {i}",5,pos' for i in range(8)] + \
           [f'"awful {i}",1,neg' for i in range(8)] + [",3,neg"]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows))
    data = load_dataset({"source": "text_csv", "path": str(path), "text": "review", "target": "label",
                         "max_length": 4, "split": SPLIT})
    assert data.class_names == ["neg", "pos"] and data.x_train.shape[1:] == (4,)
    assert any("skipped row 18: empty text" in line for line in data.report)
    vocabulary = dataset_vocabulary(data)
    pos = data.x_train[data.y_train == 1][0]
    assert vocabulary.decode(pos).startswith("great lovely")


def test_the_vocabulary_is_textvectorizations_without_tensorflow(monkeypatch):
    texts = ["The cat sat. The cat ran!", "a dog, a cat; the END", "zebra Zebra zebra"]
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")  # TextVectorization itself needs it; fit_vocabulary does not
    keras_tokens = {}
    for level in ("word", "char"):
        layer = keras.layers.TextVectorization(
            split="character" if level == "char" else "whitespace",
            standardize=None if level == "char" else "lower_and_strip_punctuation")
        layer.adapt(np.asarray(texts, dtype=object))
        keras_tokens[level] = [str(token) for token in layer.get_vocabulary()]
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # the same vocabulary where TF cannot import
    for level in ("word", "char"):
        assert fit_vocabulary(texts, level, None).tokens == keras_tokens[level]
    assert len(fit_vocabulary(texts, "word", 4)) == 4


def test_corpus_windows_predict_the_next_token(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("hello world, hello there.\n" * 20)
    data = load_dataset({"source": "corpus", "path": str(path), "max_length": 16, "split": SPLIT})
    assert data.x_train.shape[1:] == (16,) and data.y_train.shape[1:] == (16,)
    assert np.array_equal(data.x_train[:, 1:], data.y_train[:, :-1])
    assert data.num_classes == len(dataset_vocabulary(data)) and data.class_counts()
    with pytest.raises(DataError, match="corpus is empty"):
        (tmp_path / "empty.txt").write_text("  \n")
        load_dataset({"source": "corpus", "path": str(tmp_path / "empty.txt")})


def test_keras_text_reads_the_cache_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError, match="imdb is not in the Keras cache.*imdb.npz"):
        load_dataset({"source": "keras_text", "name": "imdb"})
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)

    def texts(n):
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = [int(v) for v in rng.integers(1, 50, rng.integers(3, 30))]  # as Keras stores them
        return out

    np.savez(tmp_path / "datasets" / "imdb.npz", x_train=texts(40), y_train=np.arange(40) % 2,
             x_test=texts(10), y_test=np.arange(10) % 2)
    data = load_dataset({"source": "keras_text", "name": "imdb", "max_tokens": 20, "max_length": 10})
    assert data.x_train.shape[1:] == (10,) and data.x_train.max() < 20 and len(data.x_test) == 10
    assert data.class_names == ["negative", "positive"]
    assert any("truncated" in line for line in data.report)


@pytest.mark.parametrize("name", ["signals", "signals_steps", "reverse", "dates", "grammar"])
def test_builtin_sequences_are_seeded(name):
    spec = {"source": "sequences", "name": name, "samples": 60}
    first, again = load_dataset(spec), load_dataset(spec)
    assert first.fingerprint() == again.fingerprint()
    assert load_dataset({**spec, "seed": 1}).fingerprint() != first.fingerprint()
    if name.startswith("signals"):
        assert first.task == "regression" and first.x_train.shape[1:] == (48, 1)
        assert first.y_train.shape[1:] == ((48, 1) if name == "signals_steps" else (1,))
    else:
        assert first.y_train.ndim == 2 and first.num_classes == len(dataset_vocabulary(first))
    if name == "reverse":
        vocabulary = dataset_vocabulary(first)
        assert vocabulary.decode(first.y_train[0]) == vocabulary.decode(first.x_train[0])[::-1]
    if name == "dates":
        vocabulary = dataset_vocabulary(first)
        month, day, year = vocabulary.decode(first.x_train[0]).split("/")
        assert vocabulary.decode(first.y_train[0]) == f"{year}-{month}-{day}"


def test_npz_sequences_are_not_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 12, 3)).astype("float32")
    np.savez(tmp_path / "per_sample.npz", x=x, y=np.arange(30) % 3)
    np.savez(tmp_path / "per_step.npz", x=x, y=(x[..., 0] > 0).astype("int64"))
    np.savez(tmp_path / "values.npz", x=x, y=x[..., :1] * 2)
    sample = load_dataset({"source": "npz", "path": str(tmp_path / "per_sample.npz"), "split": SPLIT})
    assert sample.input_shape == (12, 3) and sample.task == "classification" and not sample.is_image
    step = load_dataset({"source": "npz", "path": str(tmp_path / "per_step.npz"), "split": SPLIT})
    assert step.y_train.shape[1:] == (12,) and step.num_classes == 2
    values = load_dataset({"source": "npz", "path": str(tmp_path / "values.npz"), "split": SPLIT})
    assert values.task == "regression" and values.y_train.shape[1:] == (12, 1)
    assert np.allclose(values.x_train[..., :1] * 2, values.y_train)  # inputs are not rescaled


def test_grammar_corpus_with_the_mlm_objective_masks_15_percent():
    from studio.core.data import load_dataset
    from studio.core.data.text import MASK_TOKEN

    plain = load_dataset({"source": "sequences", "name": "grammar", "samples": 200, "max_length": 32, "seed": 1})
    mlm = load_dataset({"source": "sequences", "name": "grammar", "samples": 200, "max_length": 32, "seed": 1,
                        "objective": "mlm"})
    assert mlm.class_names == [*plain.class_names, MASK_TOKEN] and mlm.normalization["objective"] == "mlm"
    x, y = mlm.x_train, mlm.y_train
    chosen = y != 0
    assert 0.12 < chosen.mean() < 0.18 and chosen.any(axis=1).all()
    mask_id = len(mlm.class_names) - 1
    assert 0.7 < (x[chosen] == mask_id).mean() < 0.9 and not (x[~chosen] == mask_id).any()
    assert set(np.unique(y[chosen])) <= set(np.unique(plain.x_train))  # targets: the hidden characters
