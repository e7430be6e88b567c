"""keras.datasets images read only from Keras's own download cache - never from the network.

The files are looked up where ``keras.datasets.*.load_data()`` leaves them
(``$KERAS_HOME/datasets`` or ``~/.keras/datasets``); a missing file raises ``DataError`` naming the
exact path and the address to download it from, so an offline machine never hangs.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.raw import RawData
from studio.core.data.source_options import source_option

_KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_CIFAR = {
    "cifar10": ("cifar-10-batches-py", "cifar-10-python.tar.gz",
                [f"data_batch_{i}" for i in range(1, 6)], "test_batch", b"labels"),
    "cifar100": ("cifar-100-python", "cifar-100-python.tar.gz", ["train"], "test", b"fine_labels"),
}
_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}

# Only what rebuilding a numpy array needs: a tampered pickle cannot run code.
_PICKLE_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
}


def keras_datasets_dir() -> Path:
    """Where Keras caches downloaded datasets (honours ``KERAS_HOME``, read at call time)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def load_keras(spec: dict) -> RawData:
    """MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 with the official test split kept as ``test``."""
    name = source_option(spec, "keras", "name")
    root = keras_datasets_dir()
    names = _NAMES.get(name, [])
    if name == "mnist":
        (x, y), test = _mnist(root / "mnist.npz")
    elif name == "fashion_mnist":
        (x, y), test = _fashion(root / "fashion-mnist")
    else:
        (x, y), test, names = _cifar(root, name)
    if x.ndim == 3:
        x, test = x[..., None], (test[0][..., None], test[1])
    class_names = names or [str(i) for i in range(int(y.max()) + 1)]
    return RawData(
        x=x.astype(np.float32),
        y=y.astype(np.int32).reshape(-1),
        task="classification",
        class_names=class_names,
        test=(test[0].astype(np.float32), test[1].astype(np.int32).reshape(-1)),
        report=[f"{name}: the official test set ({len(test[1])} images) is the test split"],
    )


def _missing(name: str, expected: Path, url: str, how: str) -> DataError:
    return DataError(
        f"{name} is not in the Keras cache: expected {expected}. Download {url} and {how} "
        "(set KERAS_HOME to use another cache folder); the studio never downloads by itself"
    )


def _mnist(path: Path):
    if not path.is_file():
        raise _missing("mnist", path, _KERAS_URL + "mnist.npz", f"save it as {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a valid mnist.npz ({exc}); delete it and download it again") from exc


def _fashion(folder: Path):
    arrays = []
    for fname in _FASHION_FILES:
        path = folder / fname
        if not path.is_file():
            raise _missing("fashion_mnist", path, _KERAS_URL + fname, f"save it in {folder}")
        try:
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        except (OSError, EOFError) as exc:
            raise DataError(f"{path} is corrupt ({exc}); delete it and download it again") from exc
        if "images" in fname:
            arrays.append(np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28))
        else:
            arrays.append(np.frombuffer(raw, np.uint8, offset=8))
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _cifar(root: Path, name: str):
    inner, archive_name, train_files, test_file, label_key = _CIFAR[name]
    read = _cifar_reader(root, name, inner, archive_name)
    train = [_unpickle(read(f), f) for f in train_files]
    x = np.concatenate([batch[b"data"] for batch in train])
    y = np.concatenate([np.asarray(batch[label_key]) for batch in train])
    test = _unpickle(read(test_file), test_file)
    names = _NAMES.get(name, [])
    if name == "cifar100":
        meta = _unpickle(read("meta"), "meta")
        names = [n.decode() for n in meta.get(b"fine_label_names", [])]

    def to_images(data):
        return np.asarray(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)

    return (to_images(x), y), (to_images(test[b"data"]), np.asarray(test[label_key])), names


def _cifar_reader(root: Path, name: str, inner: str, archive_name: str):
    """A function reading one member file, from the extracted folder or the downloaded archive."""
    for folder in (root / f"{inner}-target" / inner, root / inner):  # Keras 3 layout, then older
        if folder.is_dir():
            return lambda member: _read_file(folder / member)
    for archive in (root / archive_name, root / f"{inner}-target_archive"):
        if archive.is_file():
            return lambda member: _read_tar_member(archive, f"{inner}/{member}")
    url = "https://www.cs.toronto.edu/~kriz/" + archive_name
    expected = root / f"{inner}-target" / inner
    raise _missing(name, expected, url, f"extract it into {expected.parent} (or save the archive as {root / archive_name})")


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror}); extract the archive again") from exc


def _read_tar_member(archive: Path, member: str) -> bytes:
    try:
        with tarfile.open(archive, "r:*") as tar:
            handle = tar.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except (OSError, tarfile.TarError, KeyError, EOFError) as exc:
        raise DataError(f"{archive} is incomplete or corrupt (cannot read {member}); download it again") from exc


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _PICKLE_ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle(raw: bytes, what: str) -> dict:
    try:
        data = _RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DataError(f"CIFAR file {what!r} is corrupt or not a CIFAR batch ({exc}); download it again") from exc
    if not isinstance(data, dict) or b"data" not in data and what != "meta":
        raise DataError(f"CIFAR file {what!r} has no image data; download it again")
    return data
