"""The Experiments area: hyperparameter sweeps on Optuna (the run table lives in Train > Runs)."""
