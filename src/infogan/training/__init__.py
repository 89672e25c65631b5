"""Training: the generic loop and its callbacks, checkpoints, precision, the ranks of a data-parallel run, and the
metrics log. A run's directory layout is runs/'s; the loop writes into the folders it is given."""
