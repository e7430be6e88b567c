"""``studio train``: argument errors, refusals before training, and the progress display."""

import io

import pytest

from studio.cli import main
from studio.cli.train_cmds import Progress, dataset_spec
from studio.core.formatting import format_duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys):
    assert main(["train", "no_such_template"]) == 2
    assert "no such project file or template" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert "give a project file or a template name" in capsys.readouterr().err
    run_dir = tmp_path / "run"
    code = main(["train", "small_cnn_28", "--data", '{"source": "digits", "max_samples": 40}',
                 "--epochs", "0", "--batch-size", "0", "--run-dir", str(run_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "epochs must be at least 1" in err and "batch_size must be at least 1" in err
    assert not run_dir.exists()
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_data_argument(tmp_path):
    assert dataset_spec("shapes") == {"source": "shapes"}
    assert dataset_spec(str(tmp_path)) == {"source": "folder", "path": str(tmp_path)}
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    assert dataset_spec(str(table)) == {"source": "csv", "path": str(table)}


def test_progress_bar_with_eta_on_a_terminal():
    stream = Terminal()
    progress = Progress(stream)
    progress.show({"type": "start", "epochs": 3, "steps_per_epoch": 10, "compile_mode": "xla",
                   "device": {"gpus": [], "backend": "jax"}, "notes": ["no GPU found"]})
    progress.show({"type": "batch", "epoch": 1, "step": 5, "steps": 10, "logs": {"loss": 0.75},
                   "samples_per_s": 321.0, "eta_s": 125.0})
    progress.show({"type": "epoch", "epoch": 1, "logs": {"loss": 0.5, "val_loss": 0.6}, "duration_s": 2.0})
    progress.show({"type": "error", "kind": "nan", "message": "the loss became NaN"})
    text = stream.getvalue()
    assert "training on CPU with jax (xla mode), 3 epochs of 10 steps" in text and "note: no GPU found" in text
    assert "\r\033[Kepoch 1/3 [############............] 5/10  loss 0.75  321 samples/s  ETA 02:05" in text
    assert "epoch 1/3  loss 0.5  val_loss 0.6  (2.0s)" in text and "error (nan): the loss became NaN" in text
    plain = io.StringIO()
    Progress(plain).show({"type": "batch", "epoch": 1, "step": 1, "steps": 2, "logs": {},
                          "samples_per_s": 1.0, "eta_s": 1.0})
    assert plain.getvalue() == ""  # no bar redraws in a log file
    assert format_duration(3725) == "1:02:05"


def test_setting_options_take_their_type_from_the_spec_and_devices_stays_free_text():
    from studio.cli import build_parser

    for command in ("train", "pretrain"):
        args = build_parser().parse_args([command, "small_cnn_28", "--devices", "2", "--epochs", "3",
                                          "--temperature", "0.5", "--backend", "jax"])
        assert (args.devices, args.epochs, args.temperature, args.backend) == ("2", 3, 0.5, "jax")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "small_cnn_28", "--objective", "unsupervised"])
