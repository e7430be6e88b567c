"""The runs table's "Bagging Ensemble of This Run…": N members of a run's project, each trained on a
bootstrap resample of the training split (``studio.core.ensemble.bagging``), then their ensemble.

The members train one after another in child processes, followed from a worker thread of their own
(the table's worker stays free to list and overlay runs); the table lists each member as it starts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog

from studio.qt.widgets.worker import TaskRunner

DEFAULT_MEMBERS = 3


def ask_members(parent, epochs: int | None = None) -> int | None:
    """The number of members the user picks (each trains ``epochs``, when known), or None when they cancel."""
    from studio.core.ensemble import MAX_MEMBERS

    cost = f", {epochs} epochs each like this run" if epochs else ""
    count, ok = QInputDialog.getInt(parent, "Bagging ensemble", "Members (each trained on a bootstrap "
                                    f"resample of the training split{cost}):", DEFAULT_MEMBERS, 2, MAX_MEMBERS)
    return count if ok else None


def scores_text(scores: list[tuple[str, str, float]]) -> str:
    """``member 1 0.91 · member 2 0.89 · ensemble 0.93 (test accuracy)``."""
    metric = scores[-1][1] if scores else ""
    parts = [f"{'ensemble' if label == 'ensemble' else f'member {number}'} {value:.3f}"
             for number, (label, _metric, value) in enumerate(scores, start=1)]
    return " · ".join(parts) + f" (test {metric})"


def progress_text(number: int, members: int, epoch: int, epochs: int | None) -> str:
    """``Bagging: member 2 of 3, epoch 4 of 10…`` (``epoch`` 0: the member is starting)."""
    where = f"epoch {epoch}" + (f" of {epochs}" if epochs else "") if epoch else "starting"
    return f"Bagging: member {number} of {members}, {where}…"


def start_bagging(view, worker: TaskRunner, run_dir: str, runs_root: Path, members: int | None = None) -> None:
    """Train the bagging members of run ``run_dir``'s project under ``runs_root`` and report on ``view``.

    Args:
        view: the RunsView (its ``where`` label says how far it got; its table is refreshed).
        worker: the thread that follows the members (not the table's: listing must go on).
        run_dir: the run whose project snapshot (data, model, training settings) every member trains.
        runs_root: where the member runs and the ensemble run are written.
        members: how many members; None asks the user.
    """
    from studio.core.project import ProjectError, load_project
    from studio.core.rl.runner import is_dqn_run
    from studio.core.training.runs import RunFolder

    if worker.busy:
        view.where.setText("A bagging ensemble is still training: start another once it is saved.")
        return
    if is_dqn_run(RunFolder(run_dir).info()):
        view.where.setText("A DQN run learns from rewards, not labels: bagging needs a supervised run.")
        return
    try:
        project = load_project(RunFolder(run_dir).project_file)
    except ProjectError as exc:
        view.where.setText(f"Bagging needs the run's project snapshot, which cannot be read: {exc}")
        return
    members = members or ask_members(view, project.training.get("epochs"))
    if members is None:
        return

    def work(progress):
        from studio.core.ensemble import bagging

        epochs = {}  # per member: the epochs its start event announced

        def on_event(number: int, event: dict) -> None:
            if event["type"] == "start":
                epochs[number] = event.get("epochs")
            if event["type"] in ("start", "epoch"):
                progress((number, event.get("epoch", 0), epochs.get(number)))

        return bagging(project, members, runs_root, on_event=on_event)

    def on_progress(value) -> None:
        number, epoch, epochs = value
        view.where.setText(progress_text(number, members, epoch, epochs))
        if not epoch:
            view.refresh()

    def done(result) -> None:
        view.where.setText(f"Saved the bagging ensemble as run {result.run_dir.name}: {scores_text(result.scores)}")
        view.refresh()

    view.where.setText(f"Bagging: training {members} members…")
    worker.submit("bagging", work, done, lambda message: view.where.setText(f"Bagging stopped: {message}"),
                  on_progress)
