"""Param text parsing and the generated editors (validation as you type, valid values only)."""

import os
import subprocess
import sys

import pytest

from PySide6.QtCore import QPoint, Qt

from studio.core.data.source_options import DATA_SOURCES, option_spec
from studio.core.graph.catalog import get_spec
from studio.core.params import ParamError, ParamSpec
from studio.core.training.config import TRAINING_FIELDS
from studio.qt.widgets.param_editors import (ChoiceEditor, IntEditor, MultiChoiceEditor, PathEditor,
                                             RecurrentLayerEditor, RegularizerEditor, SliderEditor, TextEditor,
                                             make_editor)
from studio.qt.widgets.param_text import ParamTextError, format_value, parse_value


def _spec(layer, name):
    return get_spec(layer).param(name)


@pytest.mark.parametrize("layer, name, text, value", [
    ("Conv2D", "kernel_size", "5", [5, 5]),
    ("Conv2D", "kernel_size", "(3, 1)", [3, 1]),
    ("MaxPooling2D", "strides", "", None),
    ("Input", "shape", "28 28 1", [28, 28, 1]),
    ("Input", "shape", "None, 8", [None, 8]),
    ("ZeroPadding2D", "padding", "2", 2),
    ("ZeroPadding2D", "padding", "[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("LayerNormalization", "axis", "1, 2", [1, 2]),
    ("ReLU", "max_value", "6", 6.0),
    ("MultiHeadAttention", "value_dim", "", None),
])
def test_parse_accepts_what_people_type(layer, name, text, value):
    spec = _spec(layer, name)
    assert parse_value(spec, text) == value
    if value is not None:
        assert parse_value(spec, format_value(spec, value)) == value  # display text reads back


@pytest.mark.parametrize("layer, name, text, fragment", [
    ("Conv2D", "kernel_size", "3, x", "cannot read"),
    ("Conv2D", "kernel_size", "0", "at least"),
    ("Conv2D", "kernel_size", "", "needs a value"),
    ("Input", "shape", "28, -3", "positive"),
    ("ZeroPadding2D", "padding", "[[1, 2, 3]]", "padding"),
])
def test_parse_refuses_with_a_message(layer, name, text, fragment):
    with pytest.raises(ParamTextError, match=fragment):
        parse_value(_spec(layer, name), text)


def test_text_editor_emits_only_valid_values(qtbot):
    editor = make_editor(_spec("Conv2D", "strides"), [1, 1])
    qtbot.addWidget(editor)
    assert isinstance(editor, TextEditor)
    edited, problems = [], []
    editor.edited.connect(edited.append)
    editor.problem.connect(problems.append)
    editor.line.clear()
    qtbot.keyClicks(editor.line, "2,")
    assert edited[-1] == [2, 2] and problems[-1] == ""
    count = len(edited)
    qtbot.keyClicks(editor.line, "a")
    assert len(edited) == count and problems[-1].startswith("strides")
    assert editor.line.styleSheet()


def test_regularizer_and_recurrent_layer_editors(qtbot):
    reg = make_editor(_spec("Dense", "kernel_regularizer"), None)
    qtbot.addWidget(reg)
    assert isinstance(reg, RegularizerEditor) and not reg.factor.isEnabled()
    values = []
    reg.edited.connect(values.append)
    reg.kind.setCurrentText("L2")
    reg.factor.clear()
    qtbot.keyClicks(reg.factor, "0.5")
    assert values[-1] == {"class_name": "L2", "config": {"l2": 0.5}}
    reg.kind.setCurrentText("none")
    assert values[-1] is None

    inner = {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}}
    rnn = make_editor(_spec("Bidirectional", "layer"), inner)
    qtbot.addWidget(rnn)
    assert isinstance(rnn, RecurrentLayerEditor) and rnn.units.value() == 16
    changed = []
    rnn.edited.connect(changed.append)
    rnn.kind.setCurrentText("GRU")
    assert changed[-1] == {"class_name": "GRU", "config": {"units": 16, "return_sequences": True}}


def test_every_declared_kind_gets_its_editor(qtbot):
    training = {spec.name: spec for spec in TRAINING_FIELDS}
    cases = [(training["batch_size"], IntEditor), (training["learning_rate"], TextEditor),
             (training["optimizer"], ChoiceEditor), (training["devices"], ChoiceEditor),
             (training["metrics"], MultiChoiceEditor), (option_spec("folder", "path"), PathEditor),
             (get_spec("Dense").param("kernel_initializer"), ChoiceEditor)]
    for spec, kind in cases:
        editor = make_editor(spec, None)
        qtbot.addWidget(editor)
        assert type(editor) is kind and editor.current_value() == spec.default and editor.toolTip() == spec.help
    devices = make_editor(training["devices"], "cpu:4")
    qtbot.addWidget(devices)
    assert devices.box.isEditable() and devices.box.currentText() == "cpu:4"  # str: choices are suggestions


def test_slider_editor_clicks_and_types(qtbot):
    spec = ParamSpec("factor", "float", 0.1, "Strength.", 0.0, 0.5)
    editor = make_editor(spec, 0.1, slider=True)
    qtbot.addWidget(editor)
    assert isinstance(editor, SliderEditor) and editor.slider.value() == 200
    values = []
    editor.edited.connect(values.append)
    editor.box.selectAll()
    qtbot.keyClicks(editor.box, "0.25")
    assert values[-1] == 0.25 and editor.slider.value() == 500
    qtbot.keyClick(editor.slider, Qt.Key.Key_End)
    assert values[-1] == 0.5 and editor.box.value() == 0.5


def test_multichoice_editor_emits_checked_choices_in_order(qtbot):
    spec = option_spec("shapes", "classes")
    editor = make_editor(spec, ["ring", "circle"])
    qtbot.addWidget(editor)
    values = []
    editor.edited.connect(values.append)
    box = editor.boxes["square"]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert values == [["circle", "square", "ring"]]


def test_a_panel_check_refuses_what_the_spec_alone_accepts(qtbot):
    def below_one(value):
        value = ParamSpec("rate", "float", 0.5, "").check(value)
        if value >= 1:
            raise ParamError("rate must stay below the other setting (1)")
        return value

    editor = make_editor(ParamSpec("rate", "float", 0.5, "A rate."), 0.5, check=below_one)
    qtbot.addWidget(editor)
    values, problems = [], []
    editor.edited.connect(values.append)
    editor.problem.connect(problems.append)
    editor.line.clear()
    qtbot.keyClicks(editor.line, "2")
    assert values == [] and "below the other" in problems[-1] and editor.line.toolTip() == problems[-1]
    qtbot.keyClick(editor.line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor.line, "0.25")
    assert values[-1] == 0.25 and problems[-1] == "" and editor.line.toolTip() == "A rate."


def test_path_editor_emits_when_editing_finishes(qtbot, tmp_path):
    editor = make_editor(option_spec("csv", "path"), None)
    qtbot.addWidget(editor)
    values = []
    editor.edited.connect(values.append)
    qtbot.keyClicks(editor.line, str(tmp_path / "t.csv"))
    assert values == []
    qtbot.keyClick(editor.line, Qt.Key.Key_Return)
    assert values == [str(tmp_path / "t.csv")]


def test_dataset_form_is_generated_from_the_source_options(qtbot):
    from studio.qt.data.dataset_form import DatasetForm

    form = DatasetForm()
    qtbot.addWidget(form)
    assert {source: list(editors) for source, editors in form.options.items()} == {
        source.name: [spec.name for spec in source.options] for source in DATA_SOURCES.values()}
    form.set_spec({"source": "shapes", "count": 20})
    spec = form.spec()
    assert spec["count"] == 20 and spec["image_size"] == option_spec("shapes", "image_size").default
    box = form.source_box
    assert [(box.itemData(i), box.itemText(i), box.itemData(i, Qt.ItemDataRole.ToolTipRole))
            for i in range(box.count()) if box.itemData(i) is not None  # not the group separators
            ] == [(s.name, s.title, s.help) for s in DATA_SOURCES.values()]


def test_opening_the_window_does_not_import_heavy_libraries():
    """Launch must stay fast: TensorFlow loads behind the window, numpy only when a panel needs it."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from studio.qt.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents();"
            "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
