"""The integrations in the app: File > Save Run Report…, the runs table's sharing actions, the MLflow setting."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMenu

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from integration_helpers import make_logged_run  # noqa: E402


def click_menu_item(qtbot, window, menu_text: str, item_text: str) -> None:
    bar = window.menuBar()
    top = next(action for action in bar.actions() if action.text() == menu_text)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top).center())
    menu = top.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    item = next(action for action in menu.actions() if action.text() == item_text)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(item).center())


def test_file_save_run_report_writes_the_chosen_runs_report(window, qtbot, tmp_path, monkeypatch):
    run = make_logged_run(tmp_path / "runs" / "20260101-000000-tiny")
    target = tmp_path / "shared" / "tiny.html"
    target.parent.mkdir()
    asked = {}
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, title, start: asked.setdefault("start", start) and str(run))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, filters: asked.setdefault("file", start) and (str(target), ""))
    click_menu_item(qtbot, window, "&File", "Save Run &Report…")
    qtbot.waitUntil(target.exists, timeout=60_000)
    html = target.read_text(encoding="utf-8")
    assert "<h1>20260101-000000-tiny</h1>" in html and "Confusion matrix" in html
    assert asked == {"start": str(window.runs_root()), "file": str(run / "report.html")}
    qtbot.waitUntil(lambda: "Saved the report" in window.statusBar().currentMessage(), timeout=5000)
    assert not any(menu.isVisible() for menu in window.findChildren(QMenu))


def test_a_folder_that_is_no_run_says_why_in_the_status_bar(window, qtbot, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(empty))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "r.html"), ""))
    click_menu_item(qtbot, window, "&File", "Save Run &Report…")
    qtbot.waitUntil(lambda: "Cannot write the report of empty" in window.statusBar().currentMessage(), timeout=10_000)
    assert "is not a run folder" in window.statusBar().currentMessage() and not (tmp_path / "r.html").exists()


def test_the_runs_tables_menu_exports_the_selected_runs_to_tensorboard(window, qtbot, tmp_path, monkeypatch):
    from test_runs import runs_view

    for name in ("20260101-000000-a", "20260101-000100-b"):
        make_logged_run(tmp_path / "runs" / name)
    _panel, view = runs_view(window, tmp_path)
    table = view.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 2, timeout=10_000)
    for row, modifier in ((0, Qt.KeyboardModifier.NoModifier), (1, Qt.KeyboardModifier.ControlModifier)):
        rect = table.visualRect(table.model().index(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    logdir = tmp_path / "tb"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(logdir))
    table.customContextMenuRequested.emit(table.visualRect(table.model().index(0, 0)).center())
    menu = view.menu
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    report = next(action for action in menu.actions() if action.text() == "Save Report…")
    assert not report.isEnabled()  # one run at a time
    action = next(action for action in menu.actions() if action.text() == "Export to TensorBoard…")
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: "Exported 2 run(s)" in view.where.text(), timeout=30_000)
    assert sorted(path.name for path in logdir.iterdir()) == ["20260101-000000-a", "20260101-000100-b"]
    assert list((logdir / "20260101-000000-a" / "train").glob("events.out.tfevents.*"))


def test_the_mlflow_setting_is_typed_in_the_train_form_and_undone(window, qtbot, tmp_path):
    from test_train_panel import train_panel

    panel = train_panel(window, tmp_path)
    doc, form = window.document, panel.form
    experiment_row = form.rows["mlflow_experiment"]
    assert not experiment_row[0].isRowVisible(experiment_row[1])  # only with a tracking store
    line = form.editors["mlflow"].line
    line.setFocus()
    qtbot.keyClicks(line, "local")
    assert doc.project.training["mlflow"] == "local"
    assert experiment_row[0].isRowVisible(experiment_row[1])
    doc.undo_stack.undo()
    assert not doc.project.training.get("mlflow") and not experiment_row[0].isRowVisible(experiment_row[1])
