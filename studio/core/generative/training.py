"""The generative model-building step of the training engine (see ``studio.core.training.build``).

``build`` turns a generative project into a compiled GAN/VAE/AutoEncoder with its tf.data
streams (images rescaled to [0, 1]) and the per-epoch live-samples callback; the engine does the
rest exactly as for any other run (events, checkpoints, resume, stop).
"""

from __future__ import annotations

from studio.core.generative.images import unit_range
from studio.core.generative.parts import GenerativeError, Parts, check_project, settings
from studio.core.graph.model import Graph
from studio.core.tasks import get_task

# DCGAN practice: Adam with beta_1 = 0.5 keeps the two players' updates from oscillating.
GAN_ADAM_BETA_1 = 0.5


def sub_model(graph: Graph, ids: list[str], inputs: list[str], outputs: list[str], name: str):
    """A functional Keras model of the nodes ``ids`` with inputs/outputs in the given order."""
    import keras

    from studio.core.graph.keras_io import to_keras

    whole = to_keras(graph.subgraph(ids), name=name)
    ins = [whole.get_layer(graph.nodes[i].name).output for i in inputs]
    outs = [whole.get_layer(graph.nodes[i].name).output for i in outputs]
    return keras.Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0], name=name)


def make_model(graph: Graph, parts: Parts, options: dict, num_classes: int = 0):
    """The uncompiled GAN, VAE or AutoEncoder assembled from the graph's two parts."""
    from studio.core.generative.models import GAN, VAE, AutoEncoder
    from studio.core.tasks.outputs import output_activation

    labels = parts.label_inputs
    maker_inputs = [parts.latent_input] + ([labels["maker"]] if labels else [])
    reader_inputs = [parts.image_input] + ([labels["reader"]] if labels else [])
    if parts.kind == "gan":
        generator = sub_model(graph, parts.maker, maker_inputs, [parts.maker_output], "generator")
        discriminator = sub_model(graph, parts.reader, reader_inputs, [parts.reader_output], "discriminator")
        logits = output_activation(graph.subgraph(parts.reader)) == "linear"
        return GAN(generator, discriminator, latent_dim=parts.latent_dim, conditional=parts.conditional,
                   from_logits=logits, num_classes=num_classes, seed=options["seed"], name="gan")
    decoder = sub_model(graph, parts.maker, maker_inputs, [parts.maker_output], "decoder")
    if parts.kind == "vae":
        encoder = sub_model(graph, parts.reader, reader_inputs,
                            [parts.z_mean, parts.z_log_var, parts.reader_output], "encoder")
        return VAE(encoder, decoder, kl_weight=float(options["kl_weight"]), name="vae")
    encoder = sub_model(graph, parts.reader, reader_inputs, [parts.reader_output], "encoder")
    return AutoEncoder(encoder, decoder, name="autoencoder")


def check_labels(graph: Graph, parts: Parts, dataset) -> None:
    """A conditional GAN needs class labels, and Embeddings big enough for every class."""
    if not parts.conditional:
        return
    if not get_task(dataset.task).has_classes or not dataset.num_classes:
        raise GenerativeError("a conditional GAN needs a dataset with classes")
    for label_input in parts.label_inputs.values():
        for node_id in graph.successors(label_input):
            node = graph.nodes[node_id]
            if node.type == "Embedding" and node.params.get("input_dim", 0) < dataset.num_classes:
                raise GenerativeError(f"embedding {node.name!r} has input_dim {node.params.get('input_dim')} "
                                      f"but the dataset has {dataset.num_classes} classes: raise it")


def check(project, dataset) -> Parts:
    """Everything checked before a generative run starts; GenerativeError says what to change."""
    parts = check_project(project, dataset.input_shape)
    check_labels(project.graph, parts, dataset)
    return parts


def build(project, config, dataset, setup, start_epoch: int = 0):
    """The engine's builder for generative projects: ``Built`` with the compiled model and streams."""
    from studio.core.data import make_pipeline, steps_per_epoch
    from studio.core.generative.live import LiveSamples
    from studio.core.training.build import Built, make_optimizer

    options = settings(project.generative)
    parts = check(project, dataset)
    model = make_model(project.graph, parts, options, dataset.num_classes)
    steps = steps_per_epoch(dataset, "train", config.batch_size)
    notes = []
    if parts.kind == "gan":
        d_optimizer, g_optimizer = make_optimizer(config, steps), make_optimizer(config, steps)
        if config.optimizer in ("adam", "adamw"):
            d_optimizer.beta_1 = g_optimizer.beta_1 = GAN_ADAM_BETA_1
            notes.append(f"GAN: Adam beta_1 = {GAN_ADAM_BETA_1} for both players")
        model.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, jit_compile=setup.jit_compile)
    else:
        model.compile(optimizer=make_optimizer(config, steps), jit_compile=setup.jit_compile)
        model.optimizer.build(model.trainable_variables)
    to_unit = unit_range(dataset)

    def stream(split, **kwargs):
        return make_pipeline(dataset, split, config.batch_size, config.seed, project.augmentation,
                             transform=to_unit, **kwargs)

    train = stream("train", epoch=start_epoch, shuffle=True, epochs=None)
    val = stream("val") if parts.kind != "gan" and len(dataset.x_val) else None
    live = lambda folder: LiveSamples(folder, parts, options, dataset)  # noqa: E731
    return Built(model, train, val, steps, folder_callbacks=[live], notes=notes)
