"""Bridges to the tools users already have: a shareable HTML run report, TensorBoard event files,
MLflow tracking and a desktop launcher. Each optional library is imported inside the function that
needs it, and its absence is one clear line (``IntegrationError``)."""
