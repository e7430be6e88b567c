import subprocess
import sys

from studio.cli import main
from studio.core.project import default_project, save_project


def test_templates_lists_every_template_with_counts(capsys):
    assert main(["templates"]) == 0
    out = capsys.readouterr().out
    assert "resnet50" in out and "25,636,712" in out and "138,357,544" in out


def test_summary_prints_rows_and_totals(tmp_path, capsys):
    path = tmp_path / "p.dlstudio"
    save_project(default_project(), path)
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "(26, 26, 32)" in out and "Total params: 34,826" in out


def test_validate_exit_code_follows_errors(tmp_path, capsys):
    project = default_project()
    project.graph.add_node("Dense", name="dangling")
    path = tmp_path / "p.dlstudio"
    save_project(project, path)
    assert main(["validate", str(path)]) == 1
    assert "dangling: not connected" in capsys.readouterr().out
    assert main(["validate", "small_cnn_28"]) == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.dlstudio"
    path.write_text("{")
    assert main(["summary", str(path)]) == 2
    assert main(["summary", "no_such_thing"]) == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_console_entry_point_runs_headless():
    result = subprocess.run([sys.executable, "-m", "studio", "summary", "mlp_xor"], capture_output=True, text=True)
    assert result.returncode == 0 and "Total params: 17" in result.stdout


def test_summary_reads_a_template_file(capsys):
    from studio.resources import models_dir

    assert main(["summary", str(models_dir() / "vgg16.json")]) == 0
    assert "Total params: 138,357,544" in capsys.readouterr().out


def test_a_legacy_h5_file_is_named_as_such(tmp_path, capsys):
    for name in ("model.h5", "model.bin"):
        path = tmp_path / name
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
        assert main(["summary", str(path)]) == 2
        assert "legacy Keras HDF5 file: not supported for import, save it as .keras" in capsys.readouterr().err
