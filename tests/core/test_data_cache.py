"""The shared dataset cache, and a training start that loads its dataset once in this process."""

import pytest

import studio.core.data as data
from studio.core.data import DataError, cache
from studio.core.graph.templates import load_template
from studio.core.project import default_project
from studio.core.training import Runner

SPEC = {"source": "digits", "max_samples": 40, "seed": 1}


@pytest.fixture
def loads(monkeypatch):
    """Every call of load_dataset, wherever it is imported from (the cache, the planner)."""
    calls = []
    real = data.load_dataset

    def counting(spec, *progress_and_cancel):
        calls.append(spec)
        return real(spec, *progress_and_cancel)

    monkeypatch.setattr(cache, "load_dataset", counting)
    monkeypatch.setattr(data, "load_dataset", counting)
    cache.clear()
    yield calls
    cache.clear()


def test_one_load_serves_every_equal_spec(loads):
    assert cache.cached_dataset(SPEC) is None
    first = cache.load_cached(SPEC)
    reordered = dict(reversed(list(SPEC.items())))
    assert cache.cached_dataset(reordered) is first and cache.load_cached(reordered) is first
    assert len(loads) == 1
    other = cache.load_cached({**SPEC, "seed": 2})
    assert other is not first and len(loads) == 2
    cache.clear()
    assert cache.cached_dataset(SPEC) is None


def test_the_oldest_dataset_goes_first_beyond_the_memory_limit(loads, monkeypatch):
    monkeypatch.setattr(cache, "MAX_BYTES", 1)  # every dataset is over the limit: only the newest stays
    cache.load_cached(SPEC)
    newest = cache.load_cached({**SPEC, "seed": 2})
    assert cache.cached_dataset(SPEC) is None and cache.cached_dataset({**SPEC, "seed": 2}) is newest


def test_a_failed_load_is_not_cached(loads):
    with pytest.raises(DataError):
        cache.load_cached({"source": "no_such_source"})
    with pytest.raises(DataError):
        cache.load_cached({"source": "no_such_source"})
    assert len(loads) == 2


def test_a_start_with_the_cached_dataset_loads_nothing_more(loads, tmp_path, monkeypatch):
    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = dict(SPEC)
    project.training = {"epochs": 1}
    monkeypatch.setattr(Runner, "_spawn", lambda self: None)  # the child process loads its own copy
    dataset = cache.load_cached(project.dataset)  # what the Data panel did
    runner = Runner(project, tmp_path / "run", dataset=dataset)
    runner.start()
    assert len(loads) == 1 and runner.plan.dataset["fingerprint"] == dataset.fingerprint()
    Runner(project, tmp_path / "run2").start()  # without a dataset, the planner loads it itself
    assert len(loads) == 2
