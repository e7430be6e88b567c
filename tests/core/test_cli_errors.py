"""How the ``studio`` command ends on an error: our own errors (bad input) as one line, exit 2; an
unexpected error as one line, exit 1, and with ``--verbose`` its traceback on stderr."""

import logging

import pytest

from studio.cli import CliError, main


@pytest.fixture
def runs_fails(monkeypatch):
    """``studio runs`` raising what ``use(error)`` is given."""
    from studio.cli import runs_cmds

    def use(error):
        def fail(_args):
            raise error
        monkeypatch.setattr(runs_cmds, "_runs", fail)
    yield use
    logging.getLogger("studio").handlers.clear()  # main() set up stderr logging for this process
    logging.getLogger("studio").setLevel(logging.NOTSET)


def test_an_unexpected_error_is_one_line_and_its_traceback_comes_with_verbose(runs_fails, tmp_path, capsys):
    runs_fails(ZeroDivisionError("division by zero"))
    assert main(["runs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == "error: ZeroDivisionError: division by zero (run again with --verbose for the traceback)\n"

    assert main(["--verbose", "runs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "ERROR studio.cli: unexpected error\nTraceback (most recent call last):" in err
    assert 'raise error' in err and err.endswith("error: ZeroDivisionError: division by zero\n")


def test_our_own_errors_stay_one_line_even_with_verbose(runs_fails, tmp_path, capsys):
    runs_fails(CliError("no runs folder at nowhere"))
    assert main(["--verbose", "runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: no runs folder at nowhere\n"
