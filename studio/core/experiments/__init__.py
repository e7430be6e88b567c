"""Experiments: the run store (summaries, index, cached curves), run tables and diffs, variants of a
project, and hyperparameter sweeps on Optuna. Headless; the CLI and the GUI only draw these.

- ``summary``: ``update_summary(run)`` keeps RUN/summary.json (event-derived figures, built
  incrementally from a byte offset into events.jsonl); ``run_row(run)`` = run.json + summary + labels.
- ``labels``: user tags and a note per run (RUN/labels.json).
- ``index``: ``RunIndex(root).rows()``: one SQLite index per runs folder, refreshed by mtime.
- ``curve_cache``: ``load_curves(run)`` -> RunCurves restored from RUN/curves.npz plus the tail.
- ``table``: columns, filters, sorting, CSV and text rendering of rows.
- ``compare``: ``compare_runs(a, b)`` -> settings, graph and data differences.
- ``space`` / ``sweep``: search spaces from the settings specs (training, whole-graph settings of
  ``graph_settings``, LAYER.PARAM) and their short text form; Optuna studies of normal runs.
- ``variants``: ``make_variants(project, space)`` -> [(label, project)], the grid over a space.
"""
