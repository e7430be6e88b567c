"""DL Studio: a desktop deep-learning studio on Keras 3, PySide6 and pyqtgraph."""

__version__ = "0.1.0"
