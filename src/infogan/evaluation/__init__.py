"""Running an evaluation (docs/evaluation.md): the real data it compares with, the metric groups (one table row
each, evaluation/groups.py), their timing, the ranks of a data-parallel run, the baselines, and the typed eval.json
record (evaluation/record.py) that writes the result and that every reader uses.

The metrics themselves are pure functions in `infogan.metrics`; this package feeds them a model and data. This file
imports nothing, so that reading an eval.json does not load torch.
"""
