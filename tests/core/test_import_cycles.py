"""No import circles among studio modules, and no two core packages importing each other, counting
imports inside functions too.

``from a import b`` counts as importing the module ``a.b`` when that is a module, else ``a``.
A package's ``__init__`` is only counted when it is imported by name, so the usual
"package re-exports its submodules" pattern is not a circle by itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import studio

ROOT = Path(studio.__file__).resolve().parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The studio modules ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {target for target in found if target in modules and target != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


@pytest.fixture(scope="module")
def import_graph() -> dict[str, set[str]]:
    """Every studio module's studio imports (each source file parsed once for this module's tests)."""
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_checker_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_from_import_resolves_to_the_submodule(import_graph):
    graph = import_graph
    # live.py does `from studio.core.training.runs import RunFolder`: the module, not the package
    assert "studio.core.training.runs" in graph["studio.core.generative.live"]
    assert "studio.core.training" not in graph["studio.core.generative.live"]


def test_no_import_circles_in_studio(import_graph):
    cycle = find_cycle(import_graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def core_package(module: str) -> str | None:
    """``studio.core.X`` for a module of core (X a subpackage or a top-level module), else None."""
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[:2] == ["studio", "core"] and len(parts) > 2 else None


def package_pairs(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Pairs of core packages that import each other (at any level, inside functions too)."""
    edges = {(core_package(src), core_package(dst)) for src, targets in graph.items() for dst in targets}
    edges = {(a, b) for a, b in edges if a and b and a != b}
    return {tuple(sorted(edge)) for edge in edges if edge[::-1] in edges}


def test_the_pair_check_counts_imports_inside_functions():
    graph = {"studio.core.a.x": {"studio.core.b.y"}, "studio.core.b.y": {"studio.core.a"}, "studio.core.a": set(),
             "studio.core.c": {"studio.core.a.x"}}
    assert package_pairs(graph) == {("studio.core.a", "studio.core.b")}


def test_no_two_core_packages_import_each_other(import_graph):
    pairs = package_pairs(import_graph)
    assert not pairs, "core packages importing each other: " + ", ".join(" <-> ".join(pair) for pair in sorted(pairs))


def test_training_knows_no_feature():
    """Features plug into runs through studio.core.hooks: training names none of them, not even as a
    string for importlib."""
    features = ("studio.core.transfer", "studio.core.generative", "studio.core.experiments", "studio.core.inspect",
                "studio.core.integrations")
    for path in (ROOT / "core" / "training").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named = [feature for feature in features if feature in text]
        assert not named, f"{path.name} names {', '.join(named)}"
