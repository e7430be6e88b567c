"""One process of the two-process JAX test (tests/core/test_jax_two_processes.py): the engine's
device set-up (``jax.distributed.initialize`` from ``JAX_COORDINATOR_ADDRESS`` and a DataParallel
mesh over every process's devices), a tiny model, a few steps; prints the per-epoch losses as JSON.
Run alone (no coordinator) it trains the same steps on the whole global batch."""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["JAX_PLATFORMS"] = "cpu"

import numpy as np  # noqa: E402

GLOBAL_BATCH, STEPS, EPOCHS = 16, 4, 3


def main() -> None:
    import keras

    from studio.core.backends.jax import process_rows
    from studio.core.backends.devices import parse_devices, setup_devices

    setup = setup_devices(parse_devices(os.environ.get("STUDIO_DEVICES", "cpu")))
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(GLOBAL_BATCH * STEPS, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) + 0.1).astype("float32")

    class Batches(keras.utils.PyDataset):
        num_batches = STEPS

        def __getitem__(self, index):
            rows = slice(index * GLOBAL_BATCH, (index + 1) * GLOBAL_BATCH)
            return process_rows(x[rows]), process_rows(y[rows])

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(Batches(), epochs=EPOCHS, shuffle=False, verbose=0)
    print(json.dumps({"losses": history.history["loss"], "replicas": setup.info["replicas"],
                      "local_rows": len(process_rows(x[:GLOBAL_BATCH])),
                      "strategy": setup.info["strategy"]}))


if __name__ == "__main__":
    sys.exit(main())
