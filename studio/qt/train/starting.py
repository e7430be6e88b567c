"""Starting a run from the GUI: the Train panel's Start and the variants of "Compare variants"."""

from __future__ import annotations

from pathlib import Path

from studio.core.data.cache import load_cached
from studio.core.training import Runner
from studio.core.training.plan import load_checked_dataset


def start_runner(project, run_dir: Path) -> Runner:
    """Plan and start a run on the dataset the Data panel already loaded (the shared cache), so a
    start loads it only once in this process. Runs on a worker thread."""
    runner = Runner(project, run_dir, dataset=load_checked_dataset(project.dataset, load_cached))
    runner.start()
    return runner
