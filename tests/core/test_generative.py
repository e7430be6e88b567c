"""Tiny GAN and VAE runs through the training engine: losses, sample grids, fixed-noise grids that
reload identically, `studio sample`, export of one part; a VAE run in this process, and a GAN run
stopped and resumed in child processes (the GAN tests share it). Slow: every run trains for seconds."""

import hashlib
import time

import numpy as np
import pytest
from PIL import Image

from studio.core.generative import (GenerativeError, epoch_grids, exportable_model, fixed_latents,
                                    interpolate, latent_means, load_generative_model, manifold_grid, sample)
from studio.core.generative.graphs import dcgan, vae
from studio.core.project import Project
from studio.core.training import Runner, read_events, read_run
from studio.core.training.engine import train_run
from studio.core.training.plan import plan_run, prepare_run_folder

DIGITS_8 = {"source": "digits", "image_size": 8, "max_samples": 60, "seed": 0}
TILE, GAP = 8, 2


def _project(kind, graph, epochs=2, quality=True):
    return Project(name=f"tiny {kind}", dataset=dict(DIGITS_8), graph=graph,
                   training={"epochs": epochs, "batch_size": 16, "seed": 1},
                   generative={"kind": kind, "grid_size": 16, "quality": quality})


def _follow(runners, on_event=None, limit_s=240):
    deadline = time.monotonic() + limit_s
    while not all(runner.finished for runner in runners):
        assert time.monotonic() < deadline, "training did not finish in time"
        for runner in runners:
            for event in runner.poll():
                if on_event:
                    on_event(runner, event)
        time.sleep(0.05)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, resumed_gan):
    """The resumed GAN below, and a tiny VAE (2-D latent, two epochs, no quality score) trained in
    this process: the same engine as a child process runs, without starting one."""
    folder = prepare_run_folder(plan_run(_project("vae", vae(8, 1, latent_dim=2, width=8), quality=False)),
                                tmp_path_factory.mktemp("generative") / "vae")
    assert train_run(folder) == "completed"
    return {"gan": resumed_gan["gan"], "vae": folder.path}


@pytest.fixture(scope="module")
def resumed_gan(tmp_path_factory):
    """A tiny GAN trained in a child process, stopped after its first epoch and resumed to its third;
    the sampling, fixed-noise and export tests read it too."""
    root = tmp_path_factory.mktemp("generative")
    runner = Runner(_project("gan", dcgan(8, 1, latent_dim=8, width=8), epochs=3), root / "gan")
    runner.start()
    stopped = {}

    def stop_after_first_epoch(runner, event):
        if event["type"] == "epoch" and event["epoch"] == 1:
            runner.stop()
            stopped["fixed"] = (root / "gan/samples/fixed.npz").read_bytes()
            stopped["scorer"] = (root / "gan/quality/classifier.keras").stat().st_mtime_ns

    _follow([runner], stop_after_first_epoch)
    stopped["status"] = read_run(root / "gan")["status"]
    resumed = Runner(None, root / "gan", resume=True)
    resumed.start()
    _follow([resumed])
    return {"gan": root / "gan", "stopped": stopped}


def _epoch_events(run_dir):
    return [event for event in read_events(run_dir) if event["type"] == "epoch"]


def _grid_pixels(path):
    return np.asarray(Image.open(path))


@pytest.mark.slow
def test_gan_run_logs_both_players_and_writes_a_grid_each_epoch(resumed_gan):
    run_dir = resumed_gan["gan"]
    assert read_run(run_dir)["status"] == "completed", read_run(run_dir).get("error")
    epochs = _epoch_events(run_dir)
    # an epoch cut short by the stop is recorded as partial, then finished by the resume
    assert [event["epoch"] for event in epochs if not event.get("partial")] == [1, 2, 3]
    for event in epochs:
        logs = event["logs"]
        assert {"g_loss", "d_loss", "d_acc_real", "d_acc_fake", "fid", "diversity"} <= set(logs)
        assert 0 <= logs["d_acc_real"] <= 1 and 0 <= logs["d_acc_fake"] <= 1 and logs["fid"] >= 0
    samples = [event for event in read_events(run_dir) if event["type"] == "samples"]
    assert sorted({(event["epoch"], event["kind"]) for event in samples}) == [
        (1, "generated"), (2, "generated"), (3, "generated")]
    side = 4 * TILE + 3 * GAP  # 16 samples in a 4 x 4 grid
    for event in samples:
        assert _grid_pixels(run_dir / event["path"]).shape == (side, side)
    assert not np.array_equal(_grid_pixels(run_dir / samples[0]["path"]), _grid_pixels(run_dir / samples[1]["path"]))
    for name in ("model.keras", "checkpoints/last.keras", "samples/fixed.npz", "quality/classifier.keras"):
        assert (run_dir / name).is_file(), name


@pytest.mark.slow  # the module's in-process GAN and VAE train for seconds
def test_vae_run_logs_reconstruction_and_kl_and_writes_pairs(trained):
    run_dir = trained["vae"]
    assert read_run(run_dir)["status"] == "completed", read_run(run_dir).get("error")
    logs = _epoch_events(run_dir)[-1]["logs"]
    assert {"loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss",
            "val_kl_loss"} <= set(logs) and "fid" not in logs
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-4)
    kinds = {(event["epoch"], event["kind"]) for event in read_events(run_dir) if event["type"] == "samples"}
    assert kinds == {(1, "generated"), (1, "reconstruction"), (2, "generated"), (2, "reconstruction")}
    pairs = _grid_pixels(run_dir / "samples/epoch_002_recon.png")  # 8 pairs, 4 per row
    assert pairs.shape == (2 * TILE + GAP, 8 * TILE + 7 * GAP)
    assert read_run(run_dir)["best"]["monitor"] == "val_loss"


@pytest.mark.slow  # the module's in-process GAN and VAE train for seconds
def test_fixed_noise_grid_is_identical_across_reloads_of_a_checkpoint(trained):
    run_dir = trained["gan"]
    fixed = fixed_latents(run_dir)
    grids = [epoch_grids(load_generative_model(run_dir, "last"), "gan", fixed)["generated"] for _ in range(2)]
    assert np.array_equal(grids[0], grids[1])
    # The checkpoint holds the epoch-3 weights, which drew samples/epoch_003.png during training.
    assert np.array_equal(grids[0], _grid_pixels(run_dir / "samples/epoch_003.png"))


@pytest.mark.slow
def test_a_stopped_run_resumes_with_the_same_fixed_latents_and_cached_scorer(resumed_gan):
    run_dir, stopped = resumed_gan["gan"], resumed_gan["stopped"]
    assert stopped["status"] == "stopped"
    assert [event["epoch"] for event in _epoch_events(run_dir)][-1] == 3
    assert (run_dir / "samples/epoch_003.png").is_file()
    assert (run_dir / "samples/fixed.npz").read_bytes() == stopped["fixed"]
    assert (run_dir / "quality/classifier.keras").stat().st_mtime_ns == stopped["scorer"]


@pytest.mark.slow  # the module's in-process GAN and VAE train for seconds
def test_sample_cli_is_seeded_and_explains_bad_requests(trained, tmp_path, capsys):
    from studio.cli import main

    outputs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        path = tmp_path / f"{name}.png"
        assert main(["sample", str(trained["gan"]), "-n", "9", "-o", str(path), "--seed", str(seed)]) == 0
        outputs.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert outputs[0] == outputs[1] != outputs[2]
    assert _grid_pixels(tmp_path / "a.png").shape == (3 * TILE + 2 * GAP,) * 2
    assert main(["sample", str(trained["gan"]), "-n", "4", "-o", str(tmp_path / "x.png"), "--label", "2"]) == 2
    assert "not conditional" in capsys.readouterr().err
    assert main(["sample", str(tmp_path), "-n", "4", "-o", str(tmp_path / "x.png")]) == 2
    assert main(["sample", str(trained["vae"]), "-n", "3", "--manifold", "-o", str(tmp_path / "m.png")]) == 0
    assert _grid_pixels(tmp_path / "m.png").shape == (3 * TILE + 2 * GAP,) * 2


@pytest.mark.slow  # the module's in-process GAN and VAE train for seconds
def test_latent_exploration_and_export_of_one_part(trained):
    model = load_generative_model(trained["vae"])
    assert manifold_grid(model, 3).shape == (9, TILE, TILE, 1)
    project_data = fixed_latents(trained["vae"])["images"]
    means = latent_means(model, project_data)
    assert means.shape == (len(project_data), 2) and np.isfinite(means).all()
    z0, z1 = np.zeros(2), np.ones(2)
    path = interpolate(z0, z1, [0.0, 0.25, 1.0])
    assert np.allclose(path, [[0, 0], [0.25, 0.25], [1, 1]])
    np.testing.assert_array_equal(sample(model, 4, seed=3), sample(model, 4, seed=3))

    decoder = exportable_model(trained["vae"])
    assert decoder.name == "decoder" and decoder.predict(np.zeros((1, 2)), verbose=0).shape == (1, TILE, TILE, 1)
    assert exportable_model(trained["gan"], "discriminator").output.shape[-1] == 1
    with pytest.raises(GenerativeError, match="no encoder"):
        exportable_model(trained["gan"], "encoder")
    with pytest.raises(GenerativeError, match="2-D latent"):
        manifold_grid(load_generative_model(trained["gan"]))


@pytest.mark.slow
def test_conditional_gan_trains_a_step_and_draws_the_asked_class():
    import keras

    from studio.core.generative.graphs import conditional_gan
    from studio.core.generative.parts import find_parts, settings
    from studio.core.generative.training import make_model

    graph = conditional_gan(8, 1, latent_dim=4, width=4, num_classes=3)
    model = make_model(graph, find_parts(graph, "gan", (8, 8, 1)), settings({"kind": "gan"}), num_classes=3)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    rng = np.random.default_rng(0)
    logs = model.fit(rng.uniform(0, 1, (12, 8, 8, 1)).astype("float32"), np.arange(12) % 3,
                     batch_size=6, epochs=1, verbose=0).history
    assert {"d_loss", "g_loss", "d_acc_real", "d_acc_fake"} <= set(logs)
    same_noise = [sample(model, 2, seed=4, label=label) for label in (0, 1)]
    assert not np.allclose(same_noise[0], same_noise[1])  # the label steers the generator
    with pytest.raises(GenerativeError, match="use 0 to 2"):
        sample(model, 2, label=3)
