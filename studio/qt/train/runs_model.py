"""The run table's Qt model: index rows shown through the core table (columns, filters, sorting).

Rows come from ``RunIndex.rows()``; ``studio.core.experiments.table`` flattens, filters and sorts
them exactly as ``studio runs`` does, so a filter typed here means what it means on the command
line. Tags and notes are edited in place and written to RUN/labels.json through core.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from studio.core.experiments import labels, table

EDITABLE = ("tags", "note")
FILTER_SEPARATOR = ";"


def header_text(column: str) -> str:
    """``learning_rate`` for ``config.learning_rate``; other columns keep their group."""
    return column.split(".", 1)[1] if column.startswith("config.") else column


def split_filters(text: str) -> list[str]:
    """``'optimizer=adam; val_loss<0.5'`` -> the filters, as ``--filter`` takes them one by one."""
    return [part.strip() for part in text.split(FILTER_SEPARATOR) if part.strip()]


def parse_tags(text: str) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in text.split(",") if tag.strip()))


class RunsModel(QAbstractTableModel):
    """Runs as table rows: ``set_rows`` (from the index), ``set_columns``, ``set_filters``, and
    ``sort`` (header clicks). ``shown`` holds the flat rows on screen, in order.

    Signals:
        failed(str): a filter, column or label edit was refused (one line).
    """

    failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = []
        self.shown: list[dict[str, Any]] = []
        self.chosen: list[str] | None = None  # None: the core's default columns
        self.filters: list[str] = []
        self.sort_key: str | None = None

    # -- state -----------------------------------------------------------------------------
    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self._rebuild()

    def set_filters(self, filters: list[str]) -> bool:
        """Show only the rows every filter accepts; False (and ``failed``) when one is invalid."""
        old, self.filters = self.filters, filters
        if not self._rebuild():
            self.filters = old
            self._rebuild()
            return False
        return True

    def set_columns(self, columns: list[str]) -> None:
        self.chosen = list(columns)
        self._rebuild()

    def available_columns(self) -> list[str]:
        """Every column some run fills (config values, metrics, dataset fields...)."""
        flat = [table.flatten(row) for row in self.rows]
        return [c for c in table.columns_of(flat) if any(f.get(c) not in (None, "", []) for f in flat)]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        self.sort_key = ("-" if descending else "") + self.columns[column]
        self._rebuild()

    def _rebuild(self) -> bool:
        present = set(table.columns_of([table.flatten(row) for row in self.rows]))
        # a chosen column (or the sort column) that no run has any more is dropped, not an error
        columns = [c for c in self.chosen if c in present] or None if self.chosen is not None else None
        sort = self.sort_key if self.sort_key and self.sort_key.lstrip("-") in present else None
        try:
            new_columns, shown = table.build_table(self.rows, columns, self.filters, sort)
        except table.TableError as exc:
            self.failed.emit(str(exc))
            return False
        if columns is None:  # the labels are always there to be edited
            new_columns += [column for column in EDITABLE if column not in new_columns]
        self.beginResetModel()
        self.columns, self.shown = new_columns, shown
        self.endResetModel()
        return True

    def path(self, row: int) -> str:
        return self._row_of(self.shown[row]["name"]).get("path", "")

    def _row_of(self, name: str) -> dict[str, Any]:
        return next((row for row in self.rows if row["name"] == name), {})

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.shown)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return header_text(self.columns[section])
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.columns[section]} (click to sort)"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        flat, column = self.shown[index.row()], self.columns[index.column()]
        value = flat.get(column)
        if role == Qt.ItemDataRole.DisplayRole:
            return table.cell(column, value)
        if role == Qt.ItemDataRole.EditRole:
            return ", ".join(value or []) if column == "tags" else (value or "")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "name":
                return self.path(index.row())
            if column == "status" and flat.get("error"):
                return flat["error"]
            if column in EDITABLE:
                return f"{table.cell(column, value)}\n(double-click or F2 to edit)"
            return table.cell(column, value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and self.columns[index.column()] in EDITABLE:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        """Edit a run's tags (comma-separated) or note; written to its labels.json at once."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        column = self.columns[index.column()]
        row = self._row_of(self.shown[index.row()]["name"])
        try:
            if column == "tags":
                self.set_tags(row, parse_tags(str(value)))
            elif column == "note":
                labels.set_note(row["path"], str(value))
                row["note"] = str(value)
            else:
                return False
        except (ValueError, OSError) as exc:
            self.failed.emit(f"Cannot change the {column} of {row.get('name')}: {exc}")
            return False
        self._rebuild()
        return True

    @staticmethod
    def set_tags(row: dict[str, Any], tags: list[str]) -> None:
        """Make ``row``'s run carry exactly ``tags`` (labels.json), updating the row."""
        current = list(row.get("tags") or [])
        for tag in tags:  # checked first, so a bad tag changes nothing
            if not tag or len(tag) > labels.MAX_TAG_LENGTH:
                raise ValueError(f"a tag is 1 to {labels.MAX_TAG_LENGTH} characters without commas")
        for tag in current:
            if tag not in tags:
                current = labels.add_tag(row["path"], tag, remove=True)
        for tag in tags:
            if tag not in current:
                current = labels.add_tag(row["path"], tag)
        row["tags"] = current
