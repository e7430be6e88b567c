"""A run folder as a finished training leaves it, for the panels that read runs."""

import os
import socket
import time

from studio.core import fileio
from studio.core.graph.keras_io import to_keras
from studio.core.project import save_project
from studio.core.training import RunFolder


def completed_run(root, name: str, project) -> RunFolder:
    """``root/runs/20260101-000000-NAME``: the project snapshot, its (untrained) model and a completed run.json."""
    run = RunFolder(root / "runs" / f"20260101-000000-{name}")
    run.path.mkdir(parents=True)
    save_project(project, run.project_file)
    fileio.atomic_replace_with(run.model_file, to_keras(project.graph).save)
    run.update_info(name=name, status="completed", created=time.time(), pid=os.getpid(), host=socket.gethostname())
    return run
