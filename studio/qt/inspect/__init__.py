"""Parts of the Inspect area (studio/qt/inspect/panel.py): worker, model source, views, plots."""
