"""Seeded fuzzer of data files (issue 25): byte-mutated CSV tables (read in memory and streamed),
.npz and .npy arrays, project files, image folders holding damaged images, FIFOs, links to
/dev/zero and link loops, and segmentation folders with damaged images, masks and class names. Each must load or end in one line of our own error, never a traceback."""

from __future__ import annotations

import io
import os
import random

import numpy as np
import pytest
from PIL import Image

from studio.core.data import DataError, load_dataset, tabular
from studio.core.project import ProjectError, default_project, load_project, save_project

pytestmark = pytest.mark.slow

SEED = 25
MUTANTS = 120  # per kind
INSERTS = [b",", b"\n", b'"', b"\x00", b"\xff", b";", b"nan", b"1e999", b"-", b"\r", b"\x1e"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four flips, cuts, inserts or repeats of ``data``."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        roll, at = rng.random(), rng.randrange(len(data) + 1)
        if roll < 0.3 and at < len(data):
            data[at] = rng.randrange(256)
        elif roll < 0.5:
            del data[at:]
        elif roll < 0.7:
            data[at:at] = rng.choice(INSERTS)
        elif roll < 0.85:
            data[at:at + 40] = data[at:at + 40] * rng.randint(2, 30)
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
    return bytes(data)


def _table() -> bytes:
    rows = [f"{i},{i * 0.5},{'x' if i % 3 else 'y'},{'p' if i % 2 else 'q'}" for i in range(40)]
    return ("a,b,c,label\n" + "\n".join(rows) + "\n").encode()


def _saved(save, *arrays, **named) -> bytes:
    buffer = io.BytesIO()
    save(buffer, *arrays, **named)
    return buffer.getvalue()


def _loads_or_refuses(spec: dict) -> None:
    try:
        load_dataset(spec)
    except DataError as exc:
        assert "\n" not in str(exc), str(exc)


@pytest.fixture
def rng(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return random.Random(SEED)


def test_mutated_tables_and_arrays_never_crash(tmp_path, rng, monkeypatch):
    table = _table()
    arrays = _saved(np.savez_compressed, x=np.random.default_rng(0).random((30, 4)).astype("float32"),
                    y=np.arange(30) % 3)
    inputs, labels = _saved(np.save, np.ones((30, 4), "float32")), _saved(np.save, np.arange(30) % 3)
    for i in range(MUTANTS):
        (tmp_path / f"{i}.csv").write_bytes(mutate(table, rng))
        _loads_or_refuses({"source": "csv", "path": str(tmp_path / f"{i}.csv")})
        (tmp_path / f"{i}.npz").write_bytes(mutate(arrays, rng))
        _loads_or_refuses({"source": "npz", "path": str(tmp_path / f"{i}.npz")})
        folder = tmp_path / f"npy{i}"
        folder.mkdir()
        (folder / "x.npy").write_bytes(mutate(inputs, rng))
        (folder / "y.npy").write_bytes(mutate(labels, rng) if i % 2 else labels)
        _loads_or_refuses({"source": "npy", "path": str(folder / "x.npy")})
    monkeypatch.setattr(tabular, "MAX_CSV_BYTES", 100)  # every table takes the streamed path
    for i in range(MUTANTS):
        (tmp_path / f"s{i}.csv").write_bytes(mutate(table, rng))
        _loads_or_refuses({"source": "csv", "path": str(tmp_path / f"s{i}.csv")})


def test_mutated_project_bytes_never_crash(tmp_path, rng):
    save_project(default_project(), tmp_path / "good.dlstudio")
    good = (tmp_path / "good.dlstudio").read_bytes()
    for i in range(MUTANTS):
        path = tmp_path / f"{i}.dlstudio"
        path.write_bytes(mutate(good, rng))
        try:
            load_project(path)
        except ProjectError as exc:
            assert "\n" not in str(exc)


def _special(folder, rng: random.Random) -> None:
    roll = rng.random()
    if os.name != "posix" or roll < 0.3:
        return
    if roll < 0.45:
        os.mkfifo(folder / "a" / "pipe.png")
    elif roll < 0.6:
        (folder / "a" / "zero.png").symlink_to("/dev/zero")
    elif roll < 0.75:
        (folder / "a" / "self.png").symlink_to(folder / "a" / "self.png")
    elif roll < 0.9:
        (folder / "b" / "up").symlink_to(folder)
    else:
        (folder / "b" / "dangling.png").symlink_to(folder / "nowhere")


def test_damaged_image_folders_with_special_files_never_crash(tmp_path, rng):
    formats = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "gif": "GIF"}
    for i in range(MUTANTS // 3):
        folder = tmp_path / f"images{i}"
        for label in "ab":
            (folder / label).mkdir(parents=True)
            for k in range(4):
                suffix = rng.choice(list(formats))
                data = _saved(lambda b, fmt: Image.new("L", (8, 8), 20 * k).save(b, fmt), rng.choice(list(formats.values())))
                (folder / label / f"{k}.{suffix}").write_bytes(mutate(data, rng) if rng.random() < 0.4 else data)
        _special(folder, rng)
        _loads_or_refuses({"source": "folder", "path": str(folder), "image_size": 8})


def test_damaged_mask_folders_never_crash(tmp_path, rng):
    for i in range(MUTANTS // 3):
        folder = tmp_path / f"masks{i}"
        (folder / "images").mkdir(parents=True)
        (folder / "masks").mkdir()
        for k in range(6):
            fmt = rng.choice(["PNG", "JPEG", "BMP"])
            image = _saved(lambda b, f: Image.new("L", (8, 8), 30 * k).save(b, f), fmt)
            mask = _saved(lambda b, f: Image.new("L", (8, 8), k % 3).save(b, f), "PNG")
            (folder / "images" / f"{k}.{fmt.lower()}").write_bytes(mutate(image, rng) if rng.random() < 0.3 else image)
            (folder / "masks" / f"{k}.png").write_bytes(mutate(mask, rng) if rng.random() < 0.2 else mask)
        if rng.random() < 0.3:
            (folder / "classes.txt").write_bytes(mutate(b"background\none\ntwo\n", rng))
        _loads_or_refuses({"source": "mask_folder", "path": str(folder), "image_size": 8})
