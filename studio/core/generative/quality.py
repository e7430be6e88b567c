"""Sample quality: a Fréchet distance on features of a small classifier trained on the same data.

Like FID, but the feature extractor is a small CNN trained once per dataset (and cached in the
run folder) instead of an ImageNet network, so it works offline on any image size. Lower is
better. Diversity is the mean pairwise feature distance of the samples relative to the data's:
far below 1 means the generator makes the same few images (mode collapse).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from studio.core import fileio
from studio.core.generative.images import run_batches
from studio.core.tasks import get_task

FEATURES_LAYER = "features"
REFERENCE_SAMPLES = 1000
COLLAPSE_RATIO = 0.5
CLASSIFIER_EPOCHS = 8


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between two Gaussians: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^1/2)."""
    # The eigenvalues of a product of two covariance matrices are real and >= 0 (up to rounding).
    eigenvalues = np.linalg.eigvals(np.asarray(sigma1, np.float64) @ np.asarray(sigma2, np.float64))
    cross = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    return float(max(0.0, diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * cross))


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (n, d) features."""
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def mean_pairwise_distance(features: np.ndarray, limit: int = 500) -> float:
    """Mean Euclidean distance between distinct pairs among the first ``limit`` rows."""
    f = np.asarray(features[:limit], np.float64)
    if len(f) < 2:
        return 0.0
    squared = (f * f).sum(axis=1)
    d2 = np.clip(squared[:, None] + squared[None, :] - 2 * f @ f.T, 0, None)
    return float(np.sqrt(d2)[np.triu_indices(len(f), 1)].mean())


def feature_classifier(input_shape, num_classes: int, seed: int = 0):
    """The small CNN whose ``features`` layer describes images for the score."""
    import keras
    from keras import layers

    init = lambda offset: keras.initializers.GlorotUniform(seed + offset)  # noqa: E731
    inputs = keras.Input(tuple(input_shape))
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init(1))(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init(2))(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(64, activation="relu", name=FEATURES_LAYER, kernel_initializer=init(3))(x)
    outputs = layers.Dense(max(num_classes, 2), activation="softmax", kernel_initializer=init(4))(x)
    return keras.Model(inputs, outputs, name="quality_classifier")


class QualityScorer:
    """Scores generated images against a reference set of real ones; see the module docstring.

    Build with ``for_run`` (trains or loads the cached classifier) or from a trained classifier
    and reference images (in [0, 1]).
    """

    def __init__(self, classifier, reference: np.ndarray) -> None:
        import keras

        self.classifier = classifier
        self.features_model = keras.Model(classifier.input, classifier.get_layer(FEATURES_LAYER).output)
        features = self.features(reference)
        self.mu, self.sigma = statistics(features)
        self.data_diversity = mean_pairwise_distance(features)

    def features(self, images: np.ndarray) -> np.ndarray:
        return run_batches(self.features_model, np.asarray(images, np.float32))

    def score(self, images: np.ndarray) -> tuple[float, float]:
        """``(fid, diversity)`` of ``images``: the Fréchet distance to the reference features and
        their mean pairwise feature distance relative to the reference's (about 1 for real data)."""
        features = self.features(images)
        fid = frechet_distance(*statistics(features), self.mu, self.sigma)
        diversity = mean_pairwise_distance(features) / self.data_diversity if self.data_diversity else 0.0
        return fid, diversity

    @classmethod
    def train(cls, x_train, y_train, num_classes: int, reference: np.ndarray, seed: int = 0,
              epochs: int = CLASSIFIER_EPOCHS) -> QualityScorer:
        """Train the feature classifier on labelled images in [0, 1] and score against ``reference``."""
        import keras

        classifier = feature_classifier(x_train.shape[1:], num_classes, seed)
        classifier.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy")
        classifier.fit(x_train, y_train, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
        return cls(classifier, reference)

    @classmethod
    def for_run(cls, run_dir: str | os.PathLike, dataset, to_unit, seed: int = 0) -> QualityScorer:
        """The scorer of a run: its classifier is trained once per dataset and cached in
        ``RUN/quality/`` (the cache is redone when the dataset fingerprint differs)."""
        from studio.core.graph.keras_io import KerasImportError, load_keras_file

        folder = Path(run_dir) / "quality"
        model_file, meta_file = folder / "classifier.keras", folder / "meta.json"
        x_ref = to_unit(reference_split(dataset)[:REFERENCE_SAMPLES])
        try:
            cached = json.loads(meta_file.read_text(encoding="utf-8")).get("fingerprint") == dataset.fingerprint()
        except (OSError, ValueError):
            cached = False
        if cached and model_file.is_file():
            try:  # the one safe loader: a file that is not our classifier is trained again
                return cls(load_keras_file(model_file, with_model=True)[1], x_ref)
            except KerasImportError:
                pass
        labels = dataset.y_train if get_task(dataset.task).has_classes else np.zeros(len(dataset.y_train), np.int32)
        scorer = cls.train(to_unit(dataset.x_train), labels, dataset.num_classes, x_ref, seed)
        folder.mkdir(parents=True, exist_ok=True)
        fileio.atomic_replace_with(model_file, scorer.classifier.save)
        fileio.atomic_write_json(meta_file, {"fingerprint": dataset.fingerprint(),
                                             "reference_samples": len(x_ref)})
        return scorer


def reference_split(dataset) -> np.ndarray:
    """Real images the samples are compared with: the validation split, else the training split."""
    return dataset.x_val if len(dataset.x_val) else dataset.x_train
