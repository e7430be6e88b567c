"""The backend-neutral training stream: a ``keras.utils.PyDataset`` over a pipeline plan.

Used with the JAX and PyTorch backends (it works on any): batches are gathered in numpy and
augmented with Keras ops on the training backend, so TensorFlow is never imported. Batches are
numbered across epochs (batch ``i`` is batch ``i % steps`` of epoch ``start + i // steps``), so
``model.fit(steps_per_epoch=...)`` on an endless stream sees each epoch's own order and seeds.
Streamed or augmented batches are prefetched by ``WORKERS`` threads (Pillow decoding and the
augmentation ops release the GIL); an in-memory batch is one numpy gather, cheaper than handing
it between threads, so those are made on the training thread.
"""

from __future__ import annotations

import functools

import numpy as np

WORKERS = 2


def batch_dataset(plan, epoch: int = 0, epochs: int | None = 1):
    """A PyDataset of epochs ``epoch``.. of ``plan`` (``epochs=None``: endless)."""
    return _dataset_class()(plan, epoch, epochs)


def prefetch_workers(plan) -> int:
    """Threads worth running for ``plan``: none when a batch is a plain in-memory gather."""
    in_memory = isinstance(plan.x, np.ndarray) and not isinstance(plan.x, np.memmap)
    return 0 if in_memory and plan.augmenter is None and plan.transform is None else WORKERS


@functools.cache
def _dataset_class():
    import keras

    # Several JAX processes (jax.distributed): each feeds its own rows of every global batch.
    _rows = lambda batch: batch  # noqa: E731
    if keras.backend.backend() == "jax":
        from studio.core.backends.jax import process_rows as _rows

    class PlanDataset(keras.utils.PyDataset):
        def __init__(self, plan, epoch, epochs, offset=0):
            super().__init__(workers=prefetch_workers(plan), use_multiprocessing=False, max_queue_size=8)
            self.plan, self.epoch, self.epochs, self.offset = plan, int(epoch), epochs, int(offset)

        @property
        def num_batches(self):
            return None if self.epochs is None else self.plan.steps * self.epochs - self.offset

        def skip(self, count):
            """The same stream without its first ``count`` batches (``tf.data.Dataset.skip``)."""
            return PlanDataset(self.plan, self.epoch, self.epochs, self.offset + int(count))

        def __getitem__(self, index):
            epoch, batch_index = divmod(int(index) + self.offset, self.plan.steps)
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
