"""keras.datasets read only from the Keras cache (KERAS_HOME), with fake files in the real formats."""

import gzip
import io
import pickle
import socket
import tarfile

import numpy as np
import pytest

from studio.core.data import DataError, load_dataset

RNG = np.random.default_rng(0)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("the data loader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def labels(count, classes=10):
    return (np.arange(count) % classes).astype(np.uint8)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("mnist", "datasets/mnist.npz. Download https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
        ("fashion_mnist", "datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
        ("cifar10", "datasets/cifar-10-batches-py-target/cifar-10-batches-py. Download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
        ("cifar100", "cifar-100-python.tar.gz"),
    ],
)
def test_missing_cache_file_names_the_exact_path(keras_home, name, expected):
    with pytest.raises(DataError) as info:
        load_dataset({"source": "keras", "name": name})
    message = str(info.value)
    assert str(keras_home.parent) in message and expected in message
    assert "never downloads" in message


def test_mnist_from_cache_keeps_the_official_test_split(keras_home):
    np.savez(keras_home / "mnist.npz",
             x_train=RNG.integers(0, 255, (100, 28, 28), dtype=np.uint8), y_train=labels(100),
             x_test=RNG.integers(0, 255, (30, 28, 28), dtype=np.uint8), y_test=labels(30))
    data = load_dataset({"source": "keras", "name": "mnist", "split": {"train": 0.8, "val": 0.2, "test": 0.0}})
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (80, 20, 30)
    assert "official test set (30 images)" in data.report[0]


def test_corrupt_mnist_file(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DataError, match="not a valid mnist.npz"):
        load_dataset({"source": "keras", "name": "mnist"})


def test_fashion_mnist_from_gzip_idx_files(keras_home):
    folder = keras_home / "fashion-mnist"
    folder.mkdir()
    for prefix, count in (("train", 60), ("t10k", 20)):
        images = RNG.integers(0, 255, (count, 28, 28), dtype=np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0" * 16 + images.tobytes()))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0" * 8 + labels(count).tobytes()))
    data = load_dataset({"source": "keras", "name": "fashion_mnist", "normalize": "none"})
    assert data.class_names[9] == "Ankle boot" and len(data.x_test) == 20
    assert data.x_test.shape == (20, 28, 28, 1) and data.x_test.max() > 200


def cifar_batch(count, label_key=b"labels", classes=10):
    return pickle.dumps({b"data": RNG.integers(0, 255, (count, 3072), dtype=np.uint8),
                         label_key: [int(v) for v in labels(count, classes)]}, protocol=2)


def test_cifar10_from_the_extracted_folder(keras_home):
    folder = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(cifar_batch(20))
    (folder / "test_batch").write_bytes(cifar_batch(20))
    data = load_dataset({"source": "keras", "name": "cifar10", "max_samples": 50})
    assert data.input_shape == (32, 32, 3) and data.class_names[0] == "airplane"
    assert len(data.x_train) + len(data.x_val) == 50


def test_cifar100_from_the_downloaded_archive(keras_home):
    members = {
        "cifar-100-python/train": cifar_batch(200, b"fine_labels", 100),
        "cifar-100-python/test": cifar_batch(100, b"fine_labels", 100),
        "cifar-100-python/meta": pickle.dumps({b"fine_label_names": [f"c{i}".encode() for i in range(100)]}, protocol=2),
    }
    with tarfile.open(keras_home / "cifar-100-python.tar.gz", "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    data = load_dataset({"source": "keras", "name": "cifar100", "split": {"train": 0.5, "val": 0.5}})
    assert data.num_classes == 100 and data.class_names[42] == "c42"
    assert len(data.x_test) == 100


def test_pickles_that_would_run_code_are_refused(keras_home):
    folder = keras_home / "cifar-10-batches-py"
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(DataError, match="corrupt or not a CIFAR batch.*refusing to load (__builtin__|builtins).print"):
        load_dataset({"source": "keras", "name": "cifar10"})


def test_unknown_keras_dataset(keras_home):
    with pytest.raises(DataError, match="keras: unknown name .*: choose one of mnist, fashion_mnist, cifar10, cifar100"):
        load_dataset({"source": "keras", "name": "imagenet"})
