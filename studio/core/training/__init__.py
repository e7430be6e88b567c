"""Training engine: settings, run folders with live events, and a Runner training in a child process.

Importing this package does not import Keras or TensorFlow; the training process does.
"""

from studio.core.training.config import TRAINING_FIELDS, TrainingConfig
from studio.core.training.errors import TrainingError
from studio.core.training.plan import RunPlan, plan_run
from studio.core.training.runner import Runner
from studio.core.training.runs import (
    EventTail,
    RunFolder,
    default_runs_root,
    delete_run,
    new_run_dir,
    read_events,
    read_run,
    send_control,
)
from studio.core.training.watch import RunWatcher

__all__ = ["TRAINING_FIELDS", "EventTail", "RunFolder", "RunPlan", "RunWatcher", "Runner",
           "TrainingConfig", "TrainingError", "default_runs_root", "delete_run", "new_run_dir", "plan_run",
           "read_events", "read_run", "send_control"]
