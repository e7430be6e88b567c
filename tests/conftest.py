import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", os.environ.get("STUDIO_TEST_GPU", "-1"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _data_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own data cache folder (never the user's ~/.cache)."""
    monkeypatch.setenv("DL_STUDIO_DATA_CACHE", str(tmp_path_factory.mktemp("data-cache")))
