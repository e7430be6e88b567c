"""Self-supervised pretraining: the NT-Xent loss, the encoder it trains, and ``studio pretrain``."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.graph.templates import load_template  # noqa: E402
from studio.core.transfer import load_backbone, with_backbone  # noqa: E402
from studio.core.transfer.contrastive import contrastive_pretrain, encoder_graph, nt_xent  # noqa: E402


def test_nt_xent_is_low_when_each_view_finds_its_partner_and_high_otherwise():
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


@pytest.mark.slow
def test_pretraining_moves_the_encoder_and_gives_a_usable_backbone(tmp_path):
    images = np.random.default_rng(0).random((48, 28, 28, 1), dtype="float32")
    graph = load_backbone("builtin:digits_cnn_28").graph
    result = contrastive_pretrain(graph, images, epochs=2, batch_size=16, seed=0)
    assert len(result.losses) == 2 and all(np.isfinite(result.losses))
    assert tuple(result.encoder.outputs[0].shape[1:]) == (64,)
    with pytest.raises(ValueError, match="at least 16 images"):
        contrastive_pretrain(graph, images[:8], epochs=1, batch_size=16)


@pytest.mark.slow
def test_cli_pretrain_writes_an_encoder_that_attaches_as_a_backbone(tmp_path, capsys):
    out = tmp_path / "encoder.keras"
    data = '{"source": "shapes", "count": 12, "image_size": 28}'
    assert main(["pretrain", "small_cnn_28", "--data", data, "-o", str(out), "--epochs", "1",
                 "--batch-size", "16"]) == 0
    assert "contrastive loss" in capsys.readouterr().out
    backbone = load_backbone(str(out))
    graph = with_backbone(backbone, (28, 28, 1), "classification", 4)
    assert graph.by_name("backbone_conv1").params["trainable"] is False and graph.by_name("head")
    assert main(["pretrain", "small_cnn_28", "-o", str(tmp_path / "e.txt")]) == 2
