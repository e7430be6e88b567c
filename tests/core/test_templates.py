"""Templates: documented parameter counts equal our inference and Keras itself."""

import pytest

from studio.core.graph.infer import analyze
from studio.core.graph.keras_io import to_keras
from studio.core.graph.templates import TemplateError, list_templates, load_template

DOCUMENTED = {"vgg16": 138_357_544, "resnet50": 25_636_712, "mobilenet": 4_253_864,
              "alexnet": 62_378_344, "lenet5": 61_706, "mlp_xor": 17}
REQUIRED = {"mlp_xor", "perceptron", "mlp_one_hidden", "unet_28", "segnet_28", "shufflenet_32", "localizer_28", "lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "inception", "mobilenet",
            "small_cnn_28", "small_cnn_32"}


def test_required_templates_exist_with_metadata():
    metas = {m["name"]: m for m in list_templates()}
    assert REQUIRED <= set(metas)
    for meta in metas.values():
        assert meta["title"] and meta["description"] and meta["reference"] and meta["input_shape"]


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_expected_params_match_inference(name):
    template = load_template(name)
    analysis = analyze(template.graph)
    assert analysis.ok, analysis.problems
    assert analysis.total_params == template.expected_params
    if name in DOCUMENTED:
        assert template.expected_params == DOCUMENTED[name]


@pytest.fixture(scope="module")
def built():
    """``built(name)``: the template's Keras model, built once for the tests that only read it."""
    models = {}

    def build(name):
        if name not in models:
            models[name] = to_keras(load_template(name).graph)
        return models[name]

    yield build
    models.clear()


# vgg16 and alexnet are slow: hundreds of MB of dense weights to allocate.
@pytest.mark.parametrize("name", [pytest.param("vgg16", marks=pytest.mark.slow), "resnet50", "resnet18", "inception",
                                  pytest.param("alexnet", marks=pytest.mark.slow), "small_cnn_32", "segnet_28", "shufflenet_32"])
def test_keras_agrees_with_the_expected_count(built, name):
    assert built(name).count_params() == load_template(name).expected_params


def test_resnet50_matches_keras_applications_layer_for_layer(built):
    import keras

    ours = built("resnet50")
    theirs = keras.applications.ResNet50(weights=None)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]


def test_unknown_template_lists_the_available_ones():
    with pytest.raises(TemplateError, match="small_cnn_28"):
        load_template("nope")


def test_template_changes_name_each_changed_section_and_sections_can_be_kept():
    from studio.core.generative.templates import apply_template, template_changes
    from studio.core.project import default_project

    project = default_project()
    project.dataset = {**project.dataset, "source": "shapes", "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
    vae = load_template("vae_28")
    changes = {c.section: c.text for c in template_changes(project, vae)}
    assert list(changes) == ["model", "generative", "dataset", "training"]
    assert changes["dataset"] == "Dataset: shapes 70/15/15 → digits 80/10/10"
    kept = apply_template(project.copy(), vae, ("model", "generative", "training"))
    assert kept.dataset == project.dataset and kept.generative == {"kind": "vae"}
    assert [c.section for c in template_changes(project, load_template("lenet5"))] == ["model"]

    project.dataset = {"source": "shape_scenes", "count": 150, "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
    changes = {c.section: c.text for c in template_changes(project, load_template("detector_64"))}
    assert changes["dataset"] == "Dataset shape_scenes: count 150 → default, split 70/15/15 → default"


def test_resnet18_has_the_usual_cifar_trainable_count_and_says_why_keras_counts_more(built):
    model = built("resnet18")
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert trainable == 11_173_962 and model.count_params() - trainable == 9_600  # BatchNorm moving statistics
    description = load_template("resnet18").description
    assert "11,173,962 trainable" in description and "9,600 moving" in description
