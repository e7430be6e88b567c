"""Seeded fuzzer of run folders (issue 25): random truncations, type swaps and byte flips of run.json,
summary.json, events.jsonl and the runs index. Every listing must show every run exactly once (a
damaged one as a ``damaged`` row), render as a table, and raise nothing."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import time

import pytest

from studio.cli import main
from studio.core.experiments.index import INDEX_FILE, RunIndex
from studio.core.experiments.summary import DAMAGED, SUMMARY_FILE
from studio.core.experiments.table import build_table, render_text
from test_experiments_store import make_run

SEED = 25
MUTANTS = 600
RUNS = ("r0", "r1", "r2")
FILES = ("run.json", SUMMARY_FILE, "events.jsonl", INDEX_FILE)
REPLACEMENTS = [None, True, False, 0, -1, 2**70, 1e308, float("nan"), float("inf"), -0.0, "", "x" * 5000,
                "\ud800", "名前 🙂", [], {}, [1, "a", None], {"a": {"b": [1]}}, "12", "yesterday"]


def _paths(value, prefix=()):
    """Every path (tuple of keys and indexes) into a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found += _paths(item, prefix + (number,))
    return found


def type_swap(rng, value):
    """``value`` with one randomly chosen part replaced by a value of another kind."""
    path = rng.choice(_paths(value))
    replacement = rng.choice(REPLACEMENTS)
    if not path:
        return replacement
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = replacement
    return value


def dumps(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def mutate_bytes(rng, data: bytes) -> bytes:
    if not data or rng.random() < 0.4:
        return data[:rng.randrange(len(data) + 1)]  # truncation
    data = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def mutate_file(rng, path):
    data = path.read_bytes()
    kind = rng.choice(("bytes", "swap")) if path.suffix != ".sqlite" else rng.choice(("bytes", "rows"))
    if kind == "bytes":
        path.write_bytes(mutate_bytes(rng, data))
    elif kind == "rows":  # a type swap inside one stored row
        db = sqlite3.connect(path)
        name, text = rng.choice(db.execute("SELECT name, row FROM runs").fetchall())
        db.execute("UPDATE runs SET row = ? WHERE name = ?", (dumps(type_swap(rng, json.loads(text))), name))
        db.commit()
        db.close()
    elif path.name == "events.jsonl":
        lines = data.splitlines()
        number = rng.randrange(len(lines))
        lines[number] = dumps(type_swap(rng, json.loads(lines[number])))
        path.write_bytes(b"\n".join(lines) + b"\n")
    else:
        path.write_bytes(dumps(type_swap(rng, json.loads(data))))


@pytest.mark.slow
def test_mutated_run_folders_and_indexes_never_break_the_listing(tmp_path, capsys):
    pristine = tmp_path / "pristine"
    for number, name in enumerate(RUNS):
        make_run(pristine / name, epochs=2, steps=2, lr=0.1 / (number + 1), status="completed" if number else "failed")
    RunIndex(pristine).rows()  # summaries and index written
    rng = random.Random(SEED)
    started, damaged = time.monotonic(), 0
    for mutant in range(MUTANTS):
        root = tmp_path / f"m{mutant}"
        shutil.copytree(pristine, root)
        target = rng.choice(FILES)
        path = root / target if target == INDEX_FILE else root / rng.choice(RUNS) / target
        mutate_file(rng, path)
        if target != INDEX_FILE and rng.random() < 0.5:
            (root / INDEX_FILE).unlink()  # else the stamp may keep the indexed row
        for _listing in (1, 2):  # the first may rebuild the index, the second reads it
            rows = RunIndex(root).rows()
            assert sorted(row["name"] for row in rows) == list(RUNS), (mutant, target)
            render_text(*build_table(rows, ["all"]))
        damaged += sum(row["status"] == DAMAGED for row in rows)
        if mutant % 25 == 0:
            assert main(["runs", str(root), "--columns", "all"]) == 0
            assert "Traceback" not in capsys.readouterr().err
        shutil.rmtree(root)
    print(f"{MUTANTS} mutants, {damaged} damaged rows, {time.monotonic() - started:.1f} s")
    assert 0 < damaged < MUTANTS  # both kinds happened: damage shown, and damage repaired
