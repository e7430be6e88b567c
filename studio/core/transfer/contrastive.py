"""Self-supervised pretraining (SimCLR-style) as a training objective: an encoder learns from
unlabeled images by pulling together two augmented views of the same image and pushing apart views
of different images.

A project trains this way when ``training.objective`` is ``contrastive``: ``plan_run`` calls
``fit_to_dataset`` instead of the supervised model/data checks, and the engine builds the run with ``build``
(``studio.core.training.build.builder_for`` dispatches here), so it is an ordinary run folder with
events, checkpoints, Stop and resume. The encoder is the project's graph minus its classifier; a
projection head (Dense-ReLU-Dense) sits on it during pretraining only; the views come from the
project's augmentation chain (a stronger default when the project has none); labels are never read.
The run's model.keras is the encoder, which ``--backbone RUN`` accepts like any pretrained model
(freeze it for a linear probe, or fine-tune). The Keras side is ``contrastive_model``.
"""

from __future__ import annotations

from studio.core.graph.model import Graph
from studio.core.training.errors import TrainingError

# Two views need strong, varied changes; mirrors are left out (a mirrored digit is another symbol).
DEFAULT_VIEWS = [
    {"type": "random_crop", "padding": 4},
    {"type": "rotation", "factor": 0.08, "fill_mode": "constant"},
    {"type": "zoom", "factor": 0.2, "fill_mode": "constant"},
    {"type": "contrast", "factor": 0.4},
    {"type": "gaussian_noise", "stddev": 0.05},
]
PROJECTION_UNITS = (64, 32)  # the projection head's hidden and output sizes


def encoder_graph(graph: Graph) -> Graph:
    """The feature part of a classifier graph: everything but its last Dense (and activation).

    Args:
        graph: a classifier graph (left unchanged).

    Returns:
        A new graph of its Inputs and feature layers (see ``Graph.subgraph``).
    """
    from studio.core.transfer.attach import _feature_nodes

    keep = set(graph.input_nodes()) | set(_feature_nodes(graph))
    return graph.subgraph(keep)


def view_steps(augmentation: list[dict] | None) -> tuple[list[dict], list[str]]:
    """The augmentation steps that make the two views, and a note saying where they come from.
    Steps that blend two images' labels (mixup, cutmix) have no meaning without labels: left out."""
    from studio.core.augment.catalog import AUGMENTATIONS, validate_steps

    steps = [step for step in validate_steps(augmentation) if not AUGMENTATIONS[step["type"]].mixes_labels]
    if not steps:
        return list(DEFAULT_VIEWS), ["views: the default contrastive chain (crop, rotation, zoom, contrast, noise); "
                                     "add augmentation steps to the project to choose your own"]
    left_out = len(augmentation) - len(steps)
    return steps, [f"views: the project's augmentation chain ({len(steps)} steps"
                   + (f"; {left_out} label-mixing steps left out)" if left_out else ")")]


def fit_to_dataset(project, dataset) -> tuple[Graph, list[str]]:
    """What ``plan_run`` does for a contrastive run (pure Python): check that it can work, and fit the
    graph's input to the images (its classifier is not used); ``(graph, changes)``, or TrainingError
    saying what to change."""
    from studio.core.augment.catalog import AugmentationError
    from studio.core.graph.infer import analyze
    from studio.core.training.adapt import check_graph, fit_input
    from studio.core.training.config import TrainingConfig

    config = TrainingConfig.from_dict(project.training)
    if project.generative:
        raise TrainingError("contrastive pretraining trains a classifier's feature layers: "
                            "set the objective back to supervised for a GAN, VAE or autoencoder")
    if config.fine_tune_epochs:
        raise TrainingError("fine_tune_epochs applies to supervised runs: set it to 0 for contrastive pretraining")
    if config.batch_size < 2:
        raise TrainingError("contrastive pretraining compares the images of a batch: use a batch size of 2 or more")
    if len(dataset.input_shape) != 3:
        raise TrainingError(f"contrastive pretraining needs images (height, width, channels); the dataset gives "
                            f"samples of shape {tuple(dataset.input_shape)}: use the supervised objective")
    try:
        view_steps(project.augmentation)
    except AugmentationError as exc:
        raise TrainingError(f"augmentation: {exc}") from None
    graph = project.graph.copy()
    check_graph(graph)
    if len(graph.input_nodes()) != 1:
        raise TrainingError(f"the model has {len(graph.input_nodes())} inputs; pretraining on images needs one")
    changes = fit_input(graph, dataset.input_shape)
    encoder = encoder_graph(graph)
    analysis, outputs = analyze(encoder), encoder.output_nodes()
    if not analysis.ok:
        raise TrainingError(f"the model does not accept images of shape {tuple(dataset.input_shape)}: "
                            f"{analysis.problems[0].message}")
    if len(outputs) != 1:
        raise TrainingError("the encoder (the model without its last Dense) must end in one output: fix the model")
    shape = analysis.nodes[outputs[0]].output_shape or ()
    if len(shape) != 1:
        raise TrainingError(f"the encoder (the model without its last Dense) must end in a feature vector; it "
                            f"gives {tuple(shape)}: end the features with GlobalAveragePooling2D or Flatten")
    if not analysis.trainable_params:
        raise TrainingError("the model has no trainable layers before its last Dense: nothing to pretrain")
    return graph, changes


def build(project, config, dataset, setup, start_epoch: int = 0):
    """The engine's builder for contrastive runs: ``Built`` with the compiled ContrastiveModel and
    the image streams (augmentation happens inside the model: the two views)."""
    from studio.core.data import make_pipeline, steps_per_epoch
    from studio.core.graph.keras_io import to_keras
    from studio.core.training.build import Built, make_optimizer
    from studio.core.transfer.contrastive_model import ContrastiveModel, projection_head

    steps, notes = view_steps(project.augmentation)
    encoder = to_keras(encoder_graph(project.graph), name="encoder")
    if config.backbone and start_epoch == 0:  # a resumed run continues from its own backup
        from studio.core.transfer.weights import start_weights

        notes += start_weights(encoder, config.replace(init_from=None))
    features = int(encoder.outputs[0].shape[-1])
    model = ContrastiveModel(encoder, projection_head(features, PROJECTION_UNITS), steps, dataset.value_range,
                             config.temperature, config.seed, name="contrastive")
    batches = steps_per_epoch(dataset, "train", config.batch_size)
    model.compile(optimizer=make_optimizer(config, batches), jit_compile=setup.jit_compile)
    model.optimizer.build(model.trainable_variables)
    train = make_pipeline(dataset, "train", config.batch_size, config.seed, epoch=start_epoch, shuffle=True,
                          epochs=None)
    val = make_pipeline(dataset, "val", config.batch_size, config.seed) if len(dataset.x_val) else None
    notes.append(f"contrastive pretraining: labels unused; the run's model is the encoder ({features} features), "
                 "usable as a backbone")
    return Built(model, train, val, batches, notes=notes)
