"""The run store: incremental summaries, the SQLite index (stale detection, old folders, removed
runs), cached curves equal to freshly built ones, labels, and the run table."""

import json
import os
import time

import numpy as np
import pytest

from studio.core.experiments import summary as summary_module
from studio.core.experiments.curve_cache import CURVES_FILE, load_curves
from studio.core.experiments.index import INDEX_FILE, RunIndex, folder_stamp
from studio.core.experiments.labels import add_tag, read_labels, set_note
from studio.core.experiments.summary import SUMMARY_FILE, read_summary, run_row, update_summary
from studio.core.experiments.table import TableError, build_table, render_text, write_csv
from studio.core.training.curves import RunCurves
from studio.core.training.runs import RunFolder, read_events


def make_run(path, epochs=3, steps=5, lr=0.01, optimizer="adam", status="completed", val=None, finish=True):
    """A run folder as the engine leaves it: run.json, start, batch, grad_norms and epoch events."""
    folder = RunFolder(path)
    path.mkdir(parents=True)
    folder.update_info(name="demo", status="running", created=time.time(), started=100.0, pid=os.getpid(),
                       config={"optimizer": optimizer, "learning_rate": lr, "batch_size": 8, "epochs": epochs},
                       dataset={"task": "classification", "fingerprint": "abc"},
                       device={"kind": "cpu", "gpus": []})
    folder.emit("start", steps_per_epoch=steps, epochs=epochs)
    vals = val or [1.0 / e for e in range(1, epochs + 1)]
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            folder.emit("batch", epoch=epoch, step=step, steps=steps, lr=lr,
                        logs={"loss": 2.0 / (epoch + step), "accuracy": 0.1 * epoch})
        folder.emit("grad_norms", epoch=epoch, step=steps, global_step=epoch * steps, norms={"dense": 0.5})
        folder.emit("epoch", epoch=epoch, logs={"loss": 1.5 / epoch, "accuracy": 0.2 * epoch,
                                                 "val_loss": vals[epoch - 1]}, lr=lr, duration_s=1.0)
    if finish:
        folder.update_info(status=status, ended=160.0)
        folder.emit("end", status=status)
    return folder


def test_summary_is_built_incrementally_from_a_byte_offset(tmp_path, monkeypatch):
    folder = make_run(tmp_path / "r", epochs=3, val=[0.9, 0.4, 0.6], finish=False)
    first = update_summary(folder.path)
    assert first["epochs"] == 3 and first["last"]["val_loss"] == 0.6
    assert first["best"]["val_loss"] == {"value": 0.4, "epoch": 2}
    assert first["best"]["accuracy"]["value"] == pytest.approx(0.6)  # higher is better
    assert first["offset"] == folder.events_file.stat().st_size
    assert read_summary(folder.path) == first

    parsed = []
    real_loads = summary_module.json.loads
    monkeypatch.setattr(summary_module.json, "loads", lambda data: parsed.append(data) or real_loads(data))
    folder.emit("epoch", epoch=4, logs={"loss": 0.1, "val_loss": 0.2}, duration_s=1.0)
    fileio_partial = b'{"type": "epoch", "epoch": 5, "logs": {"val_lo'
    with open(folder.events_file, "ab") as handle:
        handle.write(fileio_partial)  # a line still being written is left for later
    second = update_summary(folder.path)
    assert second["epochs"] == 4 and second["best"]["val_loss"] == {"value": 0.2, "epoch": 4}
    assert len(parsed) == 2  # summary.json + the one new epoch line, never the old events
    assert second["offset"] == folder.events_file.stat().st_size - len(fileio_partial)


def test_a_partial_epoch_is_no_epoch_anywhere(tmp_path):
    from studio.core.training.runs import read_run

    folder = make_run(tmp_path / "r", epochs=8, val=[0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.42], finish=False)
    folder.emit("batch", epoch=9, step=2, steps=5, logs={"loss": 0.05, "accuracy": 0.99})
    folder.emit("epoch", epoch=9, logs={"loss": 0.05, "accuracy": 0.99, "val_loss": 0.1}, partial=True)
    folder.update_info(status="stopped", ended=160.0)
    summary = update_summary(folder.path)
    assert summary["epochs"] == 8 and summary["partial"] == 9
    assert summary["last"]["val_loss"] == 0.42 and summary["best"]["val_loss"] == {"value": 0.4, "epoch": 7}
    assert run_row(folder.path)["epochs"] == 8 and run_row(folder.path)["partial_epoch"] == 9
    assert read_run(folder.path)["epochs_done"] == 8
    curves = RunCurves()
    curves.add(read_events(folder.path))
    assert list(curves.get("loss/val").x) == list(range(1, 9)) and curves.partial_epoch == 9
    assert list(curves.get("logs/val_loss").x)[-1] == 8
    assert curves.get("loss/batch").x[-1] == pytest.approx(8.4)  # its batches are still drawn

    (folder.path / SUMMARY_FILE).write_text(json.dumps({**summary, "version": 1, "epochs": 9}))
    assert update_summary(folder.path)["epochs"] == 8  # a summary written by the old rule is rebuilt

    folder.emit("epoch", epoch=9, logs={"loss": 0.04, "val_loss": 0.3})  # a resume finishes the epoch
    summary = update_summary(folder.path)
    assert summary["epochs"] == 9 and summary["partial"] is None and summary["best"]["val_loss"]["epoch"] == 9
    curves.add(read_events(folder.path)[-1:])
    assert curves.partial_epoch is None and curves.get("loss/val").x[-1] == 9


def test_nan_and_error_events(tmp_path):
    folder = make_run(tmp_path / "r", epochs=1, finish=False)
    folder.emit("epoch", epoch=2, logs={"loss": float("nan"), "val_loss": float("nan")})
    folder.emit("error", kind="nan", message="the loss became NaN")
    folder.update_info(status="failed", error={"kind": "nan", "message": "the loss became NaN"})
    row = run_row(folder.path)
    assert row["status"] == "failed" and row["error"] == "the loss became NaN"
    assert row["best"]["val_loss"] == 1.0 and row["epochs"] == 2


def test_index_refreshes_only_changed_runs_and_handles_old_and_removed_folders(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    for name, lr in (("a", 0.1), ("b", 0.01), ("c", 0.001)):
        make_run(root / name, lr=lr)
    (root / "not-a-run").mkdir()
    assert not (root / "a" / SUMMARY_FILE).exists()  # an old folder: no summary yet
    rows = RunIndex(root).rows()
    assert sorted(row["name"] for row in rows) == ["a", "b", "c"]
    assert (root / INDEX_FILE).exists() and (root / "a" / SUMMARY_FILE).exists()  # built once, cached
    assert {row["name"]: row["config"]["learning_rate"] for row in rows}["b"] == 0.01

    summarised = []
    real = summary_module.update_summary
    monkeypatch.setattr("studio.core.experiments.summary.update_summary",
                        lambda path, **kw: summarised.append(os.path.basename(path)) or real(path, **kw))
    progress = []
    assert len(RunIndex(root).rows(lambda done, total: progress.append((done, total)))) == 3
    assert summarised == [] and progress == []  # nothing changed: nothing re-read

    RunFolder(root / "b").emit("epoch", epoch=4, logs={"loss": 0.01, "val_loss": 0.05})
    add_tag(root / "c", "baseline")
    import shutil
    shutil.rmtree(root / "a")
    rows = {row["name"]: row for row in RunIndex(root).rows(lambda d, t: progress.append((d, t)))}
    assert sorted(summarised) == ["b", "c"] and progress[-1] == (2, 2)
    assert set(rows) == {"b", "c"} and rows["b"]["epochs"] == 4 and rows["c"]["tags"] == ["baseline"]


def test_corrupt_index_is_rebuilt_and_dead_runs_show_as_crashed(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "live", finish=False)
    (root / INDEX_FILE).write_bytes(b"this is not a database")
    rows = RunIndex(root).rows()
    assert rows[0]["status"] == "running"  # our own pid: alive
    RunFolder(root / "live").update_info(pid=2**22 + 12345)  # a pid that does not exist
    assert RunIndex(root).rows()[0]["status"] == "crashed"


def test_rows_say_what_a_run_generates_and_an_older_index_is_rebuilt_once(tmp_path, monkeypatch):
    import sqlite3

    root = tmp_path / "runs"
    for name in ("gan", "gpt", "cnn"):
        make_run(root / name)
    (root / "gan" / "samples").mkdir()
    (root / "gan" / "samples" / "fixed.npz").write_bytes(b"")
    (root / "gpt" / "vocabulary.json").write_text("{}")
    old = sqlite3.connect(root / INDEX_FILE)  # as the previous version left it: rows without the field
    old.execute("CREATE TABLE runs (name TEXT PRIMARY KEY, stamp TEXT NOT NULL, row TEXT NOT NULL)")
    old.executemany("INSERT INTO runs VALUES (?, ?, ?)", [
        (name, folder_stamp(str(root / name)), json.dumps({"name": name, "status": "completed", "created": 0}))
        for name in ("gan", "gpt", "cnn")])
    old.commit()
    old.close()

    rows = {row["name"]: row for row in RunIndex(root).rows()}
    assert {name: row["generates"] for name, row in rows.items()} == {"gan": "images", "gpt": "text", "cnn": None}
    summarised = []
    real = summary_module.update_summary
    monkeypatch.setattr("studio.core.experiments.summary.update_summary",
                        lambda path, **kw: summarised.append(os.path.basename(path)) or real(path, **kw))
    assert len(RunIndex(root).rows()) == 3 and summarised == []  # rebuilt once, then trusted again


def test_cached_curves_equal_fresh_ones_and_continue_exactly(tmp_path):
    folder = make_run(tmp_path / "r", epochs=2, steps=50, finish=False)
    cached = load_curves(folder.path, store_after=0)
    assert (folder.path / CURVES_FILE).exists()
    folder.emit("batch", epoch=3, step=1, steps=50, lr=0.01, logs={"loss": 0.3, "accuracy": 0.9})
    folder.emit("epoch", epoch=3, logs={"loss": 0.3, "accuracy": 0.9, "val_loss": 0.2})
    restored = load_curves(folder.path)
    fresh = RunCurves()
    fresh.add(read_events(folder.path))
    assert set(restored.series) == set(fresh.series) and len(cached.series["loss/batch"]) == 100
    for key in fresh.series:
        np.testing.assert_allclose(restored.series[key].x, fresh.series[key].x)
        np.testing.assert_allclose(restored.series[key].y, fresh.series[key].y)
    assert restored.metric == fresh.metric == "accuracy"


def test_curves_keep_every_logged_epoch_value_and_an_older_cache_is_rebuilt(tmp_path):
    curves = RunCurves()
    curves.add([{"type": "epoch", "epoch": 1, "logs": {"d_loss": 0.7, "fid": 30.0, "best": True}},
                {"type": "epoch", "epoch": 2, "logs": {"d_loss": 0.5, "fid": float("nan"), "val_g_loss": 2.0}}])
    assert {key for key in curves.series if key.startswith("logs/")} == {"logs/d_loss", "logs/fid", "logs/val_g_loss"}
    assert list(curves.get("logs/d_loss").x) == [1.0, 2.0] and list(curves.get("logs/fid").y) == [30.0]

    folder = make_run(tmp_path / "r", epochs=2)
    load_curves(folder.path, store_after=0)
    with np.load(folder.path / CURVES_FILE) as data:  # as the previous version stored it: no logs/ series
        state = json.loads(str(data["state"]))
        arrays = {f"s{i}": data[f"s{i}"] for i, key in enumerate(state["series"]) if not key.startswith("logs/")}
    state.update(version=1, series=[key for key in state["series"] if not key.startswith("logs/")])
    np.savez(folder.path / CURVES_FILE, state=np.array(json.dumps(state)),
             **{f"s{i}": xy for i, xy in enumerate(arrays.values())})
    assert list(load_curves(folder.path).get("logs/val_loss").y) == [1.0, 0.5]


def test_labels_are_checked(tmp_path):
    folder = make_run(tmp_path / "r")
    assert add_tag(folder.path, "best") == ["best"]
    assert add_tag(folder.path, "relu") == ["best", "relu"]
    assert add_tag(folder.path, "best", remove=True) == ["relu"]
    set_note(folder.path, "ReLU learns faster")
    assert read_labels(folder.path) == {"tags": ["relu"], "note": "ReLU learns faster"}
    with pytest.raises(ValueError, match="without commas"):
        add_tag(folder.path, "a,b")
    with pytest.raises(ValueError, match="not a run folder"):
        add_tag(tmp_path, "x")


def test_table_filters_sorts_and_exports(tmp_path):
    root = tmp_path / "runs"
    for name, lr, opt in (("a", 0.1, "sgd"), ("b", 0.01, "adam"), ("c", 0.001, "adam")):
        make_run(root / name, lr=lr, optimizer=opt, val=[0.5, lr * 10, 0.3])
    add_tag(root / "b", "keep")
    rows = RunIndex(root).rows()
    columns, flat = build_table(rows, ["name", "learning_rate", "best.val_loss"], ["optimizer=adam"], "-learning_rate")
    assert columns == ["name", "config.learning_rate", "best.val_loss"]
    assert [row["name"] for row in flat] == ["b", "c"]
    _, flat = build_table(rows, None, ["learning_rate<0.05", "tags=keep"], None)
    assert [row["name"] for row in flat] == ["b"]
    _, flat = build_table(rows, None, [], "best.val_loss")
    assert [row["name"] for row in flat] == ["c", "b", "a"]
    text = render_text(*build_table(rows, None, [], "name"))
    assert text.splitlines()[0].split()[:2] == ["name", "status"] and "0.01" in text
    write_csv(tmp_path / "t.csv", *build_table(rows, ["name", "tags"], [], "name"))
    assert (tmp_path / "t.csv").read_text().splitlines() == ["name,tags", "a,", "b,keep", "c,"]
    with pytest.raises(TableError, match="unknown column 'nope'"):
        build_table(rows, ["nope"])
    with pytest.raises(TableError, match="bad filter"):
        build_table(rows, None, ["learning_rate"])
