"""The Augment area: the augmentation chain and its live preview."""
