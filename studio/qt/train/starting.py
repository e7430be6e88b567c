"""Starting a run from the GUI: the Train panel's Start and the variants of "Compare variants"."""

from __future__ import annotations

from studio.core.data.cache import load_cached
from studio.core.training import Runner
from studio.core.training.plan import load_checked_dataset


def start_runner(runner: Runner) -> Runner:
    """Plan and start ``runner`` on the dataset the Data panel already loaded (the shared cache), so
    a start loads it only once in this process. Runs on a worker thread; the caller keeps ``runner``,
    so a Stop pressed meanwhile reaches it (the Runner sends it once the run folder exists)."""
    runner.dataset = load_checked_dataset(runner.project.dataset, load_cached)
    runner.start()
    return runner
