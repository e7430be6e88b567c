"""What generative models add to a run (plugin of ``studio.core.hooks``, listed in
``studio.core.features``): the GAN/VAE/autoencoder builder and its checks, and for language models the
masked-LM loss and the live text samples."""

from __future__ import annotations

from studio.core.training.build import RunAddition


def objective_builder(project):
    """``generative.training.build`` for projects with a ``generative`` section."""
    if getattr(project, "generative", None):
        from studio.core.generative.training import build

        return build
    return None


def compat_problems(project, facts) -> list[str] | None:
    """What stops a generative project from training on the data (None: not generative)."""
    if not project.generative:
        return None
    from studio.core.generative.training import check  # loads numpy: the data is loaded by now
    from studio.core.training.errors import TrainingError

    try:
        check(project, facts)
    except TrainingError as exc:
        return [str(exc)]
    return []


def supervised_loss(dataset, loss: str, from_logits: bool):
    """A masked language model's loss counts only the masked tokens (target 0: unmasked)."""
    if dataset.normalization.get("objective") != "mlm" or loss != "sparse_categorical_crossentropy":
        return None
    from studio.core.training.build import make_loss

    return (make_loss(loss, from_logits, ignore_class=0),
            "masked language model: the loss counts the masked tokens only (accuracy counts every step)")


def extend_run(run) -> RunAddition | None:
    """Live text from fixed prompts each epoch, for a language model trained on a corpus."""
    from studio.core.generative.text import TextSamples, fixed_prompts, is_language_model

    if not run.supervised or not is_language_model(run.dataset):
        return None
    from studio.core.data.tokenize import dataset_vocabulary

    vocabulary, prompts = dataset_vocabulary(run.dataset), fixed_prompts(run.dataset)
    return RunAddition(folder_callbacks=[lambda folder: TextSamples(folder, vocabulary, prompts)])
