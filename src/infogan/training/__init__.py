"""Training: the generic loop, checkpoints, run directories and logs."""
