"""Datasets: sources -> numpy splits + metadata (``load_dataset``), and tf.data pipelines."""

from studio.core.augment.catalog import needs_soft_labels
from studio.core.data.dataset import SPLITS, Dataset, DataError
from studio.core.data.loader import default_dataset_spec, load_dataset
from studio.core.data.pipeline import first_training_samples, make_pipeline, steps_per_epoch, training_labels
from studio.core.data.source_options import DATA_SOURCES

__all__ = [
    "DATA_SOURCES",
    "SPLITS",
    "DataError",
    "Dataset",
    "default_dataset_spec",
    "first_training_samples",
    "load_dataset",
    "make_pipeline",
    "needs_soft_labels",
    "steps_per_epoch",
    "training_labels",
]
