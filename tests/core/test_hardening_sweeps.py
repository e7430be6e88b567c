"""Issue 25, sweeps: grids are sized arithmetically and refused past ``MAX_GRID`` before anything is
built, space files are read with a size cap, and booleans in a space are checked as booleans."""

import json
import os
import tracemalloc

import pytest

from experiments_helpers import save_tiny, tiny_project
from studio.cli import main
from studio.core.experiments.space import MAX_GRID, SpaceError, grid_size, load_space, parse_space
from studio.core.experiments.sweep import Sweep, SweepSettings
from studio.core.experiments.variants import VariantError, make_variants

HUGE_SPACES = [
    ({"learning_rate": {"low": 1e-10, "high": 1.0, "step": 1e-10}}, "10,000,000,000"),
    ({"dense_1.units": {"low": 1, "high": 65536, "step": 1}}, "65,536"),
    ({"batch_size": {"low": 1, "high": 65536, "step": 1}, "epochs": {"low": 1, "high": 100000, "step": 1}},
     "6,553,600,000"),
]


@pytest.mark.parametrize("space, size", HUGE_SPACES)
def test_a_huge_grid_is_refused_naming_its_size_without_building_it(space, size, tmp_path):
    project = tiny_project()
    dims = parse_space(space, project)  # valid setting by setting: other samplers may search it
    tracemalloc.start()
    try:
        with pytest.raises(SpaceError, match=f"{size} (points|values); at most {MAX_GRID:,}"):
            grid_size(dims)
        with pytest.raises(SpaceError, match=size):
            Sweep(project, dims, SweepSettings(sampler="grid"), tmp_path / "tiny.dlstudio")
        with pytest.raises(VariantError, match=size):
            make_variants(project, space)
        for dim in dims:
            if dim.grid_count() > MAX_GRID:
                with pytest.raises(SpaceError, match=f"at most {MAX_GRID:,}"):
                    dim.grid()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing was materialised
    assert Sweep(project, dims, SweepSettings(sampler="tpe"), tmp_path / "tiny.dlstudio").grid_size is None


def test_the_grid_size_is_the_product_of_the_value_counts():
    dims = parse_space({"learning_rate": {"low": 0.1, "high": 0.5, "step": 0.1},
                        "optimizer": {"choices": ["adam", "sgd"]}}, tiny_project())
    assert [dim.grid_count() for dim in dims] == [5, 2] and grid_size(dims) == 10
    assert len(dims[0].grid()) == 5


def test_the_sweep_command_refuses_a_huge_grid_with_one_line(tmp_path, capsys):
    project = save_tiny(tmp_path / "tiny.dlstudio")
    space = tmp_path / "space.json"
    space.write_text(json.dumps(HUGE_SPACES[0][0]))
    assert main(["sweep", str(project), "--space", str(space), "--sampler", "grid"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "10,000,000,000" in err[0], err


@pytest.mark.parametrize("log", ["no", "yes", 0, 1, None, [True]])
def test_log_must_be_a_boolean(log):
    with pytest.raises(SpaceError, match="log must be true or false"):
        parse_space({"learning_rate": {"low": 1e-4, "high": 0.1, "log": log}}, tiny_project())
    dims = parse_space({"learning_rate": {"low": 1e-4, "high": 0.1, "log": False}}, tiny_project())
    assert dims[0].log is False


def test_space_files_are_read_with_a_size_cap(tmp_path, capsys):
    project = tiny_project()
    big = tmp_path / "big.json"
    big.write_text('{"learning_rate": {"choices": [0.1]}, "x": "' + "a" * (2 * 2**20) + '"}')
    with pytest.raises(SpaceError, match="larger than 1 MiB"):
        load_space(big, project)
    with pytest.raises(SpaceError, match="not a regular file"):
        load_space("/dev/zero", project)
    fifo = tmp_path / "space.fifo"
    os.mkfifo(fifo)
    with pytest.raises(SpaceError, match="not a regular file"):  # would hang if opened
        load_space(fifo, project)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SpaceError, match="nested more than"):
        load_space(deep, project)
    saved = save_tiny(tmp_path / "tiny.dlstudio")
    assert main(["sweep", str(saved), "--space", "/dev/zero"]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("url, driver", [("mysql://u@localhost/db", "mysqlclient"),
                                         ("mysql+pymysql://u@localhost/db", "pymysql")])
def test_a_storage_whose_driver_is_missing_names_that_driver(url, driver):
    from studio.core.experiments.sweep import SweepError, open_storage

    with pytest.raises(SweepError, match="needs a database driver") as refused:
        open_storage(url)
    assert f"pip install '{driver}'" in str(refused.value) and "psycopg" not in str(refused.value)


@pytest.mark.parametrize("clash", ["programming", "integrity"])
def test_a_table_another_worker_is_creating_is_waited_for(clash, monkeypatch, tmp_path):
    """Two workers opening a new PostgreSQL storage at once: one sees 'relation already exists'."""
    import optuna.storages
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    from studio.core.experiments import sweep

    real, calls = optuna.storages.RDBStorage, []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            error = ProgrammingError if clash == "programming" else IntegrityError
            raise error("CREATE TABLE studies", {}, Exception('relation "studies" already exists'))
        return real(url, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    monkeypatch.setattr(sweep.time, "sleep", lambda seconds: None)
    storage = sweep.open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    assert len(calls) == 2 and storage.get_all_studies() == []


def test_another_programming_error_is_not_retried(monkeypatch):
    import optuna.storages
    from sqlalchemy.exc import ProgrammingError

    from studio.core.experiments.sweep import SweepError, open_storage

    calls = []

    def broken(url, **kwargs):
        calls.append(url)
        raise ProgrammingError("SELECT", {}, Exception("permission denied for schema public"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", broken)
    with pytest.raises(SweepError, match="permission denied"):
        open_storage("sqlite:///unused.db")
    assert len(calls) == 1
