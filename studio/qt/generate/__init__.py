"""The Generate area: samples, interpolation and latent views of generative runs."""
