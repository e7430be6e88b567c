"""With the JAX backend, train, evaluate, featuremaps and sample run where TensorFlow cannot be
imported (a meta-path blocker in every process, the spawned training process included)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import backends
from studio.core.generative.graphs import vae
from studio.core.project import Project, save_project

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not backends.installed("jax"), reason="jax is not installed")]

BLOCKER = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx", "tf_keras", "tensorboard"):
            raise ImportError(f"{name} is blocked for this test")
sys.meta_path.insert(0, _NoTensorFlow())
"""


def studio(tmp_path, *args):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "KERAS_BACKEND": "jax",
           "STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_jax_runs_train_evaluate_featuremaps_and_sample_without_tensorflow(tmp_path):
    check = studio(tmp_path, "train", "--help")  # the blocker is active: importing TF fails
    assert check.returncode == 0
    run = tmp_path / "cnn"
    studio(tmp_path, "train", "small_cnn_28", "--data", "digits", "--epochs", "1", "--backend", "jax",
           "--run-dir", run)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["backend"] == "jax" and "tensorflow" not in info["versions"]
    assert any(json.loads(line)["type"] == "grad_norms" for line in (run / "events.jsonl").open())
    assert "accuracy" in studio(tmp_path, "evaluate", run).stdout
    studio(tmp_path, "featuremaps", run, "--layer", "conv1", "-o", tmp_path / "maps.png")
    assert (tmp_path / "maps.png").stat().st_size > 0

    project = Project(name="tiny vae", dataset={"source": "digits", "image_size": 8, "max_samples": 60},
                      graph=vae(8, 1, latent_dim=2, width=8), training={"epochs": 1, "batch_size": 16},
                      generative={"kind": "vae", "grid_size": 16, "quality": False})
    save_project(project, tmp_path / "vae.dlstudio")
    studio(tmp_path, "train", tmp_path / "vae.dlstudio", "--backend", "jax", "--run-dir", tmp_path / "vae")
    studio(tmp_path, "sample", tmp_path / "vae", "-n", "4", "-o", tmp_path / "grid.png")
    assert (tmp_path / "grid.png").stat().st_size > 0
