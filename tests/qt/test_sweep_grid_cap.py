"""Sweep panel (issue 25): typing a range whose grid is huge says the grid's size at once, without
building its values on the GUI thread, and Start stays disabled."""

import time
import tracemalloc

from test_sweep_panel import edit_values, sweep_panel

from experiments_helpers import tiny_project
from studio.core.experiments.space import MAX_GRID


def test_a_huge_grid_typed_in_the_space_editor_is_refused_naming_its_size(window, qtbot, tmp_path):
    panel = sweep_panel(window, tmp_path, tiny_project())
    panel.sampler.setCurrentText("grid")
    tracemalloc.start()
    started = time.monotonic()
    try:
        edit_values(qtbot, panel, "learning_rate", "1e-10 .. 1 step 1e-10")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5 and peak < 16 * 2**20
    assert panel.check_label.text() == (  # 10,000,000,000 learning rates x 3 optimizers
        f"the grid holds 30,000,000,000 points; at most {MAX_GRID:,} (use fewer values or larger steps, "
        "or the tpe or random sampler)")
    assert not panel.start_button.isEnabled()
    panel.sampler.setCurrentText("tpe")  # other samplers search the same range without a grid
    assert panel.check_label.text().startswith("Valid: 2 settings") and panel.start_button.isEnabled()
