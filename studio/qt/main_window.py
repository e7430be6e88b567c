"""The main window: work-area tabs, menus, status bar, project files, autosave and recovery."""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox, QStackedWidget,
                               QTabWidget, QWidget)

from studio.core.graph.keras_io import KerasImportError, load_keras_file
from studio.core.graph.model import GraphError
from studio.core.project import Project, ProjectError, default_project, load_project, save_project
from studio.core.training.runs import RUNS_DIR, default_runs_root, move_runs
from studio.qt import panels, settings
from studio.qt.model.backbone import BackboneActions
from studio.qt.model.dialogs import CodeDialog, TemplatesDialog
from studio.qt.commands import command_area
from studio.qt.document import Document
from studio.qt.experiments.lesson_dialog import open_lesson_dialog
from studio.qt.model.area import ModelArea
from studio.qt.theme import canvas_colors, dark_palette, is_dark
from studio.qt.widgets.run_sharing import save_report
from studio.qt.widgets.worker import TaskRunner
from studio.qt.train.devices_dialog import DevicesDialog

AREAS = ("Data", "Augment", "Model", "Train", "Experiments", "Inspect", "Generate", "Export")
logger = logging.getLogger(__name__)
PROJECT_FILTER = "DL Studio projects (*.dlstudio);;All files (*)"
AUTOSAVE_MS = 30_000


def load_backend() -> dict:
    """Import Keras on this process's backend (slow: call it off the GUI thread) and say what it
    computes on: ``{"backend", "title", "version", "keras", "device", "gpus"}``."""
    from studio.core import backends
    from studio.core.backends.devices import detect_gpus

    name = backends.activate()
    import keras

    gpus = detect_gpus()
    device = ", ".join(g["name"] for g in gpus) if gpus else "CPU"
    # The ~10^6 objects of the imported modules live for good: frozen, full collections skip them,
    # which would otherwise hold the GIL for 100+ ms and stall the GUI thread (a scan of a big folder).
    gc.freeze()
    return {"backend": name, "title": backends.TITLES.get(name, name), "version": backends.adapter(name).version(),
            "keras": keras.__version__, "device": device, "gpus": gpus}


def data_facts(spec: dict):
    """What the model check needs to know about the dataset ``spec`` (loads it, through the cache)."""
    from studio.core.data.cache import load_cached
    from studio.core.training.compat import DataFacts

    return DataFacts.of(load_cached(spec))


class MainWindow(QMainWindow):
    """The studio window. Panels reach the project through ``window.document`` (a Document).

    Signals:
        backend_ready(dict): Keras and its backend finished loading (``load_backend``'s facts); see
            ``backend``.
        run_ended(str): a run followed by the Train area reached its end (its folder).
    """

    backend_ready = Signal(dict)
    run_ended = Signal(str)

    def __init__(self, project: Project | None = None, path: str | Path | None = None) -> None:
        super().__init__()
        self.document = Document(project or default_project(), path, self)
        self.backend: dict | None = None
        self._unsaved_since = time.time()  # runs of the unsaved project made since then move on its first save
        self._shown_once = False
        self._forced_palette = False  # the app palette is ours, not the platform's
        self.worker = TaskRunner(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._hosts: dict[str, QStackedWidget] = {}
        self.model_area = ModelArea(self.document)
        for area in AREAS:
            host = QStackedWidget()
            self._hosts[area] = host
            self.tabs.addTab(host, area)
        self.set_area_widget("Model", self.model_area)
        self.model_area.guide.link_activated.connect(
            lambda link: self.templates_dialog() if link == "templates" else self.show_area(link))
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._ensure_panel)
        self.setAcceptDrops(True)  # dropped files and folders go to the Data area

        self.backend_label = QLabel("Loading Keras…")
        self.statusBar().addPermanentWidget(self.backend_label)
        self.document.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.document.modified_changed.connect(self.setWindowModified)
        self.document.path_changed.connect(lambda _path: self._update_title())
        self.document.project_replaced.connect(self._update_title)

        self._build_menus()
        self._autosave = QTimer(self, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        screen = self.screen().availableGeometry()  # a 1366x768 laptop must see the whole window
        self.resize(min(1400, screen.width() - 24), min(860, screen.height() - 48))  # room for the frame
        self._restore_window_state()
        self.tabs.setCurrentIndex(AREAS.index("Model"))
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply_theme())
        self.apply_theme()
        self._update_title()

    # -- work areas ----------------------------------------------------------------------
    def set_area_widget(self, name: str, widget: QWidget) -> None:
        """Put ``widget`` in work area ``name`` (one of AREAS), replacing its placeholder."""
        host = self._hosts[name]
        while host.count():
            old = host.widget(0)
            host.removeWidget(old)
            old.deleteLater()
        host.addWidget(widget)

    def area_widget(self, name: str) -> QWidget | None:
        """The widget shown in area ``name`` (created on demand)."""
        self._ensure_panel(AREAS.index(name))
        return self._hosts[name].widget(0)

    def show_area(self, name: str) -> None:
        self.tabs.setCurrentIndex(AREAS.index(name))

    @property
    def current_area(self) -> str:
        return AREAS[self.tabs.currentIndex()]

    def _ensure_panel(self, index: int) -> None:
        area = AREAS[index]
        if self._hosts[area].count() == 0:
            self.set_area_widget(area, panels.create_panel(area, self))

    def runs_root(self) -> Path:
        """Where the open project's runs go: ``runs/`` beside its file, or, for a project never
        saved, the per-user app data folder. Every area lists and writes runs here."""
        return default_runs_root(self.document.path, settings.data_folder() / RUNS_DIR)

    # -- drops ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """A dropped project file opens and a .keras file is imported onto the canvas; any other
        file or folder goes to the Data area, which reads it with ``studio.core.data.paths``."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        suffix = Path(paths[0]).suffix.lower() if paths else ""
        if suffix in (".dlstudio", ".keras"):
            event.acceptProposedAction()
            if suffix == ".keras":
                self.import_keras(paths[0])
            elif self.maybe_save():
                self.open_project(paths[0])
            return
        panel = self.area_widget("Data")
        if paths and hasattr(panel, "open_path"):
            event.acceptProposedAction()
            self.show_area("Data")
            panel.open_path(paths[0])

    # -- menus ---------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, model_only: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda: self._run_action(slot, model_only))
        menu.addAction(action)
        return action

    def _run_action(self, slot, model_only: bool) -> None:
        """Canvas edits (Delete, Paste...) act only while the Model area is shown."""
        if not model_only or self.current_area == "Model":
            slot()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        key = QKeySequence.StandardKey
        area = self.model_area
        file = bar.addMenu("&File")
        self._action(file, "&New Project", self.new_project, key.New)
        self._action(file, "&Open…", self.open_dialog, key.Open)
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._action(file, "&Save", self.save, key.Save)
        self._action(file, "Save &As…", self.save_as, key.SaveAs)
        file.addSeparator()
        self._action(file, "&Import Keras Model (.keras)…", self.import_keras_dialog, "Ctrl+I")
        self._action(file, "Save Run &Report…", self.save_report_dialog)
        file.addSeparator()
        self._action(file, "&Quit", self.close, key.Quit)

        edit = bar.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence(key.Undo))
        undo.triggered.connect(lambda: self._show_undone(0, "Undid"))  # after the stack's own slot
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence(key.Redo))
        redo.triggered.connect(lambda: self._show_undone(-1, "Redid"))
        edit.addActions([undo, redo])
        edit.addSeparator()
        self._action(edit, "Cu&t", area.cut_selected, key.Cut, model_only=True)
        self._action(edit, "&Copy", area.copy_selected, key.Copy, model_only=True)
        self._action(edit, "&Paste", area.paste, key.Paste, model_only=True)
        self._action(edit, "D&uplicate", area.duplicate_selected, "Ctrl+D", model_only=True)
        self._action(edit, "&Delete", area.delete_selected, key.Delete, model_only=True)
        self._action(edit, "Select &All", area.select_all, key.SelectAll, model_only=True)

        view = bar.addMenu("&View")
        for text, slot, shortcut in (("Zoom &In", area.view.zoom_in, key.ZoomIn),
                                     ("Zoom &Out", area.view.zoom_out, key.ZoomOut),
                                     ("&Fit to View", area.view.fit, "Ctrl+0")):
            action = self._action(view, text, slot, shortcut, model_only=True)
            area.toolbar.addAction(action)
        layout = self._action(view, "Automatic &Layout", area.auto_layout, "Ctrl+L", model_only=True)
        area.toolbar.addAction(layout)
        view.addSeparator()
        for index, name in enumerate(AREAS, start=1):
            self._action(view, f"{name} Area", lambda name=name: self.show_area(name), f"Ctrl+{index}")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        self.theme_actions = QActionGroup(self)
        for choice in settings.THEMES:
            action = self.theme_actions.addAction(choice.capitalize())
            action.setCheckable(True)
            action.setChecked(choice == settings.theme_choice())
            action.triggered.connect(lambda _checked, choice=choice: self.set_theme(choice))
            theme_menu.addAction(action)

        model = bar.addMenu("&Model")
        templates = self._action(model, "&Templates…", self.templates_dialog, "Ctrl+T")
        code = self._action(model, "View as &Code…", self.show_code, "Ctrl+Shift+K")
        self.backbones = BackboneActions(self)
        self._action(model, "Use Pretrained &Backbone…", self.backbones.choose)
        self._action(model, "Train Backbone From &Selected Layer", self.backbones.train_from_selected, model_only=True)
        area.toolbar.addSeparator()
        area.toolbar.addActions([templates, code])

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Devices…", lambda: DevicesDialog(self.document.project, self).exec())
        lessons = help_menu.addMenu("&Lessons")
        self._action(lessons, "Learning with Less &Data…", lambda: open_lesson_dialog(self))
        self._action(lessons, "Detection, the &R-CNN Way…", lambda: open_lesson_dialog(self, "rcnn"))
        self._action(help_menu, "Show &Log", self.show_log)
        self._action(help_menu, "&About DL Studio", self._about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in settings.recent_projects():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, path=path: self.maybe_save() and self.open_project(path))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- project files -------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if not self.document.modified:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self._display_name()}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.maybe_save():
            self.document.set_project(default_project())
            self._unsaved_since = time.time()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self._folder(), PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path: str | Path) -> bool:
        """Open ``path``; a corrupt or newer file shows a message and leaves the open work as it was."""
        try:
            project = load_project(path)
        except ProjectError as exc:
            QMessageBox.warning(self, "Cannot open project", str(exc))
            return False
        self.document.set_project(project, path)
        settings.remember_project(str(Path(path).resolve()))
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_project(self.document.path)

    def save_as(self) -> bool:
        suggestion = str(self.document.path or Path(self._folder()) / f"{self.document.project.name}.dlstudio")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggestion, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(".dlstudio"):
            path += ".dlstudio"
        return self.save_project(path)

    def save_project(self, path: str | Path) -> bool:
        self.document.project.name = Path(path).stem  # the name (runs, exports) follows Save As
        first_save = self.document.path is None
        try:
            save_project(self.document.project, path)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot save project", f"{path}: {exc.strerror or exc}")
            return False
        note = self._bring_runs(self.runs_root(), default_runs_root(path)) if first_save else ""
        self.document.mark_saved(path)  # the areas list the runs of the new runs folder
        settings.remember_project(str(Path(path).resolve()))
        settings.recovery_path().unlink(missing_ok=True)
        self.statusBar().showMessage(f"Saved {path}{note}", 15000 if note else 5000)
        return True

    def _show_undone(self, offset: int, verb: str) -> None:
        """One undo history serves every area: show the area whose edit was just undone or redone."""
        stack = self.document.undo_stack
        command = stack.command(stack.index() + offset)
        if command is None:
            return
        area = command_area(command)
        if area != self.current_area:
            self.show_area(area)
            self.statusBar().showMessage(f"{verb} “{command.text()}” in the {area} area", 8000)

    def _bring_runs(self, unsaved_runs: Path, target: Path) -> str:
        """Move the runs made before the first save into ``target``; says what was done."""
        try:
            moved, live = move_runs(unsaved_runs, target, self._unsaved_since)
        except OSError as exc:
            logger.warning("cannot move the runs of %s to %s: %s", unsaved_runs, target, exc)
            return f"; its runs stay in {unsaved_runs} ({exc.strerror or exc})"
        note = f"; moved its {len(moved)} run(s) to {target}" if moved else ""
        if live:
            note += f"; {len(live)} run(s) still training stay in {unsaved_runs}"
        return note

    def import_keras_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import Keras model", self._folder(), "Keras models (*.keras)")
        if path:
            self.import_keras(path)

    def import_keras(self, path: str | Path) -> bool:
        """Load a .keras file's architecture onto the canvas (undoable); refused files show why."""
        try:
            graph = load_keras_file(path)
        except KerasImportError as exc:
            QMessageBox.warning(self, "Cannot import model", str(exc))
            return False
        self.model_area.replace_graph(graph, f"Import {Path(path).name}", Path(path).stem)
        self.show_area("Model")
        return True

    def save_report_dialog(self) -> None:
        """Pick a run folder (from the project's runs), then where its HTML report goes."""
        folder = QFileDialog.getExistingDirectory(self, "Report of which run?", str(self.runs_root()))
        if folder:
            save_report(self, self.worker, folder, lambda text: self.statusBar().showMessage(text, 15000))

    def templates_dialog(self) -> None:
        dialog = TemplatesDialog(self, self.document.project)
        if dialog.exec() and dialog.selected_name:
            if dialog.mode == "insert":
                self.model_area.insert_template(dialog.selected_name)
            else:
                self.model_area.open_template(dialog.selected_name, dialog.sections)
            self.show_area("Model")

    def show_code(self) -> None:
        try:
            source = self.model_area.python_code()
        except (GraphError, KeyError) as exc:  # a cycle, or a layer type missing from the catalog
            QMessageBox.warning(self, "Cannot show code", str(exc))
            return
        CodeDialog(source, self).exec()

    # -- autosave and recovery -----------------------------------------------------------
    def autosave(self) -> None:
        """Write unsaved work to the recovery file (offered back after a crash)."""
        if not self.document.modified:
            return
        try:
            save_project(self.document.project, settings.recovery_path())
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc.strerror or exc}", 8000)
            return
        settings.app_settings().setValue("recovery_source", str(self.document.path or ""))

    def offer_recovery(self) -> bool:
        """If the last session left unsaved work behind, offer to restore it; True if restored."""
        path = settings.recovery_path()
        if not path.exists():
            return False
        answer = QMessageBox.question(self, "Recover unsaved work",
                                      "DL Studio was closed without saving. Restore the unsaved work?")
        if answer != QMessageBox.StandardButton.Yes:
            path.unlink(missing_ok=True)
            return False
        try:
            project = load_project(path)
        except ProjectError as exc:
            QMessageBox.warning(self, "Cannot recover", str(exc))
            return False
        source = settings.app_settings().value("recovery_source", "") or None
        self.document.set_project(project, source, modified=True)
        return True

    def offer_last_project(self) -> bool:
        """At launch (nothing recovered, no file given): offer to reopen the last project; True if
        it was reopened."""
        recent = [path for path in settings.recent_projects() if Path(path).is_file()]
        if not recent or self.document.path is not None or self.document.modified:
            return False
        answer = QMessageBox.question(self, "Reopen the last project",
                                      f"Reopen {Path(recent[0]).name}?\n{recent[0]}")
        return answer == QMessageBox.StandardButton.Yes and self.open_project(recent[0])

    def offer_shortcut(self) -> bool:
        """At the first launch only: offer the desktop launcher (`studio shortcut`); True if made."""
        from studio.core.integrations.errors import IntegrationError
        from studio.core.integrations.shortcut import create_shortcut

        if not settings.take_shortcut_offer():
            return False
        answer = QMessageBox.question(self, "Add DL Studio to your apps",
                                      "Add DL Studio to the desktop's app menu, with its icon, and open "
                                      ".dlstudio projects with it?\n(Later: `studio shortcut`; undo: "
                                      "`studio shortcut --remove`.)")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            create_shortcut()
        except IntegrationError as exc:
            QMessageBox.warning(self, "No launcher made", str(exc))
            return False
        self.statusBar().showMessage("DL Studio is now in the app menu.", 8000)
        return True

    # -- window lifecycle ----------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:  # the view has its real size only now
            self._shown_once = True
            QTimer.singleShot(0, self.model_area.show_graph)

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        store = settings.app_settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("window/model_splitter", self.model_area.splitter.saveState())
        settings.recovery_path().unlink(missing_ok=True)
        event.accept()

    def _restore_window_state(self) -> None:
        store = settings.app_settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        splitter = store.value("window/model_splitter")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        if splitter is not None:
            self.model_area.splitter.restoreState(splitter)

    def set_theme(self, choice: str) -> None:
        """View > Theme: "system", "light" or "dark", remembered for the next launches."""
        settings.set_theme_choice(choice)
        self.apply_theme()

    def apply_theme(self) -> None:
        """Follow View > Theme, else the system's light/dark scheme (a dark palette where the
        platform gives none, the style's light one where the platform is dark but Light is chosen)."""
        app = QApplication.instance()
        if app is None:
            return
        if self._forced_palette:  # ask the platform again, from its own palette
            app.setPalette(app.style().standardPalette())
            self._forced_palette = False
        dark = is_dark()
        if dark != (app.palette().window().color().lightness() < 128):
            app.setPalette(dark_palette() if dark else app.style().standardPalette())
            self._forced_palette = True
        self.model_area.scene.apply_colors(canvas_colors(dark))

    def start_backend_loading(self) -> None:
        """Import Keras in the background; the status bar says so, then shows the backend it uses.
        Either way the model is then checked against the data."""
        self.worker.submit("backend", load_backend, self._on_backend, self._on_backend_failed)

    def _on_backend(self, info: dict) -> None:
        self.backend = info
        self.backend_label.setText(f"{info['device']} · {info['title']} {info['version']} · Keras {info['keras']}")
        self.backend_ready.emit(info)
        self._check_data()

    def _on_backend_failed(self, reason: str) -> None:
        self.backend_label.setText(f"Keras unavailable: {reason}")
        self._check_data()

    def _check_data(self) -> None:
        self.document.section_changed.connect(self._on_section_changed)
        self.document.project_replaced.connect(self.refresh_data_facts)
        self.refresh_data_facts()

    def _on_section_changed(self, section: str) -> None:
        if section == "dataset":
            self.refresh_data_facts()

    def refresh_data_facts(self) -> None:
        """Load the project's data in the background (shared cache) so the Model area can check the
        model against it; data that cannot load is reported by the Data area, not here."""
        problems = self.model_area.problems
        problems.set_data_facts(None)
        self.worker.submit("data-facts", lambda spec=self.document.project.dataset: data_facts(spec),
                           problems.set_data_facts, lambda _reason: problems.set_data_facts(None))

    def _display_name(self) -> str:
        return self.document.path.name if self.document.path else self.document.project.name

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self._display_name()}[*] — DL Studio")
        self.setWindowModified(self.document.modified)

    def _folder(self) -> str:
        return str(self.document.path.parent) if self.document.path else str(Path.home())

    def show_log(self) -> None:
        """Open the app's log file (unexpected errors with their tracebacks) in the system's viewer."""
        path = settings.log_path()
        if not path.exists():
            QMessageBox.information(self, "Log", f"Nothing has been logged yet; the log will be {path}.")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _about(self) -> None:
        QMessageBox.about(self, "About DL Studio", "DL Studio: build, train, inspect and export Keras models "
                          "visually.\n" + (self.backend_label.text()))
