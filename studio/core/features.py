"""The features that add to a run, registered with the hook list (``studio.core.hooks``).

Called by each entry point: the ``studio`` command and the desktop app; every child process (a training
run, a lesson, a sweep) gets the registrations of the process that starts it (``studio.core.child``).
Training itself imports none of these.
"""

from __future__ import annotations

from studio.core import hooks

FEATURE_PLUGINS = (
    "studio.core.generative.run_hooks",   # GAN / VAE / autoencoder builder, language-model loss and samples
    "studio.core.transfer.run_hooks",     # contrastive builder, backbone and init_from weights, fine-tuning
    "studio.core.inspect.run_hooks",      # live decision boundary, live probes
    "studio.core.experiments.run_hooks",  # the run store: summary.json and curves.npz each epoch
    "studio.core.integrations.run_hooks",  # MLflow tracking (the mlflow setting)
    "studio.core.rl.settings",            # the project's rl section: DQN settings checked by their specs
)


def load_features() -> None:
    """Register the studio's features (once; calling again changes nothing)."""
    hooks.register(*FEATURE_PLUGINS)
