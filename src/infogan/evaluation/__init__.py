"""Running an evaluation (docs/evaluation.md): the real data it compares with, the metric groups (one table row
each, evaluation/groups.py), their timing, the ranks of a data-parallel run and the baselines.

The metrics themselves are pure functions in `infogan.metrics`; this package feeds them a model and data.
"""
