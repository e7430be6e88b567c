"""The standalone Python export: a Keras script that rebuilds the model and loads its weights.

The script runs as is (``python model.py`` prints a summary), predicts on saved inputs
(``--predict x.npy --output y.npy``) and, exported with the training setup, retrains the model on
the project's data (``--train``; the data loading needs DL Studio installed).
"""

from __future__ import annotations

import json
import pprint
from pathlib import Path

from studio.core.export.codegen import graph_to_python
from studio.core.export.report import ExportError
from studio.core.tasks import get_task

_OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": None}),
    "nesterov": ("SGD", {"momentum": None, "nesterov": True}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {"weight_decay": None}),
}

_MAIN = '''
WEIGHTS = Path(__file__).with_name({weights!r})
if WEIGHTS.exists():
    model.load_weights(WEIGHTS)


def predict(*arrays):
    """Model outputs for input batches (numpy arrays, normalized as described above)."""
    return model.predict(list(arrays) if len(arrays) > 1 else arrays[0], verbose=0)
{training}

def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predict", nargs="+", metavar="X.npy", help="input batches, one .npy per model input")
    parser.add_argument("--output", default="predictions.npy", help="where --predict saves the outputs")
    {train_option}args = parser.parse_args(argv)
    {train_call}if args.predict:
        outputs = predict(*[np.load(path) for path in args.predict])
        if isinstance(outputs, (list, tuple)):
            np.savez(args.output, *outputs)
        else:
            np.save(args.output, outputs)
        print(f"saved predictions to {{args.output}}")
    else:
        model.summary()


if __name__ == "__main__":
    main(sys.argv[1:])
'''

_TRAINING = '''

DATASET = {dataset}
TRAINING = {training}


def load_data():
    """The project's train/val/test splits, loaded and normalized exactly as DL Studio does."""
    try:
        from studio.core.data import load_dataset
    except ImportError:
        sys.exit("loading the project's data needs DL Studio: pip install dl-studio")
    data = load_dataset(DATASET)
    return (data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)


def train():
    """Train the model from fresh weights (no augmentation or schedule) and save its weights."""
    keras.utils.set_random_seed(TRAINING["seed"])
    (x, y), (x_val, y_val), (x_test, y_test) = load_data()
    fresh = keras.models.clone_model(model)
    fresh.compile(optimizer={optimizer}, loss=TRAINING["loss"], metrics=TRAINING["metrics"])
    fresh.fit(x, y, batch_size=TRAINING["batch_size"], epochs=TRAINING["epochs"],
              validation_data=(x_val, y_val) if len(x_val) else None)
    if len(x_test):
        print("test:", fresh.evaluate(x_test, y_test, verbose=0, return_dict=True))
    fresh.save_weights(WEIGHTS.with_name({trained!r}))
'''


def python_script(model, source, weights_name: str, with_training: bool = False,
                  normalization_included: bool = False) -> str:
    """The script of ``model`` (an exported inference model), reading ``weights_name`` beside it.

    With ``normalization_included`` the model reads raw pixels, so the training setup loads the
    data without normalization.
    """
    from studio.core.graph.keras_io import KerasImportError, from_keras

    try:
        graph = from_keras(model)
    except KerasImportError as exc:
        raise ExportError(f"the Python export cannot express this model: {exc}") from None
    stem = Path(weights_name).name.removesuffix(".weights.h5")
    docstring = _docstring(source, Path(weights_name).name, stem, with_training, normalization_included)
    code = graph_to_python(graph, model.name, docstring)
    imports = "import sys\nfrom pathlib import Path\n\nimport keras\nimport numpy as np\n"
    code = code.replace("import keras\n", imports, 1)
    training = _training_code(source, stem, normalization_included) if with_training else ""
    return code + _MAIN.format(
        weights=Path(weights_name).name, training=training,
        train_option='parser.add_argument("--train", action="store_true", help="train from fresh weights")\n    '
        if with_training else "",
        train_call="if args.train:\n        train()\n        return\n    " if with_training else "")


def _docstring(source, weights_name: str, stem: str, with_training: bool, normalization_included: bool) -> str:
    from studio import __version__

    lines = [f"{source.name}: a Keras model exported by DL Studio {__version__}.", "",
             f"Weights are read from {weights_name} next to this file.", "Usage:",
             f"    python {stem}.py                                  # build, load weights, print a summary",
             f"    python {stem}.py --predict x.npy --output y.npy   # predict on a saved batch"]
    if with_training:
        lines.append(f"    python {stem}.py --train                          # retrain on the project's data")
    lines += ["", f"Input shapes: {', '.join(str(shape) for shape, _ in source.input_specs())}"]
    if source.dataset is not None and source.uses_dataset_inputs():
        if normalization_included:
            lines.append("Inputs are raw pixels (0..255): the model normalizes them itself.")
        else:
            lines.append("Inputs are normalized like this: " + json.dumps(source.dataset.normalization)[:300])
        if source.dataset.class_names:
            lines.append(f"Classes: {', '.join(source.dataset.class_names)}")
    return "\n".join(lines).replace('"""', "'''").replace("\\", "/")


def _training_code(source, stem: str, normalization_included: bool) -> str:
    """The data-loading and training functions, from the project's dataset and training settings."""
    if source.project is None or source.dataset is None:
        raise ExportError("the training setup needs a run with its project and dataset; export without it")
    if source.project.generative:
        raise ExportError("the training setup of generative projects cannot be exported; export without it")
    from studio.core.training.build import loss_name
    from studio.core.training.config import TrainingConfig

    config = TrainingConfig.from_dict(source.project.training)
    out_units = int(source.model.outputs[0].shape[-1])
    loss = loss_name(config, source.dataset.task, out_units, soft_labels=False)
    metrics = [get_task(source.dataset.task).metric]
    settings = {"seed": config.seed, "batch_size": config.batch_size, "epochs": config.epochs,
                "loss": loss, "metrics": metrics}
    class_name, extra = _OPTIMIZERS[config.optimizer]
    kwargs = {"learning_rate": config.learning_rate}
    for key, value in extra.items():
        kwargs[key] = getattr(config, key) if value is None else value
    optimizer = f"keras.optimizers.{class_name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    dataset = dict(source.project.dataset)
    if normalization_included:
        dataset["normalize"] = "none"  # the model's own first layers normalize
    return _TRAINING.format(dataset=pprint.pformat(dataset, width=90, sort_dicts=False),
                            training=pprint.pformat(settings, width=90, sort_dicts=False),
                            optimizer=optimizer, trained=f"{stem}.trained.weights.h5")
