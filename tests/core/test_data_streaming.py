"""Streamed image folders, the on-disk sample cache, scanning, and the pipeline on every backend."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from process_helpers import QUICK_EXIT

from studio.core.data import DataError, first_training_samples, load_dataset, make_pipeline
from studio.core.data.scan import CancelToken, ScanCancelled

ROOT = Path(__file__).resolve().parents[2]
AUG = [{"type": "flip", "mode": "horizontal"}, {"type": "random_crop", "padding": 2}]


def make_folder(root: Path, per_class: int = 12, size: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03}.png")
    return root


def spec(root, storage):
    return {"source": "folder", "path": str(root), "storage": storage, "seed": 1}


def batches(stream):
    return [(np.asarray(x), np.asarray(y)) for x, y in stream]


def test_streamed_and_in_memory_give_identical_batches(tmp_path):
    root = make_folder(tmp_path / "imgs")
    memory, streamed = load_dataset(spec(root, "memory")), load_dataset(spec(root, "stream"))
    assert isinstance(memory.x_train, np.ndarray) and not isinstance(streamed.x_train, np.ndarray)
    assert memory.report == [] and "storage: in memory (0 MiB)" in memory.summary()  # nothing to note
    assert any(line.startswith("storage: streamed from disk, cache at") for line in streamed.report)
    assert "storage: streamed from disk" in streamed.summary()
    for a, b in zip(batches(make_pipeline(memory, "train", 5, seed=3, augmentation=AUG, epochs=2)),
                    batches(make_pipeline(streamed, "train", 5, seed=3, augmentation=AUG, epochs=2))):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(first_training_samples(memory, AUG, 3, 1, 8, 5)[0],
                                  first_training_samples(streamed, AUG, 3, 1, 8, 5)[0])


def test_auto_storage_streams_above_the_memory_budget(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "imgs", per_class=6)
    monkeypatch.setenv("DL_STUDIO_DATA_MEMORY", "1000")
    assert not isinstance(load_dataset(spec(root, "auto")).x_train, np.ndarray)
    monkeypatch.setenv("DL_STUDIO_DATA_MEMORY", str(1 << 30))
    assert isinstance(load_dataset(spec(root, "auto")).x_train, np.ndarray)


def test_changed_file_invalidates_only_its_cache_entry(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=6)
    data = load_dataset(spec(root, "stream"))
    cache = data.x_train.source.cache
    np.asarray(data.x_train), np.asarray(data.x_val), np.asarray(data.x_test)
    cache.flush()
    assert cache.filled() == 12
    changed = root / "a" / "002.png"
    Image.fromarray(np.full((12, 12, 3), 7, np.uint8)).save(changed)
    os.utime(changed, ns=(1, 1))
    again = load_dataset(spec(root, "stream"))
    meta, files = again.x_train.source.cache.meta, again.x_train.source.files
    stale = [f.name for f, state in zip(files, meta["state"]) if state == 0]
    assert stale == ["002.png"] and again.x_train.source.cache.filled() == 11
    slot = files.index(changed)
    np.testing.assert_array_equal(again.x_train.source.pixels(slot), np.full((12, 12, 3), 7, np.uint8))


def test_corrupted_cache_entry_is_rebuilt(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=4)
    data = load_dataset(spec(root, "stream"))
    source = data.x_train.source
    expected = source.pixels(0).copy()
    with open(source.cache.folder / "pixels.u8", "r+b") as handle:
        handle.write(b"\xff" * 50)
    assert source.cache.get(0) is None  # the CRC catches it
    np.testing.assert_array_equal(source.pixels(0), expected)


def test_file_deleted_mid_run_is_skipped_and_logged(tmp_path, caplog):
    root = make_folder(tmp_path / "imgs", per_class=6)
    data = load_dataset(spec(root, "stream"))
    victim = data.x_train.source.files[data.x_train.indices[0]]
    victim.unlink()
    seen = sum(len(x) for x, y in batches(make_pipeline(data, "train", 4)))
    assert seen == len(data.x_train) - 1
    warning, = [record for record in caplog.records if record.name == "studio.core.data.store"]
    assert warning.levelname == "WARNING"
    assert f"skipped {victim.relative_to(root).as_posix()}: cannot read it now" in warning.getMessage()


def test_no_space_for_the_cache_trains_uncached(tmp_path, monkeypatch):
    import shutil

    root = make_folder(tmp_path / "imgs", per_class=4)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0))
    data = load_dataset(spec(root, "stream"))
    assert any("no space for the data cache" in line for line in data.report)
    assert len(batches(make_pipeline(data, "train", 4))[0][0]) == 4


def test_scan_reports_progress_resumes_incrementally_and_can_be_cancelled(tmp_path):
    from studio.core.data.scan import Scanner, list_images

    root = make_folder(tmp_path / "imgs", per_class=5)
    (root / "a" / "empty.png").write_bytes(b"")
    calls = []
    data = load_dataset(spec(root, "memory"), progress=lambda *args: calls.append(args))
    assert calls[-1][:2] == (11, 11) and calls[-1][2] > 0
    assert "skipped a/empty.png: empty file" in data.report
    items = [(p, 0) for p in list_images(root)]
    assert Scanner(root, 40_000_000, None, None).scan(items).reused == 11
    token = CancelToken()
    token.cancel()
    with pytest.raises(ScanCancelled, match="cancelled after 0 of 11"):
        load_dataset(spec(root, "memory"), cancel=token)


def test_image_list_csv(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=5)
    rows = ["path,label"] + [f"imgs/{c}/{i:03}.png,{c}" for c in "ab" for i in range(5)] + ["imgs/missing.png,a"]
    (tmp_path / "list.csv").write_text("\n".join(rows))
    data = load_dataset({"source": "image_list", "path": str(tmp_path / "list.csv"), "split": {"train": 0.6, "val": 0.2, "test": 0.2}})
    assert data.class_names == ["a", "b"] and len(data.x_train) + len(data.x_val) + len(data.x_test) == 10
    assert any("missing.png" in line for line in data.report)


# ---------------------------------------------------------------- hardening (issue 13, data)


def test_csv_field_over_the_csv_module_limit(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{i},x,{i % 2}" for i in range(30)) + "\n1," + "z" * 200_000 + ",0\n")
    data = load_dataset({"source": "csv", "path": str(path), "target": "y"})
    assert data.num_classes == 2
    path.write_text("a,y\n1,0\n" + "2," + "z" * (2 << 20) + "\n")
    with pytest.raises(DataError, match="over 1048576 characters"):
        load_dataset({"source": "csv", "path": str(path), "target": "y"})


def test_inf_in_a_csv_feature_is_a_missing_value(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{'inf' if i == 3 else i},{i * 2},{i % 2}" for i in range(20)))
    data = load_dataset({"source": "csv", "path": str(path), "target": "y"})
    assert all(np.isfinite(x).all() for x in (data.x_train, data.x_val, data.x_test))
    assert any("1 of them infinite" in line for line in data.report)


def _npz_with_member(path, name, header_shape, payload=b"", compress=zipfile.ZIP_STORED):
    header = {"descr": "<f4", "fortran_order": False, "shape": header_shape}
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(path, "w", compress) as archive:
        archive.writestr(name, buffer.getvalue() + payload)
        archive.writestr("y.npy", _npy_bytes(np.arange(4)))


def _npy_bytes(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("shape,message", [((10**12, 10**6), "claims shape"), ((), "0-d array")])
def test_npz_header_checked_before_loading(tmp_path, shape, message):
    path = tmp_path / "bad.npz"
    _npz_with_member(path, "x.npy", shape)
    with pytest.raises(DataError, match=message):
        load_dataset({"source": "npz", "path": str(path)})


def test_npz_member_not_npy_and_zip_bomb(tmp_path, monkeypatch):
    path = tmp_path / "text.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x", b"hello")
        archive.writestr("y.npy", _npy_bytes(np.arange(4)))
    with pytest.raises(DataError, match="'x' is not a .npy array"):
        load_dataset({"source": "npz", "path": str(path)})
    bomb = tmp_path / "bomb.npz"
    _npz_with_member(bomb, "x.npy", (4, 16 << 20), b"\0" * (256 << 20), zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(DataError, match="x.npy expands [0-9,]+ times .*refused as a zip bomb"):
        load_dataset({"source": "npz", "path": str(bomb)})  # judged from the sizes it declares
    big = tmp_path / "big.npz"  # compressed but no bomb: too big for memory, and not streamable
    _npz_with_member(big, "x.npy", (4, 1 << 20), np.random.default_rng(0).bytes(16 << 20), zipfile.ZIP_DEFLATED)
    monkeypatch.setenv("DL_STUDIO_DATA_MAX_BYTES", str(8 << 20))
    with pytest.raises(DataError, match="needs 16 MiB as float32.*compressed.*re-save it uncompressed"):
        load_dataset({"source": "npz", "path": str(big)})


def test_npy_source_streams_over_the_memory_limit(tmp_path, monkeypatch):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((30, 4)).astype(np.float32))
    np.save(tmp_path / "y.npy", np.arange(30) % 3)
    data = load_dataset({"source": "npy", "path": str(tmp_path / "x.npy")})
    assert data.num_classes == 3 and data.input_shape == (4,)
    monkeypatch.setenv("DL_STUDIO_DATA_MAX_BYTES", "100")
    streamed = load_dataset({"source": "npy", "path": str(tmp_path / "x.npy")})
    assert not isinstance(streamed.x_train, np.ndarray) and any("memory-mapped" in r for r in streamed.report)
    np.testing.assert_allclose(np.asarray(streamed.x_train), data.x_train, atol=1e-6)


def test_huge_png_is_refused_from_its_header(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=8)
    Image.new("L", (3000, 3000)).save(root / "a" / "huge.png")
    data = load_dataset({**spec(root, "memory"), "max_pixels": 1_000_000})
    assert any(line.startswith("skipped a/huge.png: too large (3000x3000") for line in data.report)


# ---------------------------------------------------------------- backends (subprocesses)

_BACKEND_SCRIPT = textwrap.dedent("""
    import importlib.abc, sys
    if {block_tf}:
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "tensorflow" or name.startswith("tensorflow."):
                    raise ImportError("tensorflow is blocked in this test")
        sys.meta_path.insert(0, Block())
    import numpy as np
    from studio.core.data import first_training_samples, load_dataset, make_pipeline
    steps = [{{"type": "rotation", "factor": 0.1}}, {{"type": "random_crop", "padding": 2}},
             {{"type": "gaussian_noise"}}, {{"type": "mixup"}}]
    data = load_dataset({spec!r})
    for epoch in (0, 2):
        x, y = next(iter(make_pipeline(data, "train", 8, seed=5, augmentation=steps, epoch=epoch)))
        px, py = first_training_samples(data, steps, 5, epoch, 8, 8)
        assert np.array_equal(np.asarray(x), px) and np.array_equal(np.asarray(y), py), epoch
    if {block_tf}:
        assert not any(m.startswith("tensorflow") for m in sys.modules)
    print("OK", type(make_pipeline(data, "train", 8)).__name__)
""")


def _installed_backends():
    import importlib.util

    names = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
    return [b for b, module in names.items() if importlib.util.find_spec(module)]


def _run_backend(backend, block_tf, data_spec):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    script = _BACKEND_SCRIPT.format(block_tf=block_tf, spec=data_spec)
    return subprocess.run([sys.executable, "-c", script + QUICK_EXIT], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("backend", _installed_backends())
def test_preview_equals_the_training_batch_on_every_installed_backend(tmp_path, backend):
    """On JAX with TensorFlow blocked: its pipeline (a PyDataset, as on any backend but TensorFlow)
    must not need TensorFlow."""
    root = make_folder(tmp_path / "imgs", per_class=8)
    done = _run_backend(backend, backend == "jax", spec(root, "stream"))
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-2000:]
    assert backend != "jax" or "OK PlanDataset" in done.stdout, done.stdout


_RSS_SCRIPT = textwrap.dedent("""
    import numpy as np
    import keras
    from studio.core.data import load_dataset, make_pipeline, steps_per_epoch

    def peak_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024

    data = load_dataset({{"source": "folder", "path": {path!r}, "split": {{"train": 1.0}}}})
    assert not isinstance(data.x_train, np.ndarray), data.report
    model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Conv2D(4, 3, strides=4),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.zeros((32, *data.input_shape), np.float32), np.zeros(32, np.int32), verbose=0)
    before = peak_mib()
    steps = steps_per_epoch(data, "train", 32)
    model.fit(make_pipeline(data, "train", 32, epochs=None), steps_per_epoch=steps, epochs=2, verbose=0)
    print("GROWTH", peak_mib() - before)
""")


@pytest.mark.slow
def test_a_folder_over_the_memory_limit_trains_with_flat_memory(tmp_path):
    """1,200 RGB 64x64 images are 113 MiB as float32; with a 16 MiB memory budget the training
    process's peak memory grows by far less than that."""
    root = make_folder(tmp_path / "imgs", per_class=600, size=64)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DL_STUDIO_DATA_MEMORY": str(16 << 20)}
    done = subprocess.run([sys.executable, "-c", _RSS_SCRIPT.format(path=str(root)) + QUICK_EXIT], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    growth = float(done.stdout.split("GROWTH")[1])
    assert growth < 40, f"peak memory grew {growth:.0f} MiB while streaming a 113 MiB folder"
