"""models/ and assets/ ship inside a plain (non-editable) install (slow: pip builds the wheel)."""

import subprocess
import sys
import zipfile

import pytest

from studio.resources import models_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built once as ``pip install .`` builds it."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(folder)], check=True, cwd=models_dir().parent)
    (built,) = folder.glob("*.whl")
    return built


def test_wheel_contains_templates_and_assets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    templates = {p.name for p in models_dir().glob("*.json")}
    assert {f"studio/resources/models/{t}" for t in templates} <= set(names)
    assert "studio/resources/assets/__init__.py" in names
    assert any(n.startswith("studio/resources/assets/icons/") for n in names)


def test_installed_copy_finds_its_templates(wheel, tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "-q", "--target", str(tmp_path)],
                   check=True)
    code = ("import studio.resources as r; from studio.core.graph.templates import template_names; "
            "print(r.models_dir()); print(len(template_names()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    folder, count = result.stdout.split()
    assert folder.startswith(str(tmp_path)) and int(count) == len(list(models_dir().glob("*.json")))
