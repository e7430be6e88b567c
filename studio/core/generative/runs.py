"""What a run folder generates, told by the files training leaves in it (no event log is read)."""

from __future__ import annotations

import os
from pathlib import Path

from studio.core.generative.live import FIXED_FILE, SAMPLES_DIR
from studio.core.generative.text import VOCABULARY_FILE


def generates(run_dir: str | os.PathLike) -> str | None:
    """What the run at ``run_dir`` draws from its model.

    Args:
        run_dir: a run folder.

    Returns:
        ``"images"`` for a GAN, VAE or autoencoder run (it holds ``samples/fixed.npz``), ``"text"``
        for a language-model run (``vocabulary.json``), else None. Both files are written when
        training begins.
    """
    path = Path(run_dir)
    if (path / SAMPLES_DIR / FIXED_FILE).is_file():
        return "images"
    if (path / VOCABULARY_FILE).is_file():
        return "text"
    return None
