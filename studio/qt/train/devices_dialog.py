"""Help -> Devices: the facts of ``studio doctor`` (backends, versions, GPUs, fixes), probed off
the GUI thread, and a button that measures the backends on the open project's model."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QVBoxLayout

from studio.qt.widgets.worker import TaskRunner


def backend_report() -> str:
    """Every backend's lines as ``studio doctor`` prints them (slow: probes in subprocesses)."""
    from studio.core.backends import describe, probe_all

    return "\n".join(line for facts in probe_all() for line in describe(facts))


def bench_report(project) -> str:
    from studio.core.backends import resolve
    from studio.core.backends.measure import bench
    from studio.core.backends.measurements import project_signature
    from studio.core.training.config import TrainingConfig

    batch = TrainingConfig.from_dict(project.training).batch_size
    lines = [f"{r['backend']}: {r['samples_per_s']:,.0f} samples/s" if r.get("samples_per_s")
             else f"{r['backend']}: {r.get('error')}" for r in bench(project, batch)]
    backend, why = resolve("auto", project_signature(project))
    return "\n".join(lines + [f"auto -> {backend}: {why}"])


class DevicesDialog(QDialog):
    """Read-only report; ``project`` is measured by the Measure button."""

    def __init__(self, project, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Devices")
        self.resize(640, 360)
        self.project = project
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setPlainText("Checking the Keras backends…")
        self.measure = QPushButton("Measure speed on this model (~10 s)")
        self.measure.clicked.connect(self._measure)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.measure)
        layout.addWidget(buttons)
        self.worker = TaskRunner(self)
        self.worker.submit("report", backend_report, self._show, self._failed)

    def _show(self, report: str) -> None:
        self.text.setPlainText(report)

    def _failed(self, message: str) -> None:
        self.measure.setEnabled(True)
        self.text.appendPlainText(f"\nerror: {message}")

    def _measure(self) -> None:
        self.measure.setEnabled(False)
        self.text.appendPlainText("\nMeasuring each backend on this model…")
        self.worker.submit("measure", lambda: bench_report(self.project), self._measured, self._failed)

    def _measured(self, report: str) -> None:
        self.measure.setEnabled(True)
        self.text.appendPlainText(report)
