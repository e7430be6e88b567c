"""Generative graphs: parts found from the graph alone, clear refusals, templates, settings."""

import pytest

from studio.core.generative import GenerativeError, find_parts, settings
from studio.core.generative.graphs import autoencoder, conditional_gan, dcgan, vae
from studio.core.generative.templates import apply_template
from studio.core.graph.infer import analyze
from studio.core.graph.templates import list_templates, load_template
from studio.core.project import Project, default_project
from studio.core.training import TrainingError, plan_run

GENERATIVE = {"dcgan_28": "gan", "dcgan_32": "gan", "cgan_28": "gan", "vae_28": "vae", "vae_32": "vae",
              "autoencoder_28": "autoencoder", "autoencoder_32": "autoencoder"}


@pytest.mark.parametrize("name", sorted(GENERATIVE))
def test_templates_split_into_their_two_parts(name):
    template = load_template(name)
    assert template.generative == {"kind": GENERATIVE[name]}
    assert analyze(template.graph).total_params == template.expected_params
    parts = find_parts(template.graph, GENERATIVE[name], template.input_shape)
    assert sorted(parts.maker + parts.reader) == sorted(template.graph.nodes)
    assert list(parts.image_shape) == template.input_shape
    assert parts.conditional == (name == "cgan_28")
    names = parts.named()
    assert set(names) == ({"generator", "discriminator"} if GENERATIVE[name] == "gan" else {"encoder", "decoder"})
    if GENERATIVE[name] == "vae":
        graph = template.graph
        assert [graph.nodes[parts.z_mean].name, graph.nodes[parts.z_log_var].name] == ["z_mean", "z_log_var"]


def test_template_metadata_lists_generative_templates():
    metas = {meta["name"]: meta for meta in list_templates()}
    assert all(metas[name]["task"] == "generative" for name in GENERATIVE)
    assert metas["small_cnn_28"]["generative"] is None


def test_parts_survive_edits_that_keep_the_structure():
    graph = dcgan(16, 1, latent_dim=8, width=8)
    # Insert a layer into the generator and rename things: the parts are still found.
    act = graph.by_name("gen_up1_act")
    image = graph.by_name("gen_image")
    edge = next(e for e in graph.edges if e.src == act.id and e.dst == image.id)
    graph.disconnect(edge)
    extra = graph.add_node("Conv2D", {"filters": 8, "kernel_size": [3, 3], "padding": "same"}, name="extra")
    graph.connect(act.id, extra.id)
    graph.connect(extra.id, image.id)
    graph.rename(graph.by_name("latent").id, "noise")
    parts = find_parts(graph, "gan", (16, 16, 1))
    assert extra.id in parts.maker and parts.latent_input == graph.by_name("noise").id


def _removed(graph, name):
    graph.remove_node(graph.by_name(name).id)
    return graph


def _with_third_group(graph):
    source = graph.add_node("Input", {"shape": [4]}, name="stray_input")
    graph.connect(source.id, graph.add_node("Dense", {"units": 2}).id)
    return graph


@pytest.mark.parametrize("graph, kind, shape, message", [
    (dcgan(16, 1, 8, 8), "gan", (28, 28, 1), "pick the template made for this image size"),
    (_with_third_group(dcgan(16, 1, 8, 8)), "gan", None, "has 3 group"),
    (_removed(dcgan(16, 1, 8, 8), "disc_flatten"), "gan", None, "nothing feeds this layer"),
    (_removed(vae(16, 1, 2, 8), "z"), "vae", None, "exactly one output layer"),
    (autoencoder(16, 1, 4, 8), "vae", None, "must end in a Sampling layer"),
    (vae(16, 1, 2, 8), "gan", None, "must end in one unit"),
])
def test_broken_structures_are_refused_with_a_clear_message(graph, kind, shape, message):
    with pytest.raises(GenerativeError, match=message):
        find_parts(graph, kind, shape)


def test_mismatched_code_and_latent_sizes_are_refused():
    graph = autoencoder(16, 1, latent_dim=4, width=8)
    graph.set_param(graph.by_name("code").id, "units", 6)
    with pytest.raises(GenerativeError, match=r"codes of shape \[6\].*takes \[4\]"):
        find_parts(graph, "autoencoder")


def test_conditional_gan_finds_both_label_inputs():
    graph = conditional_gan(16, 1, latent_dim=8, width=8, num_classes=10)
    parts = find_parts(graph, "gan", (16, 16, 1))
    assert {graph.nodes[i].name for i in parts.label_inputs.values()} == {"gen_label", "disc_label"}
    assert graph.nodes[parts.latent_input].name == "latent"


@pytest.mark.parametrize("section, message", [
    ({"kind": "diffusion"}, "unknown generative kind"),
    ({"kind": "gan", "grid_size": 0}, "grid_size"),
    ({"kind": "vae", "kl_weight": -1}, "kl_weight"),
    ("gan", "unknown generative kind"),
])
def test_bad_settings_are_refused(section, message):
    with pytest.raises(GenerativeError, match=message):
        settings(section)


def test_planning_checks_the_parts_against_the_dataset_before_training():
    project = apply_template(default_project(), load_template("dcgan_28"))
    project.dataset = {"source": "digits", "image_size": 16, "max_samples": 100}
    with pytest.raises(TrainingError, match=r"reads images of shape \[28, 28, 1\] but the dataset has \[16, 16, 1\]"):
        plan_run(project)
    tabular = Project(dataset={"source": "toy", "name": "xor"}, graph=dcgan(16, 1, 8, 8),
                      generative={"kind": "gan"})
    with pytest.raises(TrainingError, match="work on images"):
        plan_run(tabular)


def test_applying_a_template_sets_graph_generative_dataset_and_training():
    project = apply_template(default_project(), load_template("dcgan_32"))
    assert project.generative == {"kind": "gan"} and project.dataset["source"] == "shapes"
    assert project.training["learning_rate"] == 2e-4 and project.training["batch_size"] == 64
    assert project.view == {"template": "dcgan_32"}
    plain = apply_template(project, load_template("small_cnn_28"))
    assert plain.generative is None
