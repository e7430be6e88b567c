"""Precision, recall and AUC for multi-class models trained on integer labels.

Keras' versions want one-hot targets; these wrappers one-hot the labels first (micro-averaged
over classes). They are registered under the ``studio`` package so saved models load.
"""

from __future__ import annotations

import functools


@functools.cache
def _wrapper(base_name: str):
    import keras

    base = {"precision": keras.metrics.Precision, "recall": keras.metrics.Recall,
            "auc": keras.metrics.AUC}[base_name]

    def __init__(self, num_classes=2, sparse_labels=True, logits=False, **kwargs):
        base.__init__(self, **kwargs)
        self.num_classes, self.sparse_labels, self.logits = num_classes, sparse_labels, logits

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.sparse_labels:
            labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
            y_true = keras.ops.one_hot(labels, self.num_classes)
        if self.logits:
            y_pred = keras.ops.softmax(y_pred)
        return base.update_state(self, y_true, y_pred, sample_weight)

    def get_config(self):
        return {**base.get_config(self), "num_classes": self.num_classes,
                "sparse_labels": self.sparse_labels, "logits": self.logits}

    name = f"MultiClass{base.__name__}"
    cls = type(name, (base,), {"__init__": __init__, "update_state": update_state,
                               "get_config": get_config})
    return keras.saving.register_keras_serializable(package="studio", name=name)(cls)


def one_hot_metric(name: str, num_classes: int, sparse_labels: bool, logits: bool):
    """A precision/recall/auc metric for ``num_classes`` softmax outputs."""
    return _wrapper(name)(num_classes=num_classes, sparse_labels=sparse_labels, logits=logits, name=name)
