"""The training settings form, generated from ``TRAINING_FIELDS`` and bound to ``project.training``.

Every valid change is an undoable ``SetSection`` through the document (consecutive changes of one
setting merge); settings that do not apply to the current choices (momentum for Adam, decay for a
constant rate, ...) are hidden. The backend list marks the backends that are not installed from the
start (a package look-up, nothing imported) and which are usable once probed (off the GUI thread
when the list first opens, once per session).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from studio.core import backends
from studio.core.params import ParamError
from studio.core.training import TRAINING_FIELDS, TrainingConfig
from studio.qt.commands import SetSection
from studio.qt.document import Document
from studio.qt.widgets.param_editors import ParamEditor, make_editor
from studio.qt.widgets.worker import TaskRunner

SECTIONS = (
    ("Objective", ("objective", "temperature")),
    ("Optimizer", ("optimizer", "learning_rate", "momentum", "schedule", "decay_rate", "decay_epochs",
                   "warmup_epochs", "min_learning_rate", "plateau_patience")),
    ("Loss and metrics", ("loss", "metrics", "top_k")),
    ("Data", ("batch_size", "epochs", "seed")),
    ("Early stopping", ("early_stopping", "early_stopping_monitor", "early_stopping_patience", "restore_best")),
    ("Regularization", ("weight_decay", "clipnorm")),
    ("Hardware and logging", ("backend", "devices", "mixed_precision", "grad_norm_every", "mlflow",
                              "mlflow_experiment")),
)

# When a setting matters, given the whole config (settings not listed always matter).
RELEVANT: dict[str, Callable[[TrainingConfig], bool]] = {
    "momentum": lambda c: c.optimizer in ("momentum", "nesterov"),
    "decay_rate": lambda c: c.schedule in ("step", "exponential", "reduce_on_plateau"),
    "decay_epochs": lambda c: c.schedule in ("step", "exponential"),
    "warmup_epochs": lambda c: c.schedule == "warmup",
    "min_learning_rate": lambda c: c.schedule in ("cosine", "warmup", "reduce_on_plateau"),
    "plateau_patience": lambda c: c.schedule == "reduce_on_plateau",
    "temperature": lambda c: c.objective == "contrastive",
    "loss": lambda c: c.objective == "supervised",
    "metrics": lambda c: c.objective == "supervised",
    "top_k": lambda c: c.objective == "supervised" and "top_k" in (c.metrics or ()),
    "fine_tune_epochs": lambda c: c.objective == "supervised",
    "fine_tune_learning_rate": lambda c: c.objective == "supervised",
    "grad_norm_every": lambda c: c.objective == "supervised",
    "early_stopping_monitor": lambda c: c.early_stopping,
    "early_stopping_patience": lambda c: c.early_stopping,
    "restore_best": lambda c: c.early_stopping,
    "mlflow_experiment": lambda c: bool(c.mlflow),
}
# What a generative project (GAN, VAE: trained with their own losses and step) never uses.
NOT_GENERATIVE = ("objective", "temperature", "loss", "metrics", "top_k", "fine_tune_epochs",
                  "fine_tune_learning_rate", "grad_norm_every")


def fix_text(fixes: list) -> str:
    """Settings that would work (``[[setting, value], ...]`` from a run's error) worded as this
    form shows them: "Set Devices to cpu or auto under Hardware and logging." ('' for none)."""
    specs = {spec.name: spec for spec in TRAINING_FIELDS}
    section = {name: title for title, names in SECTIONS for name in names}
    names = list(dict.fromkeys(setting for setting, _value in fixes))
    parts = [f"{specs[name].title} to " + " or ".join(str(value) for setting, value in fixes if setting == name)
             for name in names]
    sections = " and ".join(dict.fromkeys(section[name] for name in names))
    if not parts:
        return ""
    return f"Set {parts[0]} under {sections}." if len(parts) == 1 else \
        f"Set {', or '.join(parts)}, under {sections}."


class TrainingForm(QWidget):
    """All training settings in titled sections, plus a line listing what is wrong with them."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.editors: dict[str, ParamEditor] = {}
        self.rows: dict[str, tuple[QFormLayout, int]] = {}
        self.boxes: list[tuple[QGroupBox, list[str]]] = []  # each section and its settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        specs = {spec.name: spec for spec in TRAINING_FIELDS}
        placed = [name for _title, names in SECTIONS for name in names]
        sections = list(SECTIONS) + [("Other", tuple(n for n in specs if n not in placed))]
        for title, names in sections:
            names = [name for name in names if name in specs]
            if not names:
                continue
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for name in names:
                editor = make_editor(specs[name], None, check=lambda value, name=name: self._check(name, value))
                editor.edited.connect(lambda value, name=name: self._edit(name, value))
                label = QLabel(specs[name].title)
                label.setToolTip(specs[name].help)
                form.addRow(label, editor)
                self.editors[name] = editor
                self.rows[name] = (form, form.rowCount() - 1)
            layout.addWidget(box)
            self.boxes.append((box, names))
        if "backend" in self.rows:  # what "auto" stands for here, and why (as `studio doctor` says)
            self.auto_note = QLabel(wordWrap=True)
            self.auto_note.setObjectName("hint")
            self._auto_worker = TaskRunner(self)
            form, row = self.rows["backend"]
            form.insertRow(row + 1, "", self.auto_note)
            self.rows = {name: (f, r + (f is form and r > row)) for name, (f, r) in self.rows.items()}
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #d93025;")
        layout.addWidget(self.problems)
        layout.addStretch(1)
        self.worker = TaskRunner(self)
        if "backend" in self.editors:
            self._mark_backends([backends.probe(name) for name in backends.BACKENDS if not backends.installed(name)])
            self.editors["backend"].box.opening.connect(self._check_backends)
        doc.project_replaced.connect(self.refresh)
        doc.section_changed.connect(lambda name: self.refresh() if name in ("training", "generative") else None)
        self.refresh()

    def _check_backends(self) -> None:
        if not self.worker.busy:
            self.worker.submit("backends", lambda: backends.session_facts(), self._mark_backends,
                               lambda message: self._mark_backends([], message))

    def _mark_backends(self, facts: list, failure: str = "") -> None:
        """Disable the backends that cannot train here; the list says "not installed" or "not usable"
        after them and every tooltip says why (as ``studio doctor``)."""
        states = {f.name: (f.installed and f.usable, "\n".join(backends.describe(f)),
                           "" if f.usable else "not usable" if f.installed else "not installed") for f in facts}
        if failure:
            states = {name: (True, f"could not check the backends: {failure}", "") for name in backends.BACKENDS}
        self.editors["backend"].mark_choices(states)

    def config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.doc.project.training)

    def _check(self, name: str, value: Any) -> Any:
        """``value`` for setting ``name`` as its spec cleans it, also refused when it clashes with
        the other settings (a minimum rate above the rate)."""
        value = self.editors[name].spec.check(value)
        mentions = re.compile(rf"\b{name}\b")
        problems = [p for p in self.config().replace(**{name: value}).validate() if mentions.search(p)]
        if problems:
            raise ParamError(problems[0])
        return value

    def _edit(self, key: str, value: Any) -> None:
        training = self.doc.project.training
        if key in training and training[key] == value:
            return
        self.doc.push(SetSection(self.doc, "training", {**training, key: value}, f"Set training {key}",
                                 merge_key=key))

    def refresh(self) -> None:
        """Show the project's settings (after an edit, undo, or another project)."""
        config = self.config()
        for name, editor in self.editors.items():
            editor.set_value(getattr(config, name))
            form, row = self.rows[name]
            form.setRowVisible(row, self._relevant(name, config))
        for box, names in self.boxes:  # a section with nothing relevant left is hidden whole
            box.setVisible(any(self._relevant(name, config) for name in names))
        if "backend" in self.rows:
            self._explain_auto(config)
        problems = config.validate()
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))

    def _explain_auto(self, config: TrainingConfig) -> None:
        """Under the Backend box: the backend "auto" picks for this model here, and why."""
        self.auto_note.setVisible(config.backend == "auto")
        if config.backend != "auto":
            return
        project = self.doc.project

        def pick() -> str:
            from studio.core.backends.measurements import project_signature

            backend, why = backends.resolve("auto", project_signature(project))
            return f"auto → {backend}: {why.removeprefix('auto: ')}"

        self._auto_worker.submit("auto", pick, self.auto_note.setText,
                           lambda message: self.auto_note.setText(f"auto: {message}"))

    def _relevant(self, name: str, config: TrainingConfig) -> bool:
        if self.doc.project.generative and name in NOT_GENERATIVE:
            return False
        return RELEVANT.get(name, lambda _c: True)(config)
