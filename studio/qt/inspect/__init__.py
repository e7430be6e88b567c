"""Parts of the Inspect area (studio/qt/panels/inspect.py): worker, model source, views, plots."""
