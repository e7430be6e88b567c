"""Start a run from another run's weights (``init_from``): layers with the same name and the same
weight shapes take the saved weights; the others keep their fresh ones. Used for fine-tuning a
pretrained encoder (e.g. tiny_bert -> tiny_bert_classifier)."""

from __future__ import annotations

from studio.core.training.errors import TrainingError


def load_matching_weights(model, run_dir) -> str:
    """Copy matching layers' weights from ``run_dir``'s model into ``model``; a run note saying which."""
    from studio.core.inspect.errors import InspectError
    from studio.core.inspect.runs import load_run_model

    try:
        source = load_run_model(run_dir)
    except InspectError as exc:
        raise TrainingError(f"init_from: {exc}") from None
    saved = {layer.name: layer for layer in source.layers}
    loaded, skipped = [], []
    for layer in model.layers:
        other = saved.get(layer.name)
        if other is None or not layer.weights:
            continue
        weights = other.get_weights()
        if [tuple(w.shape) for w in weights] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(weights)
            loaded.append(layer.name)
        else:
            skipped.append(layer.name)
    if not loaded:
        raise TrainingError(f"init_from: no layer of {run_dir} matches this model by name and weight shapes; "
                            "start from a run of the same architecture (or clear init_from)")
    note = f"weights of {len(loaded)} layers loaded from {run_dir}: {', '.join(loaded)}"
    return note + (f"; kept fresh (other shapes): {', '.join(skipped)}" if skipped else "")
