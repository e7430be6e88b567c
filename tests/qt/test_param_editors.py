"""Param text parsing and the generated editors (validation as you type, valid values only)."""

import os
import subprocess
import sys

import pytest

from studio.core.graph.catalog import get_spec
from studio.qt.widgets.param_editors import RecurrentLayerEditor, RegularizerEditor, TextEditor, make_editor
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


def test_opening_the_window_does_not_import_heavy_libraries():
    """Launch must stay fast: TensorFlow loads behind the window, numpy only when a panel needs it."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from studio.qt.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents();"
            "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
