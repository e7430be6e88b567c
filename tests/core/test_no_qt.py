"""The headless core never imports Qt, and importing it does not load TensorFlow."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import studio.core

CORE = Path(studio.core.__file__).parent
FORBIDDEN = ("PySide6", "pyqtgraph", "studio.qt", "PyQt5", "PyQt6")


def test_core_sources_never_import_qt():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(CORE)}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []


def test_importing_every_core_module_loads_no_qt_and_no_tensorflow():
    modules = [m.name for m in pkgutil.walk_packages([str(CORE)], "studio.core.")
               if not m.name.endswith(("custom_layers", "generative.models", "transfer.contrastive_model"))]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'tensorflow', 'keras')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
