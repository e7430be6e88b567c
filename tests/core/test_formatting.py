import io

from studio.core.formatting import plural


def test_plural_counts_one_and_many():
    assert [plural(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]


def test_the_cli_start_line_says_one_epoch_not_one_epochs():
    from studio.cli.train_cmds import Progress

    stream = io.StringIO()
    Progress(stream).show({"type": "start", "epochs": 1, "steps_per_epoch": 1, "compile_mode": "graph",
                           "device": {"backend": "jax"}})
    assert "1 epoch of 1 step" in stream.getvalue() and "epochs" not in stream.getvalue()
