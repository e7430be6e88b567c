"""``studio export``: exit codes, warnings and refusals."""

import pytest

from export_helpers import make_run, small_cnn
from studio.cli import main
from studio.core.export import meta_path, writers


@pytest.fixture(scope="module")
def untrained_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("runs") / "run", small_cnn(), epochs=0)


def test_export_prints_result_and_untrained_warning(untrained_run, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    assert main(["export", str(untrained_run), "--format", "onnx", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: run run finished no epoch" in captured.err
    assert "onnx: ok" in captured.out and out.exists() and meta_path(out).exists()
    assert main(["export", str(untrained_run), "--format", "onnx", "-o", str(out)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert main(["export", str(untrained_run), "--format", "onnx", "-o", str(out), "--force"]) == 0


def test_bad_arguments_exit_2(untrained_run, tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--format", "keras", "-o", str(tmp_path / "m.keras")]) == 2
    assert "no run folder" in capsys.readouterr().err
    assert main(["export", str(untrained_run), "--format", "keras", "--with-training",
                 "-o", str(tmp_path / "m.keras")]) == 2
    assert "only applies to --format python" in capsys.readouterr().err


def test_failed_verification_exits_1_and_writes_nothing(untrained_run, tmp_path, capsys, monkeypatch):
    def broken_save(model, path):
        model.get_layer("classes").bias.assign([5.0] + [0.0] * 9)
        model.save(path)

    monkeypatch.setattr(writers, "write_keras", broken_save)
    assert main(["export", str(untrained_run), "--format", "keras", "-o", str(tmp_path / "m.keras")]) == 1
    assert "FAILED keras" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
