import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", os.environ.get("STUDIO_TEST_GPU", "-1"))

import gc  # noqa: E402
import tempfile  # noqa: E402

import pytest  # noqa: E402

from studio.core.features import load_features  # noqa: E402

load_features()  # the entry point of the test session, as the CLI and the app are of theirs


def pytest_collection_finish(session):
    """Move what collection imported (TensorFlow, Keras, Qt: millions of objects) out of the garbage
    collector's view: it lives until the end anyway, and full collections would rescan it hundreds
    of times (about 3 s of the fast lane)."""
    gc.collect()
    gc.freeze()


# Tests that share no module fixture, spread over the pytest-xdist workers one by one: the GUI tests
# (their fixtures are per test; a file of long ones would trail) and the 40 keras.applications cases.
# Every other file's tests stay together on one worker (--dist loadfile).
SPREAD = ("tests/qt/", "tests/core/test_keras_io.py::test_every_keras_application_imports_with_exact_params_and_outputs[")


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, except that each case of the tests in ``SPREAD`` is a unit of its own."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduler(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SPREAD) else super()._split_scope(nodeid)

    return Scheduler(config, log)


@pytest.fixture(scope="session", autouse=True)
def _data_caches(tmp_path_factory):
    """The session's data cache folder; module fixtures (set up before a test's own folder) use it."""
    folder = tmp_path_factory.mktemp("data-caches")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DL_STUDIO_DATA_CACHE", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _data_cache(_data_caches, monkeypatch):
    """Every test gets its own data cache folder (never the user's ~/.cache).

    Made with mkdtemp under one session folder: ``tmp_path_factory.mktemp`` per test would scan
    every numbered folder made before it (quadratic, seconds over the whole suite)."""
    monkeypatch.setenv("DL_STUDIO_DATA_CACHE", tempfile.mkdtemp(dir=_data_caches))
