"""A run on disk: its directory layout and resume rules (directory.py), the run loaded from it (loaded.py), what a
report reads of it (record.py), and the average of its checkpoints (averaging.py). This file imports nothing, so
that reading a run's record does not load the model code."""
