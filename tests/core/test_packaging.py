"""models/ and assets/ ship inside a plain (non-editable) install."""

import subprocess
import sys
import zipfile

from studio.resources import models_dir


def test_wheel_contains_templates_and_assets(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, cwd=models_dir().parent)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = {p.name for p in models_dir().glob("*.json")}
    assert {f"studio/resources/models/{t}" for t in templates} <= set(names)
    assert "studio/resources/assets/__init__.py" in names
    assert any(n.startswith("studio/resources/assets/icons/") for n in names)


def test_installed_copy_finds_its_templates(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "install", ".", "--no-deps", "--no-build-isolation", "-q",
                    "--target", str(tmp_path)], check=True, cwd=models_dir().parent)
    code = ("import studio.resources as r; from studio.core.graph.templates import template_names; "
            "print(r.models_dir()); print(len(template_names()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    folder, count = result.stdout.split()
    assert folder.startswith(str(tmp_path)) and int(count) == len(list(models_dir().glob("*.json")))
