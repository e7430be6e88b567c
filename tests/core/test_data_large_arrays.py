"""Arrays and tables larger than the memory limit: memory-mapped .npy / NPZ members and CSV
converted once to cached .npy files, converted to float32 per batch, identical to in-memory."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from process_helpers import QUICK_EXIT

from studio.core.data import DataError, load_dataset, make_pipeline
from studio.core.data.arrays import ArrayStore

ROOT = Path(__file__).resolve().parents[2]
LIMIT_ENV = "DL_STUDIO_DATA_MAX_BYTES"


def _images(tmp_path, fractions=False):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (90, 6, 6, 3), dtype=np.uint8)
    x = (x / 255.0).astype(np.float32) if fractions else x
    y = np.arange(90) % 3
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "packed.npz", x=x, y=y)
    return tmp_path


def _table_csv(path: Path, rows: int = 120) -> Path:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(rows, 3))
    with open(path, "w") as handle:
        handle.write("a,b,c,label\n")
        for i, row in enumerate(values):
            b = "" if i % 9 == 0 else f"{row[1]:.6f}"  # gaps are filled with the training mean
            handle.write(f"{row[0]:.6f},{b},{row[2]:.6f},{'up' if row[0] > 0 else 'down'}\n")
    return path


def _both(monkeypatch, spec):
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    in_memory = load_dataset(spec)
    monkeypatch.setenv(LIMIT_ENV, "1000")
    return in_memory, load_dataset(spec)


def _epoch(dataset, seed=3):
    return [(np.asarray(x), np.asarray(y)) for x, y in make_pipeline(dataset, "train", 16, seed=seed)]


@pytest.mark.parametrize("name", ["x.npy", "plain.npz"])
@pytest.mark.parametrize("fractions", [False, True])
@pytest.mark.parametrize("mode", ["scale", "standardize"])
def test_streamed_arrays_give_the_in_memory_batches(tmp_path, monkeypatch, name, fractions, mode):
    folder = _images(tmp_path, fractions)
    source = "npy" if name.endswith(".npy") else "npz"
    memory, streamed = _both(monkeypatch, {"source": source, "path": str(folder / name), "normalize": mode})
    assert isinstance(memory.x_train, np.ndarray) and isinstance(streamed.x_train, ArrayStore)
    assert any("memory-mapped and converted per batch" in line for line in streamed.report)
    assert streamed.x_train.nbytes == 8 * len(streamed.x_train)  # only the row indices are held
    np.testing.assert_allclose(streamed.value_range, memory.value_range, atol=1e-5)
    for (xa, ya), (xb, yb) in zip(_epoch(memory), _epoch(streamed), strict=True):
        assert xb.dtype == np.float32
        np.testing.assert_allclose(xa, xb, atol=1e-5)
        np.testing.assert_array_equal(ya, yb)


def test_a_compressed_npz_member_over_the_limit_is_refused_with_what_to_do(tmp_path, monkeypatch):
    folder = _images(tmp_path)
    monkeypatch.setenv(LIMIT_ENV, "1000")
    with pytest.raises(DataError, match="is compressed, so it cannot be streamed: re-save it uncompressed"):
        load_dataset({"source": "npz", "path": str(folder / "packed.npz")})


def test_an_npz_member_is_mapped_at_its_data_offset(tmp_path):
    from studio.core.data.arrays import npz_member_memmap

    x = np.arange(60, dtype=np.int16).reshape(10, 6)
    np.savez(tmp_path / "a.npz", first=np.ones(7), x=x)
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        info = archive.getinfo("x.npy")
    mapped = npz_member_memmap(tmp_path / "a.npz", info, x.shape, x.dtype, False)
    np.testing.assert_array_equal(mapped, x)


@pytest.mark.parametrize("mode", ["scale", "standardize", "none"])
def test_a_large_csv_streams_like_the_in_memory_table(tmp_path, monkeypatch, mode):
    path = _table_csv(tmp_path / "t.csv")
    memory, streamed = _both(monkeypatch, {"source": "csv", "path": str(path), "normalize": mode})
    assert isinstance(streamed.x_train, ArrayStore)
    assert streamed.feature_names == memory.feature_names == ["a", "b", "c"]
    assert streamed.class_names == memory.class_names == ["down", "up"]
    assert streamed.normalization["columns"].keys() == memory.normalization["columns"].keys()
    for column, info in memory.normalization["columns"].items():
        for key, value in info.items():
            expected = value if isinstance(value, str) else pytest.approx(value, rel=1e-6)  # "kind" is text
            assert streamed.normalization["columns"][column][key] == expected, (column, key)
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(np.asarray(streamed.split(split)[0]), memory.split(split)[0], atol=1e-5)
        np.testing.assert_array_equal(streamed.split(split)[1], memory.split(split)[1])


def test_csv_conversion_is_cached_until_the_file_changes(tmp_path, monkeypatch):
    path = _table_csv(tmp_path / "t.csv")
    monkeypatch.setenv(LIMIT_ENV, "1000")
    calls = []
    load_dataset({"source": "csv", "path": str(path)}, progress=lambda *a: calls.append(a))
    cache = Path(os.environ["DL_STUDIO_DATA_CACHE"]) / "csv"
    first = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert len(first) == 1
    load_dataset({"source": "csv", "path": str(path)})
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == first  # reused, not converted again
    with open(path, "a") as handle:
        handle.write("5.0,1.0,2.0,up\n")
    data = load_dataset({"source": "csv", "path": str(path)})
    assert len(list(cache.iterdir())) == 2
    assert sum(len(data.split(s)[0]) for s in ("train", "val", "test")) == 121


def test_text_columns_of_a_streamed_csv_are_dropped_with_a_note(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("a,city,label\n" + "".join(f"{i},c{i % 4},{i % 2}\n" for i in range(60)))
    monkeypatch.setenv(LIMIT_ENV, "1000")
    data = load_dataset({"source": "csv", "path": str(path)})
    assert data.feature_names == ["a"]
    assert any("dropped column 'city'" in line and "encode categories as numbers" in line for line in data.report)


_RSS_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import keras
    from studio.core.data import load_dataset, make_pipeline, steps_per_epoch

    def peak_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024

    def reset_peak_mib():
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak becomes the memory in use now
        return peak_mib()

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, strides=4),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.zeros((64, 32, 32, 3), np.float32), np.zeros(64, np.int32), batch_size=64, verbose=0)
    growth = {{}}
    for name, spec in {specs!r}.items():
        before = reset_peak_mib()
        data = load_dataset(spec)  # includes the streaming statistics pass
        assert not isinstance(data.x_train, np.ndarray), data.report
        load = peak_mib() - before
        stream = make_pipeline(data, "train", 64, epochs=None)
        model.fit(stream, steps_per_epoch=3, epochs=1, verbose=0)  # the first use of the pipeline machinery
        before = peak_mib()
        model.fit(stream, steps_per_epoch=steps_per_epoch(data, "train", 64), epochs=1, verbose=0)
        growth[name] = (load, peak_mib() - before)
        del data, stream
    print(json.dumps(growth))
""")
LIMIT_MIB = 48


@pytest.fixture(scope="module")
def memory_growth(tmp_path_factory):
    """20,000 uint8 32x32x3 images (59 MiB on disk, 234 MiB as float32) as .npy files and as an NPZ,
    loaded and trained on with a 48 MiB limit in one process: name -> (MiB the process's peak memory
    grew loading from a reset peak, then in a whole epoch after 3 warm-up steps of the pipeline)."""
    folder = tmp_path_factory.mktemp("large")
    x = np.random.default_rng(0).integers(0, 256, (20_000, 32, 32, 3), dtype=np.uint8)
    y = np.arange(len(x)) % 3
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    np.savez(folder / "data.npz", x=x, y=y)
    del x
    specs = {name: {"source": source, "path": str(folder / name), "split": {"train": 1.0}}
             for name, source in (("x.npy", "npy"), ("data.npz", "npz"))}
    env = {**os.environ, "PYTHONPATH": str(ROOT), LIMIT_ENV: str(LIMIT_MIB << 20)}
    done = subprocess.run([sys.executable, "-c", _RSS_SCRIPT.format(specs=specs) + QUICK_EXIT], check=False, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["x.npy", "data.npz"])
def test_arrays_over_the_memory_limit_train_with_growth_under_the_limit(memory_growth, name):
    """Loading (statistics pass) and then a whole epoch of training each grow the process's peak
    memory by less than the limit."""
    load, epoch = memory_growth[name]
    assert load < LIMIT_MIB and epoch < LIMIT_MIB, \
        f"peak memory grew {load:.0f} MiB loading and {epoch:.0f} MiB in an epoch over 234 MiB of float32 inputs"
