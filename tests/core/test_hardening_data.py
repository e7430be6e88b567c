"""Hostile data paths (issue 25): devices, FIFOs, huge sparse files, bad text, symlink loops and
zip bombs each give one clear line or a reported skip, in bounded time and memory. Every corruption
is made here, never checked in."""

from __future__ import annotations

import io
import json
import os
import struct
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.core.data import DataError, load_dataset
from studio.core.data import tabular, text
from studio.core.project import ProjectError, load_project

posix_only = pytest.mark.skipif(os.name != "posix", reason="devices, FIFOs and symlinks as on POSIX")


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


@posix_only
@pytest.mark.parametrize("source", ["corpus", "csv", "text_csv", "npz", "text_folder"])
def test_a_character_device_is_named_not_read(source):
    started = time.perf_counter()
    with pytest.raises(DataError, match="/dev/zero is a character device, not a data file or folder") as info:
        load_dataset({"source": source, "path": "/dev/zero"})
    _one_line(info)
    assert time.perf_counter() - started < 5


@posix_only
@pytest.mark.parametrize("source", ["corpus", "csv"])
def test_a_fifo_is_refused_without_blocking(tmp_path, source):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"pipe.txt is a named pipe \(FIFO\)"):
        load_dataset({"source": source, "path": str(fifo)})


@posix_only
def test_data_info_says_what_a_special_path_is(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for path, kind in (("/dev/zero", "a character device"), (tmp_path / "pipe.csv", r"a named pipe (FIFO)"),
                       (tmp_path / "loop", "a symbolic link loop")):
        assert main(["data", "info", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert f"{path} is {kind}, not a data file or folder" in err and "\n" not in err


@posix_only
def test_a_project_file_that_is_a_fifo_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "p.dlstudio")
    with pytest.raises(ProjectError, match="named pipe"):
        load_project(tmp_path / "p.dlstudio")


def test_a_huge_sparse_corpus_is_read_up_to_the_cap_and_the_cut_reported(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:  # 4 GiB that take no disk: a whole read would exhaust memory
        handle.write(b"the cat sat on the mat\n" * 4000)
        handle.truncate(4 << 30)
    monkeypatch.setattr(text, "MAX_TEXT_BYTES", 1 << 20)
    data = load_dataset({"source": "corpus", "path": str(path), "max_length": 8})
    # cut at the last line end within the first MiB: the zeros after the text hold none
    assert "big.txt: read its first 89.8 KiB of 4 GiB; the rest is ignored" in data.report
    assert len(data.x_train) > 1000


def test_a_text_csv_over_the_cap_is_cut_at_a_row_end(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "".join(f"good film {i},pos\nbad film {i},neg\n" for i in range(5000)))
    monkeypatch.setattr(text, "MAX_TEXT_BYTES", 20_000)
    data = load_dataset({"source": "text_csv", "path": str(path)})
    assert any(line.startswith("t.csv: read its first 19.") and "the rest is ignored" in line for line in data.report)
    assert not any("skipped row" in line for line in data.report)  # no half row was read


def test_a_csv_without_line_ends_is_refused_before_holding_it(tmp_path, monkeypatch):
    path = tmp_path / "zeros.csv"
    path.write_bytes(bytes(3 << 20))
    monkeypatch.setattr(tabular, "MAX_LINE_CHARS", 1 << 20)
    with pytest.raises(DataError, match="zeros.csv: a line is over 1,048,576 characters long"):
        load_dataset({"source": "csv", "path": str(path)})


def test_a_text_csv_field_too_long_for_the_csv_module_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('text,label\n"' + "x" * (text.MAX_FIELD_CHARS + 1) + '",a\nshort,b\n')
    with pytest.raises(DataError, match="t.csv: unreadable CSV"):
        load_dataset({"source": "text_csv", "path": str(path)})


def test_unreadable_documents_in_a_text_folder_are_skipped_and_reported(tmp_path):
    for label in ("neg", "pos"):
        (tmp_path / label).mkdir()
        for i in range(6):
            (tmp_path / label / f"{i}.txt").write_text(f"{label} review number {i}")
    (tmp_path / "pos" / "latin1.txt").write_bytes(b"caf\xe9 au lait")
    if os.name == "posix":
        os.mkfifo(tmp_path / "neg" / "pipe.txt")
        (tmp_path / "neg" / "loop.txt").symlink_to(tmp_path / "neg" / "loop.txt")
    data = load_dataset({"source": "text_folder", "path": str(tmp_path)})
    assert sum(len(y) for y in (data.y_train, data.y_val, data.y_test)) == 12
    report = "\n".join(data.report)
    assert "skipped pos/latin1.txt is not UTF-8 text (byte 3)" in report
    if os.name == "posix":
        assert "skipped neg/pipe.txt is a named pipe (FIFO), not a regular file" in report
        assert "skipped cannot read neg/loop.txt (Too many levels of symbolic links)" in report


@posix_only
def test_an_image_folder_with_a_symlink_to_itself_reports_it(tmp_path, capsys):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.new("L", (8, 8), 30 * i).save(tmp_path / label / f"{i}.png")
    (tmp_path / "a" / "self.png").symlink_to(tmp_path / "a" / "self.png")
    assert main(["data", "info", str(tmp_path)]) == 0
    assert "skipped a/self.png: cannot read (Too many levels of symbolic links)" in capsys.readouterr().out


def test_a_small_npz_that_expands_hugely_is_refused_from_its_declared_sizes(tmp_path):
    path = tmp_path / "bomb.npz"
    shape = (400_000, 32, 32)  # 391 MiB of zeros in about 400 KB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as handle:
            np.lib.format.write_array_header_1_0(handle, {"descr": "|u1", "fortran_order": False, "shape": shape})
            for _ in range(shape[0] * 1024 // (16 << 20) + 1):
                handle.write(bytes(16 << 20))
        labels = io.BytesIO()
        np.save(labels, np.zeros(shape[0], np.uint8))
        archive.writestr("y.npy", labels.getvalue())
    assert path.stat().st_size < 2 << 20
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"bomb.npz: x.npy expands [\d,]+ times .*refused as a zip bomb") as info:
        load_dataset({"source": "npz", "path": str(path)})
    _one_line(info)
    assert time.perf_counter() - started < 1


def test_class_names_that_are_not_utf8_are_one_line(tmp_path):
    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
        for i in range(4):
            Image.new("L", (8, 8), i % 2).save(tmp_path / part / f"{i}.png")
    (tmp_path / "classes.txt").write_bytes(b"background\n\xff\xfe shape\n")
    with pytest.raises(DataError, match="classes.txt cannot be read as class names"):
        load_dataset({"source": "mask_folder", "path": str(tmp_path), "image_size": 8})


def test_a_dataset_spec_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_bytes(json.dumps({"source": "toy"}).encode() + b"\xff")
    assert main(["data", "info", str(path)]) == 2
    assert "spec.json cannot be a dataset spec" in capsys.readouterr().err


# -- found by fuzzing ---------------------------------------------------------------------------------
def test_an_npy_header_numpy_cannot_tokenize_is_one_line(tmp_path):
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,"  # unterminated
    header = text + b" " * (64 - 10 - len(text) - 1) + b"\n"
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(12))
    np.save(tmp_path / "y.npy", np.arange(3))
    with pytest.raises(DataError, match="x.npy: not a .npy array") as info:
        load_dataset({"source": "npy", "path": str(tmp_path / "x.npy")})
    _one_line(info)


def test_damaged_deflate_data_in_an_npz_is_one_line(tmp_path):
    path = tmp_path / "d.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).random((40, 4)), y=np.arange(40) % 2)
    data = bytearray(path.read_bytes())
    start = data.find(b"x.npy") + len(b"x.npy")  # the first member's compressed data follows its name
    data[start + 20:start + 60] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="d.npz is not a readable .npz file") as info:
        load_dataset({"source": "npz", "path": str(path)})
    _one_line(info)


def test_a_numeric_cell_with_unicode_whitespace_is_read_as_its_number(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n" + "".join(f"{i},{'p' if i % 2 else 'q'}\n" for i in range(20)) + "\x1e4,p\n")
    data = load_dataset({"source": "csv", "path": str(path)})
    assert sum(len(y) for y in (data.y_train, data.y_val, data.y_test)) == 21


# -- special files given as model, project or template paths ----------------------------------------
@posix_only
@pytest.mark.parametrize("name", ["m.keras", "p.dlstudio", "t.json"])
def test_summary_of_a_fifo_is_refused_without_blocking(tmp_path, capsys, name):
    os.mkfifo(tmp_path / name)
    assert main(["summary", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"{name}: a named pipe (FIFO), not a regular file" in err and err.count("\n") == 1


def test_a_template_file_nested_too_deep_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text('{"graph": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["summary", str(path)]) == 2
    assert "deep.json: nested more than 64 levels deep" in capsys.readouterr().err


def test_a_mask_folder_image_damaged_after_its_header_is_skipped_and_reported(tmp_path):
    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
    noise = np.random.default_rng(0).integers(0, 256, (6, 32, 32), dtype=np.uint8)
    for i in range(6):
        Image.fromarray(noise[i]).save(tmp_path / "images" / f"{i}.jpg")
        Image.new("L", (32, 32), i % 2).save(tmp_path / "masks" / f"{i}.png")
    jpeg = (tmp_path / "images" / "0.jpg").read_bytes()
    (tmp_path / "images" / "0.jpg").write_bytes(jpeg[: len(jpeg) * 2 // 3])  # the header survives
    data = load_dataset({"source": "mask_folder", "path": str(tmp_path), "image_size": 8})
    assert sum(len(y) for y in (data.y_train, data.y_val, data.y_test)) == 5
    assert any(line.startswith("skipped images/0.jpg: cannot decode (") for line in data.report)


@posix_only
def test_npy_labels_that_are_a_fifo_are_refused_without_blocking(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((6, 2), "float32"))
    os.mkfifo(tmp_path / "labels.npy")
    with pytest.raises(DataError, match=r"labels.npy is not a readable .npy file \(a named pipe \(FIFO\)"):
        load_dataset({"source": "npy", "path": str(tmp_path / "x.npy"), "labels": str(tmp_path / "labels.npy")})
