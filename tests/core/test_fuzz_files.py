"""Seeded fuzzer: mutated project files and ``.keras`` configs must end in a studio result or one of
our error classes (never another exception, never a hang), and write nothing outside the temp folder.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from keras_configs import base_config, keras_object, write_keras
from studio.core.graph.infer import analyze
from studio.core.graph.keras_io import KerasImportError, load_keras_file
from studio.core.project import ProjectError, default_project, load_project, save_project

SEED = 13
PROJECT_MUTANTS = 320
KERAS_MUTANTS = 120


def _deep(levels: int):
    value: object = 0
    for _ in range(levels):
        value = [value] if levels % 2 else {"k": value}
    return value


REPLACEMENTS = [
    None, True, False, 0, -1, 2**70, 1e308, float("nan"), float("inf"), -0.0, "", "x" * 10_000,
    "\ud800", "名前 ü 🙂", "\x00", [], {}, [1, "a", None], {"a": {"b": [1]}},
    keras_object("builtins", "eval"), keras_object("os", "system"), keras_object("subprocess", "Popen"),
    {"class_name": "__lambda__", "config": {"code": "AAAA"}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"layers": []}},
    {"module": "studio.core.graph.custom_layers", "class_name": "Evil", "registered_name": "studio>Evil"},
    {"class_name": "__keras_tensor__", "config": {"keras_history": ["nowhere"]}},
    "DEEP", "DEEPER",
]


def _replacement(rng: random.Random):
    value = rng.choice(REPLACEMENTS)
    if value == "DEEP":
        return _deep(rng.choice([70, 200, 600]))
    if value == "DEEPER":
        return _deep(900)
    return value


def _containers(value) -> list:
    """Every non-empty container in ``value`` down to 40 levels, in a stable order (iterative:
    the fuzzer's own deep values must not crash it)."""
    found, stack = [], [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = list(item.values()) if isinstance(item, dict) else item if isinstance(item, list) else None
        if children and depth < 40:
            found.append(item)
            stack.extend((child, depth + 1) for child in reversed(children))
    return found


def mutate(data, rng: random.Random):
    """One to three random edits: replace, delete or wrap a value anywhere in the document."""
    for _ in range(rng.randint(1, 3)):
        containers = _containers(data)
        if not containers:
            return _replacement(rng)
        container = rng.choice(containers)
        key = rng.choice(list(container) if isinstance(container, dict) else range(len(container)))
        action = rng.random()
        if action < 0.6:
            container[key] = _replacement(rng)
        elif action < 0.75:
            del container[key]
        elif action < 0.9:
            container[key] = [container[key]]
        elif action < 0.98 and isinstance(container[key], str):
            container[key] = container[key] + rng.choice(["\ud83d", "\u202e", "é", "\n"])
        elif action >= 0.99:
            return _replacement(rng)  # the whole document
    return data


def _text(data) -> str:
    try:
        return json.dumps(data, ensure_ascii=True)  # escapes lone surrogates like hostile files do
    except (RecursionError, ValueError):
        return "[" * 5000 + "]" * 5000


def _use_analysis(graph) -> None:
    """What the CLI and the Problems list do with a loaded graph: analyze it and print messages."""
    analysis = analyze(graph)
    for problem in analysis.problems:
        problem.message.encode("utf-8")
    for node in graph.nodes.values():
        f"{node.name} {node.type}".encode("utf-8")


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A temp folder as the working directory and temp dir, and a check that nothing else is written."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(work))
    repo = Path(__file__).resolve().parents[2]
    before = set(os.listdir(repo))
    yield work
    assert set(os.listdir(repo)) == before, "a file was written into the repository"
    outside = [p for p in tmp_path.rglob("*") if p.parent != work and p != work]
    assert not outside, f"files written outside the work folder: {outside[:3]}"


@pytest.mark.timeout(60)
def test_mutated_project_files_never_crash(sandbox):
    rng = random.Random(SEED)
    bases = [default_project().to_dict()]
    with_vae = default_project()
    from studio.core.graph.templates import load_template

    with_vae.graph = load_template("vae_28").graph
    bases.append(with_vae.to_dict())
    outcomes = {"loaded": 0, "refused": 0}
    for index in range(PROJECT_MUTANTS):
        data = mutate(json.loads(json.dumps(rng.choice(bases))), rng)
        path = sandbox / f"m{index}.dlstudio"
        path.write_text(_text(data), encoding="utf-8")
        try:
            project = load_project(path)
        except ProjectError as exc:
            str(exc).encode("utf-8")
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
            continue
        _use_analysis(project.graph)
        save_project(project, path)  # what loads must save and load again
        load_project(path)
        outcomes["loaded"] += 1
    assert min(outcomes.values()) > 20, outcomes  # the fuzzer reaches both outcomes


def _keras_mutant(rng: random.Random):
    data = base_config()
    if rng.random() < 0.3:  # structure-level damage, as in the samples
        layers = data["config"]["layers"]
        victim = rng.choice(layers)
        choice = rng.randrange(6)
        if choice == 0:
            data[rng.choice(["config", "class_name", "module"])] = _replacement(rng)
        elif choice == 1:
            data["config"]["layers"] = _replacement(rng)
        elif choice == 2:
            victim.pop("config", None)
        elif choice == 3:
            victim["config"]["name"] = rng.choice([1, None, "", "bidi", "\ud800"])
        elif choice == 4 and victim["inbound_nodes"]:
            args = victim["inbound_nodes"][0]["args"]
            history = json.dumps(args)
            victim["inbound_nodes"][0]["args"] = json.loads(history.replace('"keras_history": ["', '"keras_history": ["x'))
        else:
            victim["inbound_nodes"] = [rng.choice([[], {}, "x", [1, 2]])]
        return data
    return mutate(data, rng)


@pytest.mark.timeout(60)
def test_mutated_keras_configs_never_crash(sandbox):
    rng = random.Random(SEED)
    outcomes = {"loaded": 0, "refused": 0}
    for index in range(KERAS_MUTANTS):
        path = sandbox / f"m{index}.keras"
        write_keras(path, None, raw=_text(_keras_mutant(rng)).encode())
        try:
            graph = load_keras_file(path)
        except KerasImportError as exc:
            str(exc).encode("utf-8")
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
            continue
        _use_analysis(graph)
        outcomes["loaded"] += 1
    assert min(outcomes.values()) > 5, outcomes
