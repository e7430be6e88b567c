"""The run picker of the Export, Inspect and Generate areas: the runs of a folder, newest first.

Runs are the rows of the folder's ``RunIndex`` (the index the Runs table reads), listed on the
picker's own worker thread: the GUI thread never reads an event log, and a long export or model
load on a panel's worker never delays a listing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QSizePolicy

from studio.core.experiments.index import RunIndex
from studio.core.formatting import plural
from studio.qt.widgets.worker import TaskRunner

Row = dict[str, Any]


def run_label(row: Row) -> str:
    """``name (status, N epochs)``, ``+ partial`` when it stopped part-way through one more."""
    epochs = row.get("epochs") or 0
    partial = " + partial" if row.get("partial_epoch") else ""
    return f"{row['name']} ({row['status']}, {plural(epochs, 'epoch')}{partial})"


class RunPicker(QComboBox):
    """The runs under ``runs_root()`` that ``accept(row)`` keeps, then the ``extra`` items
    (``(text, data)`` pairs, e.g. a source that is not a run). Item data is the run folder's path.

    ``refresh()`` lists again; the choice stays on its run while it is listed, else moves to the
    newest. With ``follow_new`` a run that appears since the last listing is chosen at once.

    Signals:
        chosen(object): the chosen item's data (None when there is none), each time it changes,
            by the user, by a listing or by ``add_folder``.
        listed: a listing is shown; ``rows`` holds its index rows.
    """

    chosen = Signal(object)
    listed = Signal()

    def __init__(self, runs_root: Callable[[], Path], accept: Callable[[Row], bool] | None = None,
                 extra: tuple[tuple[str, Any], ...] = (), follow_new: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.accept = accept
        self.extra = extra
        self.follow_new = follow_new
        self.rows: list[Row] = []
        self.worker = TaskRunner(self)
        self._listed: set[str] | None = None  # paths of the last listing (None before the first)
        self._announce = False
        self._data: Any = None
        self.setMinimumContentsLength(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # names are long: take the room
        self.currentIndexChanged.connect(lambda _index: self._announce_choice())

    def refresh(self, newest: bool = False, announce: bool = False) -> None:
        """List the runs again on the worker thread.

        Args:
            newest: choose the newest run (or the first extra item) whatever was chosen.
            announce: emit ``chosen`` after the listing even when the choice did not change.
        """
        root, accept = Path(self.runs_root()), self.accept
        self._announce |= announce

        def listing() -> list[Row]:
            return [row for row in RunIndex(root).rows() if accept is None or accept(row)]

        self.worker.submit("list", listing, lambda rows: self._show(rows, newest), self._failed)

    def row(self, path: str | Path | None) -> Row | None:
        """The listed row of the run folder ``path`` (None when it is not listed)."""
        return next((row for row in self.rows if path is not None and Path(row["path"]) == Path(path)), None)

    def add_folder(self, path: str | Path) -> None:
        """Choose a run folder that is not under the runs root (dropped at the next listing)."""
        index = self.findData(str(path))
        if index < 0:
            self.addItem(Path(path).name, str(path))
            index = self.count() - 1
        self.setCurrentIndex(index)

    def _show(self, rows: list[Row], newest: bool) -> None:
        paths = [row["path"] for row in rows]
        appeared = self._listed is not None and bool(set(paths) - self._listed)
        self._listed = set(paths)
        self.rows = rows
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        for row in rows:
            self.addItem(run_label(row), row["path"])
        for text, data in self.extra:
            self.addItem(text, data)
        keep = not newest and not (appeared and self.follow_new) and current is not None
        self.setCurrentIndex(max(self.findData(current), 0) if keep else 0)
        self.blockSignals(False)
        metrics = self.view().fontMetrics()  # the open list shows whole names
        self.view().setMinimumWidth(max((metrics.horizontalAdvance(self.itemText(i)) for i in range(self.count())),
                                        default=0) + 32)
        self.setToolTip("")
        self._announce_choice()
        self.listed.emit()

    def _failed(self, message: str) -> None:
        self._show([], newest=False)
        self.setToolTip(f"Cannot list the runs: {message}")

    def _announce_choice(self) -> None:
        if not self.toolTip().startswith("Cannot list"):
            self.setToolTip(self.currentText())  # the whole name and status, when the box cuts them
        data = self.currentData()
        if data != self._data or self._announce:
            self._data, self._announce = data, False
            self.chosen.emit(data)
