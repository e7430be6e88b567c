"""The differences between two runs (settings, graph, data) in a dialog, from ``compare_runs``."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from studio.core.experiments.compare import Comparison
from studio.core.formatting import plural


def shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


class DiffDialog(QDialog):
    """What differs between run ``a`` and run ``b``, grouped: settings, data, graph."""

    def __init__(self, comparison: Comparison, name_a: str, name_b: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Differences: {name_a} and {name_b}")
        self.resize(760, 480)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["What", name_a, name_b])
        groups = (
            ("Settings", [(key, a, b) for key, a, b in comparison.settings]),
            ("Data", [(key, a, b) for key, a, b in comparison.data]),
            ("Graph", [(f"{layer}.{param}", a, b) for layer, param, a, b in comparison.changed]
             + [(layer, "(absent)", "added") for layer in comparison.added]
             + [(layer, "removed", "(absent)") for layer in comparison.removed]),
        )
        for title, rows in groups:
            group = QTreeWidgetItem([f"{title}: {plural(len(rows), 'difference')}"
                                     if rows else f"{title}: the same"])
            self.tree.addTopLevelItem(group)
            for key, a, b in rows:
                item = QTreeWidgetItem([key, shown(a), shown(b)])
                for column in range(3):
                    item.setToolTip(column, item.text(column))
                group.addChild(item)
            group.setExpanded(True)
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        self.summary = QLabel("The two runs have the same settings, graph and data." if comparison.same else
                              "Only what differs is listed; everything else is the same.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def rows(self) -> dict[str, tuple[str, str]]:
        """``{what: (a, b)}`` of every listed difference (for tests and copy)."""
        found = {}
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            for child in range(group.childCount()):
                item = group.child(child)
                found[item.text(0)] = (item.text(1), item.text(2))
        return found
