"""Image folders: pre-scan, bad files reported and left out, mixed modes and sizes converted."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.core.data import DataError, load_dataset


def save(path, image, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)


def huge_png_header(width, height) -> bytes:
    """A PNG whose header claims a huge size (the pixel data never needs to exist)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def messy_folder(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "pets"
    for i in range(4):
        save(root / "cats" / f"gray{i}.png", Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8), "L"))
        save(root / "dogs" / f"rgb{i}.jpg", Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8), "RGB"))
    rgba = np.zeros((20, 24, 4), np.uint8)
    rgba[..., 0] = 255  # red, fully transparent on the left half
    rgba[:, 12:, 3] = 255
    save(root / "cats" / "transparent.png", Image.fromarray(rgba, "RGBA"))
    save(root / "dogs" / "palette.gif", Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).convert("P"))
    save(root / "dogs" / "really_webp.jpg", Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)), "WEBP")
    (root / "cats" / "empty.png").write_bytes(b"")
    (root / "cats" / "garbage.png").write_bytes(b"this is not an image at all" * 10)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    (root / "dogs" / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (root / "dogs" / "huge.png").write_bytes(huge_png_header(10_000, 5_000))
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "loose.png").write_bytes(b"")
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "cats" / ".ipynb_checkpoints").mkdir()
    (root / "cats" / ".ipynb_checkpoints" / "gray0.png").write_bytes(b"")
    return root


def test_messy_folder_loads_good_files_and_reports_the_rest(messy_folder):
    data = load_dataset({"source": "folder", "path": str(messy_folder), "split": {"train": 0.5, "val": 0.25, "test": 0.25}})
    assert data.class_names == ["cats", "dogs"] and data.task == "binary"
    assert data.input_shape == (16, 16, 3)  # most common size; colour because some files are colour
    total = sum(len(data.split(s)[0]) for s in ("train", "val", "test"))
    assert total == 5 + 6  # cats: 4 gray + transparent; dogs: 4 rgb + palette + webp
    report = "\n".join(data.report)
    for expected in [
        "skipped cats/empty.png: empty file",
        "skipped cats/garbage.png: not a readable image",
        "skipped dogs/truncated.jpg: cannot decode",
        "skipped dogs/huge.png: too large (10000x5000",
        "skipped dogs/notes.txt: not an image file type",
        "ignored loose.png",
        "dogs/really_webp.jpg: WEBP content under a .jpg name (loaded as WEBP)",
        "resized 1 image(s) to 16x16",
        "converted to RGB: 4 L, 1 P, 1 RGBA",
    ]:
        assert expected in report
    assert ".DS_Store" not in report and ".ipynb_checkpoints" not in report


def test_transparent_pixels_become_white_and_gray_repeats_over_channels(tmp_path):
    root = tmp_path / "set"
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0], rgba[:, 4:, 3] = 255, 255
    save(root / "a" / "x.png", Image.fromarray(rgba, "RGBA"))
    save(root / "b" / "y.png", Image.fromarray(np.full((8, 8), 100, np.uint8), "L"))
    data = load_dataset({"source": "folder", "path": str(root), "split": {"train": 1.0}, "normalize": "none"})
    by_class = {data.class_names[label]: image for image, label in zip(data.x_train, data.y_train)}
    assert np.array_equal(by_class["a"][0, 0], [255, 255, 255])  # transparent -> white
    assert np.array_equal(by_class["a"][0, 7], [255, 0, 0])  # opaque red stays red
    assert np.array_equal(by_class["b"][0, 0], [100, 100, 100])


def test_grayscale_folder_and_explicit_size(tmp_path):
    root = tmp_path / "digits"
    for label in "01":
        for i in range(3):
            save(root / label / f"{i}.png", Image.fromarray(np.full((10 + i, 12, ), 50 * i, np.uint8), "L"))
    data = load_dataset({"source": "folder", "path": str(root), "image_size": [8, 8], "split": {"train": 1.0}})
    assert data.input_shape == (8, 8, 1)
    assert "resized 6 image(s) to 8x8" in "\n".join(data.report)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="has no class sub-folders"):
        load_dataset({"source": "folder", "path": str(tmp_path)})


def test_single_class_is_an_error(tmp_path):
    save(tmp_path / "only" / "a.png", Image.new("L", (8, 8)))
    with pytest.raises(DataError, match="single class sub-folder \\('only'\\)"):
        load_dataset({"source": "folder", "path": str(tmp_path)})


def test_class_without_readable_images_is_an_error(tmp_path):
    save(tmp_path / "good" / "a.png", Image.new("L", (8, 8)))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"broken")
    with pytest.raises(DataError, match="class folder 'bad' has no readable image"):
        load_dataset({"source": "folder", "path": str(tmp_path)})


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"source": "folder"}, "needs a 'path' option"),
        ({"source": "folder", "path": "/no/such/folder"}, "does not exist"),
        ({"source": "folder", "path": "PATH", "color": "sepia"}, "folder: unknown color 'sepia'"),
        ({"source": "folder", "path": "PATH", "image_size": [0, 8]}, "image_size must be"),
    ],
)
def test_bad_folder_specs(tmp_path, spec, message):
    for label in "ab":
        for i in range(4):
            save(tmp_path / label / f"{i}.png", Image.new("L", (8, 8)))
    spec = {k: str(tmp_path) if v == "PATH" else v for k, v in spec.items()}
    with pytest.raises(DataError, match=message):
        load_dataset(spec)
