"""The backend-neutral training stream: a ``keras.utils.PyDataset`` over a pipeline plan.

Used with the JAX and PyTorch backends (it works on any): batches are gathered in numpy and
augmented with Keras ops on the training backend, so TensorFlow is never imported. Batches are
numbered across epochs (batch ``i`` is batch ``i % steps`` of epoch ``start + i // steps``), so
``model.fit(steps_per_epoch=...)`` on an endless stream sees each epoch's own order and seeds.
``WORKERS`` threads prefetch batches (Pillow decoding and numpy gathers release the GIL).
"""

from __future__ import annotations

import functools

import numpy as np

WORKERS = 2


def batch_dataset(plan, epoch: int = 0, epochs: int | None = 1):
    """A PyDataset of epochs ``epoch``.. of ``plan`` (``epochs=None``: endless)."""
    return _dataset_class()(plan, epoch, epochs)


@functools.cache
def _dataset_class():
    import keras

    # Several JAX processes (jax.distributed): each feeds its own rows of every global batch.
    _rows = lambda batch: batch  # noqa: E731
    if keras.backend.backend() == "jax":
        from studio.core.backends.jax import process_rows as _rows

    class PlanDataset(keras.utils.PyDataset):
        def __init__(self, plan, epoch, epochs):
            super().__init__(workers=WORKERS, use_multiprocessing=False, max_queue_size=8)
            self.plan, self.epoch, self.epochs = plan, int(epoch), epochs

        @property
        def num_batches(self):
            return None if self.epochs is None else self.plan.steps * self.epochs

        def __getitem__(self, index):
            epoch, batch_index = divmod(int(index), self.plan.steps)
            xb, yb = self.plan.batch(self.epoch + epoch, batch_index, self._order(self.epoch + epoch))
            return _rows(np.asarray(xb)), _rows(np.asarray(yb))

        @functools.lru_cache(maxsize=2)
        def _order(self, epoch):
            return self.plan.order(epoch)

        def __iter__(self):
            index = 0
            while self.epochs is None or index < self.num_batches:
                yield self[index]
                index += 1

    return PlanDataset
