"""The Export area: export a run in several formats, each verified."""
