"""Runs view (issue 25): a damaged run folder is one row marked damaged, its reason in the status
tooltip, and the other runs are listed, sorted and selectable as before."""

from PySide6.QtCore import Qt
from test_runs import click_cell, names, runs_view, three_runs


def test_a_damaged_run_is_one_marked_row_and_the_others_are_listed(window, qtbot, tmp_path):
    root = three_runs(tmp_path)
    (root / "20260101-000100-second" / "run.json").write_text('["not", "an", "object"]')
    (root / "20260101-000000-first" / "events.jsonl").write_text('{"type": "epoch", "epoch": "x", "logs": []}\n')
    _panel, view = runs_view(window, tmp_path)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    statuses = {flat["name"]: flat["status"] for flat in view.model.shown}
    assert statuses == {"20260101-000000-first": "completed", "20260101-000100-second": "damaged",
                        "20260101-000200-third": "completed"}
    row = names(view).index("20260101-000100-second")
    status = view.model.index(row, view.model.columns.index("status"))
    assert view.model.data(status) == "damaged"
    assert view.model.data(status, Qt.ItemDataRole.ToolTipRole) == "run.json holds list, not an object"
    click_cell(qtbot, view, row, "name")
    assert view.selected_paths() == [str(root / "20260101-000100-second")]
    assert "Traceback" not in view.where.text()
