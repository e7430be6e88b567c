"""The Evaluate tab: metrics on the test split, a clickable confusion matrix, a sample gallery,
the most confident mistakes, and ROC/PR curves for binary tasks (regression: error metrics)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from studio.core.inspect import ClassificationReport, RegressionReport, evaluate_model
from studio.core.inspect.render import colormap
from studio.qt.inspect.pictures import sample_picture, to_qimage
from studio.qt.inspect.plots import Plot
from studio.qt.inspect.views import InspectTab

ICON_SIZE = 64
DRAWN_ICON_SIZE = 128  # a picture with boxes drawn on it: big enough that its 1-pixel lines stay visible


class ConfusionMatrixView(QWidget):
    """Rows are true classes, columns predicted ones; clicking a cell emits ``cell_clicked(true, pred)``."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.counts = np.zeros((0, 0), dtype="int64")
        self.names: list[str] = []
        self.normalized = False
        self.selected: tuple[int, int] | None = None
        self.setMinimumSize(220, 220)

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    def set_matrix(self, counts: np.ndarray, names: list[str]) -> None:
        self.counts, self.names, self.selected = np.asarray(counts), list(names), None
        self.update()

    def set_normalized(self, normalized: bool) -> None:
        self.normalized = normalized
        self.update()

    def _label_width(self) -> int:
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(name[:12]) for name in self.names), default=0)
        return 8 + max(widest, metrics.horizontalAdvance("true ↓"))

    def cell_rect(self, row: int, column: int) -> QRect:
        """Widget coordinates of the cell (true ``row``, predicted ``column``)."""
        k = len(self.counts)
        label = self._label_width()
        header = self.fontMetrics().height() + 4
        left, top = label + 4, header * 2
        size = max(4, min((self.width() - left - 4) // max(k, 1), (self.height() - top - 4) // max(k, 1)))
        return QRect(left + column * size, top + row * size, size, size)

    def cell_at(self, point) -> tuple[int, int] | None:
        k = len(self.counts)
        for row in range(k):
            for column in range(k):
                if self.cell_rect(row, column).contains(point):
                    return row, column
        return None

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        k = len(self.counts)
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        if not k:
            return
        totals = self.counts.sum(axis=1, keepdims=True)
        shares = np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals != 0)
        colours = colormap(0.12 + 0.88 * shares)
        first, metrics = self.cell_rect(0, 0), self.fontMetrics()
        painter.setPen(text_colour)
        painter.drawText(QRect(first.left(), 0, first.width() * k, metrics.height() + 2),
                         Qt.AlignmentFlag.AlignCenter, "predicted →")
        painter.drawText(QRect(0, 0, first.left() - 4, metrics.height() + 2),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "true ↓")
        for index, name in enumerate(self.names):
            column_rect = self.cell_rect(0, index)
            painter.drawText(QRect(column_rect.left(), metrics.height() + 4, column_rect.width(), metrics.height()),
                             Qt.AlignmentFlag.AlignCenter, metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                                              column_rect.width()))
            row_rect = self.cell_rect(index, 0)
            painter.drawText(QRect(0, row_rect.top(), row_rect.left() - 4, row_rect.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name[:12])
        for row in range(k):
            for column in range(k):
                rect = self.cell_rect(row, column)
                painter.fillRect(rect.adjusted(0, 0, -1, -1), QColor(*colours[row, column]))
                value = f"{shares[row, column]:.2f}" if self.normalized else str(int(self.counts[row, column]))
                painter.setPen(QColor("black") if shares[row, column] > 0.55 else QColor("white"))
                if rect.width() > metrics.horizontalAdvance(value) + 2:
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, value)
        if self.selected is not None:
            painter.setPen(self.palette().color(QPalette.ColorRole.Highlight))
            painter.drawRect(self.cell_rect(*self.selected).adjusted(0, 0, -1, -1))

    def mousePressEvent(self, event) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.selected = cell
            self.update()
            self.cell_clicked.emit(*cell)


class SampleGallery(QListWidget):
    """Test samples as icons with a caption; ``sample_chosen(index)`` when one is clicked."""

    sample_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSpacing(4)
        self.itemClicked.connect(lambda item: self.sample_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))

    def show_samples(self, x: np.ndarray, indices, captions: list[str], draw=None) -> None:
        """Icons of ``x[indices]`` (``draw(x, index)``: a picture of the sample to show instead, shrunk smoothly so
        that the lines drawn on it are not dropped)."""
        self.clear()
        size = ICON_SIZE if draw is None else DRAWN_ICON_SIZE
        self.setIconSize(QSize(size, size))
        for index, caption in zip(indices, captions):
            item = QListWidgetItem(caption)
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            picture = sample_picture(x[index]) if draw is None else draw(x, index)
            if picture is not None:
                image = to_qimage(picture).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.FastTransformation if draw is None
                                                  else Qt.TransformationMode.SmoothTransformation)
                item.setIcon(QIcon(QPixmap.fromImage(image)))
            self.addItem(item)

    def indices(self) -> list[int]:
        return [self.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.count())]


class EvaluationTab(InspectTab):
    """Everything measured on the test split of the source's dataset."""

    title = "Evaluate"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.report = None
        self.table = QTableWidget(0, 5)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.cellClicked.connect(self.show_row)
        self.normalized = QCheckBox("Normalized (share of each true class)")
        self.matrix = ConfusionMatrixView()
        self.normalized.toggled.connect(self.matrix.set_normalized)
        self.matrix.cell_clicked.connect(self.show_cell)
        self.mistakes = QPushButton("Most confident mistakes")
        self.mistakes.clicked.connect(self.show_mistakes)
        self.gallery_title = QLabel("Click a cell of the confusion matrix to see its samples.")
        self.gallery = SampleGallery()
        self.gallery.sample_chosen.connect(self.host.choose_test_sample)
        self.roc, self.pr = Plot("ROC", "false positive rate", "true positive rate"), Plot("Precision-recall",
                                                                                           "recall", "precision")
        self.curves = QWidget()
        curves = QHBoxLayout(self.curves)
        curves.setContentsMargins(0, 0, 0, 0)
        curves.addWidget(self.roc)
        curves.addWidget(self.pr)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 2)
        left_layout.addWidget(self.curves, 2)
        self.matrix_box = QWidget()
        matrix_layout = QVBoxLayout(self.matrix_box)
        matrix_layout.setContentsMargins(0, 0, 0, 0)
        matrix_layout.addWidget(self.normalized)
        matrix_layout.addWidget(self.matrix, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.matrix_box, 3)
        row = QHBoxLayout()
        row.addWidget(self.gallery_title, 1)
        row.addWidget(self.mistakes)
        right_layout.addLayout(row)
        right_layout.addWidget(self.gallery, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 520])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)

    def source_changed(self) -> None:
        self.report = None
        self.table.setRowCount(0)
        self.matrix.set_matrix(np.zeros((0, 0)), [])
        self.gallery.clear()
        self.gallery_title.setText("")  # it named the samples of the last source

    def refresh(self) -> None:
        source = self.host.source
        if source is None or self.report is not None:
            return
        model, dataset = source.model, source.dataset
        if not len(dataset.x_test):
            self.say("The test split is empty: give it a share in the Data area to evaluate.")
            return

        def compute():
            return evaluate_model(model, dataset.x_test, dataset.y_test, dataset.task, dataset.class_names)

        self.say(f"Evaluating on {len(dataset.x_test)} test samples…")
        self.host.worker.submit("evaluate", compute, self.show_report, self.say)

    def show_report(self, report) -> None:
        self.report = report
        classification = isinstance(report, ClassificationReport)
        self.matrix_box.setVisible(classification)
        self.mistakes.setText("Most confident mistakes" if classification else "Largest errors")
        self.mistakes.setVisible(isinstance(report, (ClassificationReport, RegressionReport)))
        self.curves.setVisible(classification and report.curves is not None)
        if classification:
            self._classification_table(report)
            self.matrix.set_matrix(report.confusion, report.class_names)
            self.say(f"Test accuracy {report.accuracy:.2%} on {len(report.y_true)} samples "
                     f"(macro F1 {report.macro['f1']:.3f})")
            if report.curves is not None:
                self._draw_curves(report.curves)
            self.gallery_title.setText("Click a cell of the confusion matrix to see its samples.")
        elif isinstance(report, RegressionReport):
            self._regression_table(report)
            self.say(f"Regression on {len(report.y_true)} test samples: MAE {report.mae:.4g}, R² {report.r2:.3f}")
            self.gallery_title.setText("")
        else:  # another task's report: its table and summary (the Predict tab draws its targets)
            self._fill(*report.table())
            self.say(f"On the test split: {report.summary()}. The Predict tab shows the targets of a sample.")
            self.gallery_title.setText("Click a row of the table to see its worst samples."
                                       if report.row_samples(0) is not None else "")
        self.gallery.clear()

    def _fill(self, headers: list[str], rows: list[list[str]]) -> None:
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def _classification_table(self, report: ClassificationReport) -> None:
        rows = [[name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(int(s))] for name, p, r, f, s in
                zip(report.class_names, report.precision, report.recall, report.f1, report.support)]
        total = str(int(report.support.sum()))
        for label, values in (("macro avg", report.macro), ("micro avg", report.micro),
                              ("weighted avg", report.weighted)):
            rows.append([label, f"{values['precision']:.3f}", f"{values['recall']:.3f}", f"{values['f1']:.3f}", total])
        rows.append(["accuracy", "", "", f"{report.accuracy:.3f}", total])
        self._fill(["class", "precision", "recall", "F1", "support"], rows)

    def _regression_table(self, report) -> None:
        self._fill(["metric", "value"], [["MAE", f"{report.mae:.4g}"], ["MSE", f"{report.mse:.4g}"],
                                         ["RMSE", f"{report.rmse:.4g}"], ["R²", f"{report.r2:.4f}"]])

    def _draw_curves(self, curves) -> None:
        for plot, x, y, title in ((self.roc, curves.fpr, curves.tpr, f"ROC (AUC {curves.roc_auc:.3f})"),
                                  (self.pr, curves.recall, curves.precision,
                                   f"Precision-recall (AP {curves.average_precision:.3f})")):
            plot.clear()
            plot.plot(x, y, pen=pg.mkPen("#3d7be0", width=2))
            plot.set_title(title)

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        report = self.report
        indices = report.cell_indices(true_class, predicted_class)
        names = report.class_names
        self.gallery_title.setText(f"{len(indices)} samples of true {names[true_class]!r} predicted as "
                                   f"{names[predicted_class]!r}, most confident first")
        self._show_classified(indices)

    def show_row(self, row: int, _column: int = 0) -> None:
        """The samples behind a row of another task's report (a detection class: its worst images)."""
        report = self.report
        if report is None or isinstance(report, (ClassificationReport, RegressionReport)):
            return
        samples = report.row_samples(row)
        if samples is None:
            return
        title, indices, captions = samples
        self.gallery_title.setText(title)
        self.gallery.show_samples(self.host.source.x_test, indices, captions, report.sample_picture)

    def show_mistakes(self) -> None:
        report = self.report
        if not isinstance(report, (ClassificationReport, RegressionReport)):  # other tasks list no samples
            return
        if isinstance(report, ClassificationReport):
            indices = report.confident_mistakes(32)
            self.gallery_title.setText(f"The {len(indices)} most confident mistakes")
            self._show_classified(indices)
            return
        indices = report.largest_errors(32)
        captions = [f"#{i}\ntrue {report.y_true[i][0]:.3g}\npred {report.y_pred[i][0]:.3g}" for i in indices]
        self.gallery_title.setText(f"The {len(indices)} samples with the largest errors")
        self.gallery.show_samples(self.host.source.x_test, indices, captions)

    def _show_classified(self, indices) -> None:
        report, names = self.report, self.report.class_names
        captions = [f"#{i} {names[report.y_true[i]]}→{names[report.y_pred[i]]}\n{report.confidence[i]:.0%}"
                    for i in indices]
        self.gallery.show_samples(self.host.source.x_test, indices, captions)
