"""Issue 25, the run store: each run is read on its own (a damaged one is one row marked damaged, with
the reason; the others are unaffected), a damaged index is rebuilt once, a locked one is never
deleted, and a huge events log is indexed with bounded memory. Every corruption is made here."""

import json
import os
import sqlite3
import time
import tracemalloc

import pytest

from studio.cli import main
from studio.core.experiments import index as index_module
from studio.core.experiments import summary as summary_module
from studio.core.experiments.curve_cache import load_curves
from studio.core.experiments.index import INDEX_FILE, RunIndex
from studio.core.experiments.summary import DAMAGED, SUMMARY_FILE, update_summary
from test_experiments_store import make_run


def two_runs(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "good")
    make_run(root / "bad")
    RunIndex(root).rows()  # indexed and summarised once, as after earlier listings
    return root


def rows_by_name(root):
    return {row["name"]: row for row in RunIndex(root).rows()}


def rewrite_events(run, change):
    """Rewrite the events log of ``run`` with ``change(event)`` applied to its epoch events."""
    path = run / "events.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(change(e) if e["type"] == "epoch" else e) + "\n" for e in events))
    (run / SUMMARY_FILE).unlink()


def edit_json(path, change):
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


SKIPPED_EVENTS = {  # the run stays a normal row: the malformed epoch events are skipped
    "epoch is text": lambda run: rewrite_events(run, lambda e: {**e, "epoch": "x"} if e["epoch"] == 3 else e),
    "logs is a list": lambda run: rewrite_events(run, lambda e: {**e, "logs": [1, 2]} if e["epoch"] == 3 else e),
    "epoch is a bool": lambda run: rewrite_events(run, lambda e: {**e, "epoch": True} if e["epoch"] == 3 else e),
    "labels.json is a FIFO": lambda run: (rewrite_events(run, lambda e: e if e["epoch"] < 3 else {}),
                                          os.mkfifo(run / "labels.json")),
}
REBUILT_SUMMARIES = {  # summary.json is rebuilt from the events
    "summary without fields": lambda run: (run / SUMMARY_FILE).write_text('{"version": 1}'),
    "offset is text": lambda run: edit_json(run / SUMMARY_FILE, lambda s: {**s, "offset": "12"}),
    "best is wrongly typed": lambda run: edit_json(run / SUMMARY_FILE, lambda s: {**s, "best": {"loss": 3}}),
    "last holds text": lambda run: edit_json(run / SUMMARY_FILE, lambda s: {**s, "last": {"loss": "x"}}),
    "summary is a list": lambda run: (run / SUMMARY_FILE).write_text("[1]"),
    "summary is cut": lambda run: (run / SUMMARY_FILE).write_bytes((run / SUMMARY_FILE).read_bytes()[:20]),
}
DAMAGED_RUNS = {  # one row marked damaged, saying why
    "run.json is a list": (lambda run: (run / "run.json").write_text("[1, 2]"), "run.json holds list"),
    "times are text": (lambda run: edit_json(run / "run.json", lambda i: {**i, "created": "yesterday"}),
                       "created is 'yesterday'"),
    "config is a list": (lambda run: edit_json(run / "run.json", lambda i: {**i, "config": [1]}), "config is [1]"),
    "pid is text": (lambda run: edit_json(run / "run.json", lambda i: {**i, "pid": "1"}), "pid is '1'"),
    "run.json is cut": (lambda run: (run / "run.json").write_bytes((run / "run.json").read_bytes()[:30]),
                        "run.json: not valid JSON"),
    "events.jsonl is a folder": (lambda run: ((run / "events.jsonl").unlink(), (run / "events.jsonl").mkdir()),
                                 "cannot read events.jsonl: not a regular file"),
    "events.jsonl is a FIFO": (lambda run: ((run / "events.jsonl").unlink(), os.mkfifo(run / "events.jsonl")),
                               "cannot read events.jsonl: not a regular file"),
    "run.json is a FIFO": (lambda run: ((run / "run.json").unlink(), os.mkfifo(run / "run.json")),
                           "run.json is not a file"),
    "gpus hold text": (lambda run: edit_json(run / "run.json", lambda i: {**i, "device": {"gpus": "ab"}}),
                       "unexpected contents (AttributeError"),
}


@pytest.mark.parametrize("damage", SKIPPED_EVENTS.values(), ids=SKIPPED_EVENTS)
def test_malformed_epoch_events_are_skipped(tmp_path, damage):
    root = two_runs(tmp_path)
    damage(root / "bad")
    rows = rows_by_name(root)
    assert rows["bad"]["status"] == "completed" and rows["bad"]["epochs"] == 2
    assert rows["good"]["epochs"] == 3


@pytest.mark.parametrize("damage", REBUILT_SUMMARIES.values(), ids=REBUILT_SUMMARIES)
def test_a_malformed_summary_is_rebuilt_from_the_events(tmp_path, damage):
    root = two_runs(tmp_path)
    expected = json.loads((root / "bad" / SUMMARY_FILE).read_text())
    damage(root / "bad")
    assert update_summary(root / "bad") == expected
    assert json.loads((root / "bad" / SUMMARY_FILE).read_text()) == expected


@pytest.mark.parametrize("damage, reason", DAMAGED_RUNS.values(), ids=DAMAGED_RUNS)
def test_a_damaged_run_is_one_damaged_row_and_the_others_are_listed(tmp_path, capsys, damage, reason):
    root = two_runs(tmp_path)
    good = rows_by_name(root)["good"]
    damage(root / "bad")
    rows = rows_by_name(root)
    assert rows["good"] == good
    assert rows["bad"]["status"] == DAMAGED and reason in rows["bad"]["error"], rows["bad"]["error"]
    assert rows["bad"]["path"] == str(root / "bad")
    assert main(["runs", str(root), "--columns", "all"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["good", "completed"], ["bad", DAMAGED]]
    assert f"damaged: bad: {rows['bad']['error']}" in err and "Traceback" not in err


def index_rows(root, change):
    db = sqlite3.connect(root / INDEX_FILE)
    for name, text in db.execute("SELECT name, row FROM runs").fetchall():
        db.execute("UPDATE runs SET row = ? WHERE name = ?", (change(json.loads(text)), name))
    db.commit()
    db.close()


@pytest.mark.parametrize("change", [
    lambda row: "{not json",
    lambda row: json.dumps([row]),
    lambda row: json.dumps({k: v for k, v in row.items() if k != "info"}),
    lambda row: json.dumps({**row, "created": "2026-01-01"}),
    lambda row: json.dumps({**row, "last": [1]}),
    lambda row: json.dumps({**row, "info": {"pid": "x"}}),
    lambda row: b"\xff\xfe not utf-8",
], ids=["not JSON", "a list", "missing keys", "text created", "last a list", "text pid", "bad bytes"])
def test_malformed_index_rows_are_read_again_from_their_folders(tmp_path, change):
    root = two_runs(tmp_path)
    before = rows_by_name(root)
    index_rows(root, change)
    assert rows_by_name(root) == before


def counting_summaries(monkeypatch):
    summarised = []
    real = summary_module.update_summary
    monkeypatch.setattr("studio.core.experiments.summary.update_summary",
                        lambda path, **kw: summarised.append(os.path.basename(path)) or real(path, **kw))
    return summarised


def test_an_index_with_damaged_pages_is_rebuilt_once(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    for number in range(30):  # enough rows for the index to span several pages
        make_run(root / f"run{number:02d}", epochs=1, steps=1)
    before = rows_by_name(root)
    index = root / INDEX_FILE
    assert index.stat().st_size > 6 * 4096
    with open(index, "r+b") as handle:  # dd if=/dev/urandom bs=4096 seek=1 count=5 conv=notrunc
        handle.seek(4096)
        handle.write(os.urandom(5 * 4096))
    assert rows_by_name(root) == before
    summarised = counting_summaries(monkeypatch)
    assert rows_by_name(root) == before and summarised == []  # rebuilt, then trusted again
    (root / INDEX_FILE).write_bytes(b"SQLite format 3\x00" + os.urandom(8000))  # header kept, rest noise
    assert rows_by_name(root) == before


@pytest.mark.parametrize("shape", [
    "CREATE TABLE runs (id INTEGER, data BLOB)",
    "CREATE VIEW runs AS SELECT 1 AS name, 2 AS stamp, 3 AS row",
    "CREATE VIEW runs AS SELECT 1 AS id",
])
def test_an_index_of_another_shape_is_rebuilt_once(tmp_path, monkeypatch, shape):
    root = tmp_path / "runs"
    make_run(root / "a")
    db = sqlite3.connect(root / INDEX_FILE)
    db.execute(shape)
    db.execute(f"PRAGMA user_version = {index_module.INDEX_VERSION}")  # this version's, yet not our table
    db.commit()
    db.close()
    assert list(rows_by_name(root)) == ["a"]
    summarised = counting_summaries(monkeypatch)
    assert list(rows_by_name(root)) == ["a"] and summarised == []


def test_a_locked_index_is_read_around_and_never_deleted(tmp_path, monkeypatch):
    root = two_runs(tmp_path)
    before = rows_by_name(root)
    monkeypatch.setattr(index_module, "LOCK_WAIT_S", 0.3)
    inode = (root / INDEX_FILE).stat().st_ino
    writer = sqlite3.connect(root / INDEX_FILE, isolation_level=None)  # another program's transaction
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO runs VALUES ('elsewhere', 's', '{}')")
    try:
        make_run(root / "new")  # a run the index does not know yet
        started = time.monotonic()
        rows = rows_by_name(root)
        assert time.monotonic() - started < 5
        assert set(rows) == {"good", "bad", "new"} and rows["good"] == before["good"]
        assert (root / INDEX_FILE).stat().st_ino == inode
        writer.execute("COMMIT")  # the other writer is unharmed
    finally:
        writer.close()
    check = sqlite3.connect(root / INDEX_FILE)
    assert check.execute("SELECT count(*) FROM runs WHERE name = 'elsewhere'").fetchone() == (1,)
    check.close()


def write_big_log(run, megabytes):
    """Append about ``megabytes`` MB of batch events (the bulk of a real log) and one last epoch."""
    line = json.dumps({"type": "batch", "epoch": 3, "step": 1, "steps": 5, "lr": 0.01,
                       "logs": {"loss": 0.123456, "accuracy": 0.5}}).encode() + b"\n"
    block = line * (2**20 // len(line))
    with open(run / "events.jsonl", "ab") as handle:
        for _ in range(megabytes):
            handle.write(block)
        handle.write(json.dumps({"type": "epoch", "epoch": 4, "logs": {"loss": 0.01}}).encode() + b"\n")


def test_indexing_a_large_events_log_streams_it(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "long")
    RunIndex(root).rows()  # the modules a listing imports are not what is measured
    write_big_log(root / "long", 24)
    tracemalloc.start()
    try:
        rows = RunIndex(root).rows()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows[0]["epochs"] == 4 and rows[0]["last"] == {"loss": 0.01}
    # the 1 MiB chunk and its lines, and the capped read of run.json / summary.json (4 MiB)
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 24 MB log"


@pytest.mark.slow
def test_the_curves_of_a_large_events_log_are_read_as_a_stream(tmp_path):
    run = tmp_path / "runs" / "long"
    make_run(run)
    load_curves(run, store_after=None)
    write_big_log(run, 6)  # 60,000 events: six batches of EVENTS_PER_BATCH (tracing makes each MB cost ~1 s)
    tracemalloc.start()
    try:
        curves = load_curves(run, store_after=None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(curves.get("logs/loss").y)[-1] == 0.01
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 6 MB log"  # 18 MiB; 62 with every event kept

@pytest.mark.slow
def test_indexing_a_400_mb_events_log_keeps_the_peak_rss_bounded(tmp_path):
    import subprocess
    import sys

    root = tmp_path / "runs"
    make_run(root / "long")
    write_big_log(root / "long", 400)
    probe = ("import resource, sys; from studio.core.experiments.index import RunIndex; "
             "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; rows = RunIndex(sys.argv[1]).rows(); "
             "print(rows[0]['epochs'], before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split()
    epochs, before_kib, peak_kib = map(int, out)
    print(f"indexing a {(root / 'long' / 'events.jsonl').stat().st_size / 1e6:.0f} MB log: "
          f"peak RSS {peak_kib / 1024:.0f} MiB (imports: {before_kib / 1024:.0f} MiB)")
    assert epochs == 4 and peak_kib - before_kib < 64 * 1024
