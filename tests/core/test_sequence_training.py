"""Sequence templates train on built-in sets (loss falls); a language model writes live samples,
generates seeded text from the CLI, draws its attention maps and exports to .keras and ONNX.

The runs train in this process (the CLI's project and settings, the engine a training process
runs): starting a process per run is the business of tests/core/test_training_cli.py."""

import json

import numpy as np
import pytest

from studio.cli import main
from studio.cli.train_cmds import dataset_spec, load_source
from studio.core.training.engine import train_run
from studio.core.training.plan import plan_run, prepare_run_folder
from studio.core.training.runs import read_events

TINY = {
    "lstm_forecaster": {"source": "sequences", "name": "signals_steps", "samples": 200, "length": 24},
    "seq2seq_attention": {"source": "sequences", "name": "reverse", "samples": 300},
    "tiny_gpt": {"source": "sequences", "name": "grammar", "samples": 300, "max_length": 32},
}


def _train(tmp_path, template, data, name="run", epochs=1, **training):
    """Train ``template`` on ``data`` as `studio train TEMPLATE --data DATA --epochs N --batch-size 16`
    does, in this process; the loss must fall: within the epoch (its running loss below its first batch
    report) or, with ``epochs`` > 1, from the first epoch to the last (a small set's epoch can be a single
    compiled call of several steps, so one batch report)."""
    run = tmp_path / name
    project, _ = load_source(template)
    project.dataset = data
    project.training = {**project.training, "epochs": epochs, "batch_size": 16, **training}
    assert train_run(prepare_run_folder(plan_run(project), run)) == "completed"
    events = read_events(run)
    losses = [e["logs"]["loss"] for e in events if e["type"] == ("batch" if epochs == 1 else "epoch")]
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    assert losses[-1] < losses[0], (template, losses)
    return run, events


def _text_folder(root):
    rng = np.random.default_rng(0)
    for label, words in {"neg": ["awful", "boring", "bad"], "pos": ["great", "lovely", "fun"]}.items():
        (root / label).mkdir(parents=True)
        for i in range(60):
            text = " ".join(rng.choice(words + ["the", "film", "was", "and"], 12))
            (root / label / f"{i}.txt").write_text(text)
    return {"source": "text_folder", "path": str(root), "max_length": 12, "max_tokens": 50}


@pytest.fixture(scope="module")
def gpt_run(tmp_path_factory):
    """A tiny_gpt run (one epoch) for the template test and the generate/export test."""
    return _train(tmp_path_factory.mktemp("gpt"), "tiny_gpt", TINY["tiny_gpt"])


@pytest.fixture(scope="module")
def seq2seq_run(tmp_path_factory):
    """A seq2seq_attention run (one epoch) for the template test and the attention maps test."""
    return _train(tmp_path_factory.mktemp("s2s"), "seq2seq_attention", TINY["seq2seq_attention"])


SHARED_RUNS = {"tiny_gpt": "gpt_run", "seq2seq_attention": "seq2seq_run"}  # template: its module fixture


@pytest.mark.slow
@pytest.mark.parametrize("template", ["lstm_text_classifier", *TINY])  # gru_text_classifier: the text CSV test
def test_sequence_templates_train_and_loss_falls(tmp_path, template, request):
    if template in SHARED_RUNS:
        run, events = request.getfixturevalue(SHARED_RUNS[template])
    else:
        text = template not in TINY  # 120 texts: a few steps an epoch
        run, events = _train(tmp_path, template, TINY.get(template) or _text_folder(tmp_path / "texts"),
                             epochs=3 if text else 1)
    assert not any(e["type"] == "error" for e in events)
    if template == "tiny_gpt":
        samples = [e for e in events if e["type"] == "samples"]
        assert samples and samples[0]["kind"] == "text" and (run / samples[0]["path"]).read_text().strip()


@pytest.mark.slow
def test_generate_from_a_gpt_run_and_export_it(gpt_run, tmp_path, capsys):
    run, _ = gpt_run
    args = ["generate", str(run), "--prompt", "the cat", "-n", "20", "--temperature", "0.8", "--top-k", "5"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0 and capsys.readouterr().out == first  # seeded
    assert first.startswith("the cat") and len(first.rstrip("\n")) == len("the cat") + 20
    assert main(["generate", str(tmp_path), "--prompt", "x"]) == 2
    assert "not a language-model run" in capsys.readouterr().err
    maps = tmp_path / "maps.png"
    assert main(["attention", str(run), "--layer", "multi_head_attention_1", "--sample", "1", "-o", str(maps)]) == 0
    assert "4 heads, 32 x 32 steps" in capsys.readouterr().out and maps.stat().st_size > 0
    assert main(["attention", str(run), "--layer", "dense", "-o", str(maps)]) == 2
    assert "not attention" in capsys.readouterr().err
    for fmt, suffix in (("keras", ".keras"), ("onnx", ".onnx")):
        out = tmp_path / f"gpt{suffix}"
        assert main(["export", str(run), "--format", fmt, "-o", str(out)]) == 0, fmt
        assert out.exists()


@pytest.mark.slow
def test_a_text_csv_path_trains_a_text_classifier(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["text,label"] + [f"{' '.join(rng.choice(['great', 'fun', 'the', 'film'], 8))},pos" for _ in range(40)] \
        + [f"{' '.join(rng.choice(['awful', 'bad', 'the', 'film'], 8))},neg" for _ in range(40)]
    (tmp_path / "texts.csv").write_text("\n".join(rows) + "\n")
    assert main(["data", "info", str(tmp_path / "texts.csv")]) == 0
    assert "text_csv" in capsys.readouterr().out
    _train(tmp_path, "gru_text_classifier", dataset_spec(str(tmp_path / "texts.csv")), epochs=3)


@pytest.mark.slow
def test_attention_maps_of_a_seq2seq_attention_run(seq2seq_run, tmp_path, capsys):
    run, _ = seq2seq_run
    maps = tmp_path / "maps.png"
    assert main(["attention", str(run), "-o", str(maps)]) == 0, capsys.readouterr().err
    assert "layer attention on test sample 0: 1 heads, 8 x 8 steps" in capsys.readouterr().out
    assert maps.stat().st_size > 0


@pytest.mark.slow
def test_tiny_bert_pretrains_on_masked_tokens_then_fine_tunes_from_its_weights(tmp_path, capsys):
    mlm = {"source": "sequences", "name": "grammar", "samples": 300, "max_length": 32, "objective": "mlm"}
    pretrained, events = _train(tmp_path, "tiny_bert", mlm, "bert")
    assert not any(e["type"] == "samples" for e in events)  # masked LM: no next-token text samples
    notes = json.loads((pretrained / "run.json").read_text())["notes"]
    assert any("masked tokens only" in note for note in notes)

    data = {**_text_folder(tmp_path / "texts"), "max_length": 32}
    _train(tmp_path, "tiny_bert_classifier", data, "tuned", epochs=6, init_from=str(pretrained))
    info = json.loads((tmp_path / "tuned" / "run.json").read_text())
    loaded = next(note for note in info["notes"] if note.startswith("weights of"))
    assert "multi_head_attention_1" in loaded and "position_embedding" in loaded and "predictions" not in loaded
    epochs = [e["logs"] for e in read_events(tmp_path / "tuned") if e["type"] == "epoch"]
    assert epochs[-1]["loss"] < epochs[0]["loss"] and epochs[-1]["val_loss"] < epochs[0]["val_loss"]

    from studio.core.inspect import load_run_model

    before, after = load_run_model(pretrained), load_run_model(tmp_path / "tuned")
    assert before.get_layer("multi_head_attention").get_weights()[0].shape == \
        after.get_layer("multi_head_attention").get_weights()[0].shape
    assert main(["train", "tiny_bert_classifier", "--data", json.dumps(data), "--epochs", "1",
                 "--init-from", str(tmp_path / "nothing"), "--run-dir", str(tmp_path / "bad")]) != 0
