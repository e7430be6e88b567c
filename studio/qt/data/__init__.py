"""The Data area: dataset source form, samples, class balance and splits."""
