"""Export a trained model in several formats, each verified after writing."""
