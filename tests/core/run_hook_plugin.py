"""A plugin for tests/core/test_run_hooks.py: a note and a folder callback on every run it is registered for."""

from studio.core.training.build import RunAddition
from studio.core.training.callbacks import Hooks


class Marker(Hooks):
    """Writes RUN/plugin.txt when training begins."""

    def __init__(self, folder) -> None:
        self.folder = folder

    def on_train_begin(self, logs=None):
        (self.folder.path / "plugin.txt").write_text("ran", encoding="utf-8")


def extend_run(run) -> RunAddition:
    return RunAddition(folder_callbacks=[Marker], notes=[f"plugin saw {run.config.epochs} epochs"])
