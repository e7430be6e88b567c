"""Headless core of DL Studio. Never imports Qt or pyqtgraph; Keras/TF load lazily."""
