"""The hook list: features add to a run through named hooks, and training calls every registered
implementation without knowing (or importing) the features.

A plugin is a module that defines some of the functions named in ``HOOKS``. Entry points (the CLI,
the app, the training process) register plugins by module name (``studio.core.features`` lists the
studio's own); a module is imported the first time a hook is called, so registering is free at
start-up. ``registered()`` is what a spawned training process is handed to register the same
plugins. Hooks (the ``Run*`` types are in ``studio.core.training.build``):

- ``objective_builder(project) -> build | None``: the builder of the project's objective (the first
  answer wins; no answer: ordinary supervised training).
- ``plan_objective(project, dataset) -> (graph, changes) | None``: an objective that fits its graph to
  the data itself (the usual model <-> label checks do not apply to it).
- ``compat_problems(project, facts) -> list[str] | None``: an objective's own model <-> data check.
- ``check_run(project, config) -> None``: raise TrainingError before a run starts when a feature's
  setting cannot be served.
- ``supervised_loss(dataset, loss, from_logits) -> (loss, note) | None``: a Keras loss replacing the
  default one of the named ``loss``.
- ``extend_run(run: RunContext) -> RunAddition | None``: callbacks, folder callbacks and notes a
  feature adds to a built model (every objective; ``run.supervised`` tells which).
- ``engine_callbacks(folder, state, dataset) -> list``: callbacks that run after the engine's own
  (they see the epoch's event written and whether the run failed).
- ``project_section_problem(section, value) -> str | None``: what is wrong with a project section the
  feature owns (``studio.core.project.FEATURE_SECTIONS``), in one line; checked when a project loads.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Iterator

HOOKS = ("objective_builder", "plan_objective", "compat_problems", "check_run", "supervised_loss",
         "extend_run", "engine_callbacks", "project_section_problem")

_names: list[str] = []
_modules: dict[str, ModuleType] = {}


def register(*names: str) -> None:
    """Add plugin modules by name (again: nothing changes); they are imported when a hook is called.

    Args:
        *names: importable module names, each defining some of ``HOOKS``.
    """
    for name in names:
        if name not in _names:
            _names.append(name)


def registered() -> tuple[str, ...]:
    """The registered plugin module names, in registration order."""
    return tuple(_names)


def _answers(hook: str, args: tuple) -> Iterator[Any]:
    """Each registered implementation's answer to ``hook``, importing plugins on first use."""
    if hook not in HOOKS:
        raise ValueError(f"unknown hook {hook!r}")
    for name in list(_names):
        if name not in _modules:
            _modules[name] = importlib.import_module(name)
        implementation = getattr(_modules[name], hook, None)
        if implementation is not None:
            answer = implementation(*args)
            if answer is not None:
                yield answer


def call(hook: str, *args: Any) -> list[Any]:
    """Every registered implementation's answer to ``hook`` (None answers left out).

    Args:
        hook: one of ``HOOKS``.
        *args: the hook's arguments.

    Returns:
        The answers, in registration order.
    """
    return list(_answers(hook, args))


def first(hook: str, *args: Any) -> Any:
    """The first registered implementation's answer to ``hook`` that is not None, else None."""
    return next(_answers(hook, args), None)
