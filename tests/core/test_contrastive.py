"""Self-supervised pretraining as a training objective: the NT-Xent loss, the checks before a run,
runs on every installed backend (the loss goes down; model.keras is the encoder; TensorFlow's run
trains in this process, another backend's through ``studio pretrain``), an exact resume, and
``studio pretrain`` itself."""

import contextlib
import importlib.util
import io
import json

import numpy as np
import pytest

from studio.cli import main
from studio.core.graph.templates import load_template
from studio.core.project import default_project
from studio.core.training import Runner, TrainingError, plan_run, read_events, read_run
from studio.core.transfer.contrastive import DEFAULT_VIEWS, encoder_graph, view_steps

TINY_SHAPES = {"source": "shapes", "count": 40, "image_size": 28, "seed": 0}
BACKENDS = [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name)]
EPOCHS = 6  # of a whole run: enough for its loss to fall clearly on every backend
CLI_BACKEND = next((name for name in BACKENDS if name != "tensorflow"), "tensorflow")  # `studio pretrain` runs on it


def contrastive_project(**training):
    project = default_project()
    project.dataset = dict(TINY_SHAPES)
    project.training = {**project.training, "objective": "contrastive", "epochs": 3, "batch_size": 16,
                        "learning_rate": 3e-3, "grad_norm_every": 0, **training}
    return project


def epoch_losses(run_dir, key="loss"):
    return [event["logs"][key] for event in read_events(run_dir) if event["type"] == "epoch"
            and not event.get("partial")]


def test_nt_xent_is_low_when_each_view_finds_its_partner_and_high_otherwise():
    pytest.importorskip("keras")
    from studio.core.transfer.contrastive_model import nt_xent

    z = np.eye(8, dtype="float32")
    matched = float(nt_xent(z, z, 0.1))
    shuffled = float(nt_xent(z, np.roll(z, 1, axis=0), 0.1))
    assert matched < 0.01 and shuffled > 5
    uniform = float(nt_xent(np.ones((8, 4), "float32"), np.ones((8, 4), "float32"), 1.0))
    assert uniform == pytest.approx(np.log(15), rel=1e-4)  # all 15 candidates alike


def test_the_encoder_is_the_classifier_without_its_last_dense():
    graph = encoder_graph(load_template("small_cnn_28").graph)
    names = [node.name for node in graph.nodes.values()]
    assert "predictions" not in names and "conv2" in names and names[-1].startswith("dropout")


def test_views_come_from_the_augmentation_chain_without_label_mixing_steps():
    steps, notes = view_steps([{"type": "flip", "mode": "horizontal"}, {"type": "mixup", "alpha": 0.2}])
    assert [step["type"] for step in steps] == ["flip"] and "1 label-mixing steps left out" in notes[0]
    steps, notes = view_steps([])
    assert steps == DEFAULT_VIEWS and "default contrastive chain" in notes[0]


def test_a_contrastive_run_is_refused_before_it_starts_when_it_cannot_work():
    plan = plan_run(contrastive_project())  # images, an encoder ending in a vector: accepted
    assert plan.config.objective == "contrastive"
    toy = contrastive_project()
    toy.dataset = {"source": "toy", "name": "moons", "samples": 200}
    with pytest.raises(TrainingError, match="needs images"):
        plan_run(toy)
    with pytest.raises(TrainingError, match="batch size of 2 or more"):
        plan_run(contrastive_project(batch_size=1))
    with pytest.raises(TrainingError, match="fine_tune_epochs applies to supervised runs"):
        plan_run(contrastive_project(fine_tune_epochs=1))
    spatial = contrastive_project()
    for name in ("flatten", "dropout"):  # the features stay a feature map
        node = spatial.graph.by_name(name)
        if node is not None:
            spatial.graph.remove_node(node.id)
    spatial.graph.connect(spatial.graph.by_name("pool2").id, spatial.graph.by_name("predictions").id)
    with pytest.raises(TrainingError, match="must end in a feature vector"):
        plan_run(spatial)
    with pytest.raises(TrainingError, match="objective"):
        plan_run(contrastive_project(objective="labels"))


def contrastive_run(run_dir, backend):
    runner = Runner(contrastive_project(epochs=EPOCHS, backend=backend, devices="cpu"), run_dir)
    runner.start()
    runner.wait()
    return run_dir


@pytest.fixture(scope="module")
def tensorflow_run(tmp_path_factory):
    """A whole contrastive run on TensorFlow, trained in this process (the engine a child process
    runs, without starting one): checked like every backend's, and the uninterrupted run a stopped
    and resumed one (child processes) must match."""
    from studio.core.training.engine import train_run
    from studio.core.training.plan import prepare_run_folder

    project = contrastive_project(epochs=EPOCHS, backend="tensorflow", devices="cpu")
    folder = prepare_run_folder(plan_run(project), tmp_path_factory.mktemp("contrastive") / "run")
    assert train_run(folder) == "completed"
    return folder.path


@pytest.fixture(scope="module")
def pretrained_by_cli(tmp_path_factory):
    """``studio pretrain`` of a project file holding the settings above, on CLI_BACKEND: a whole run
    (checked like every backend's, JAX's where installed) and the command's exit code and output."""
    from studio.core.project import save_project

    root = tmp_path_factory.mktemp("pretrain")
    save_project(contrastive_project(epochs=EPOCHS), root / "contrastive.dlstudio")
    out, run, printed = root / "encoder.keras", root / "run", io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["pretrain", str(root / "contrastive.dlstudio"), "-o", str(out), "--run-dir", str(run),
                     "--devices", "cpu", "--backend", CLI_BACKEND])
    return {"code": code, "printed": printed.getvalue(), "out": out, "run": run}


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_contrastive_loss_goes_down_on_every_backend_and_the_run_keeps_the_encoder(tmp_path, backend, request):
    if backend == "tensorflow":
        run_dir = request.getfixturevalue("tensorflow_run")
    elif backend == CLI_BACKEND:
        run_dir = request.getfixturevalue("pretrained_by_cli")["run"]
    else:
        run_dir = contrastive_run(tmp_path / "run", backend)
    run = read_run(run_dir)
    assert run["status"] == "completed" and run["backend"] == backend, run.get("error")
    losses = epoch_losses(run_dir)
    assert len(losses) == EPOCHS and all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < np.mean(losses[:2]) - 0.05, losses
    assert len(epoch_losses(run_dir, "contrastive_accuracy")) == EPOCHS
    assert "val_loss" in json.loads((run_dir / "history.json").read_text())
    from studio.core.transfer import load_backbone

    encoder = load_backbone(run_dir)  # safe mode; the run's model.keras is the encoder
    assert [node.name for node in encoder.graph.nodes.values()][-1] == "dropout"
    assert len(encoder.model.outputs[0].shape) == 2


@pytest.mark.slow
def test_a_stopped_contrastive_run_resumes_to_the_same_losses_as_an_uninterrupted_one(tmp_path, tensorflow_run):
    parted = Runner(contrastive_project(epochs=EPOCHS, backend="tensorflow", devices="cpu"), tmp_path / "parted")
    parted.start()
    while not any(event["type"] == "epoch" for event in parted.poll(timeout=0.2)):
        assert not parted.finished
    parted.stop()  # during epoch 2: Keras still validates after the stop; the views' seeds stay put
    parted.wait()
    assert read_run(tmp_path / "parted")["status"] == "stopped"
    resumed = Runner(None, tmp_path / "parted", resume=True)
    resumed.start()
    resumed.wait()
    assert read_run(tmp_path / "parted")["status"] == "completed"
    assert epoch_losses(tmp_path / "parted")[-1] == epoch_losses(tensorflow_run)[-1]
    assert epoch_losses(tmp_path / "parted", "val_loss")[-1] == epoch_losses(tensorflow_run, "val_loss")[-1]


@pytest.mark.slow
def test_cli_pretrain_is_a_run_whose_encoder_attaches_as_a_backbone(tmp_path, pretrained_by_cli):
    out, run = pretrained_by_cli["out"], pretrained_by_cli["run"]
    data = json.dumps(TINY_SHAPES)
    assert pretrained_by_cli["code"] == 0 and f"--backbone {out}" in pretrained_by_cli["printed"]
    config = read_run(run)["config"]
    assert (config["objective"], config["epochs"], config["learning_rate"]) == ("contrastive", EPOCHS, 3e-3)
    assert out.read_bytes() == (run / "model.keras").read_bytes()
    from studio.cli.train_cmds import _make_runner
    from studio.cli import build_parser

    args = build_parser().parse_args(["train", "small_cnn_28", "--data", data, "--backbone", str(run),
                                      "--run-dir", str(tmp_path / "probe")])
    project = _make_runner(args).project  # a linear probe on the encoder, back to the labels
    assert project.training["backbone"] == str(run) and project.training["objective"] == "supervised"
    assert project.graph.by_name("backbone_conv1").params["trainable"] is False
    assert main(["pretrain", "small_cnn_28", "-o", str(tmp_path / "e.txt")]) == 2
    assert main(["pretrain", "--resume", str(run)]) == 2  # completed: nothing to resume
