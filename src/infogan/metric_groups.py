"""The metric groups `infogan eval` computes, by name, in the order they run. Each name has one row in
evaluation/groups.py's METRIC_GROUPS, which says what it computes and when it applies (a test checks the two agree).
The names live in a module of their own because the config validates `eval.metrics`, which sits below evaluation/,
and the CLI lists them in `infogan eval --help` without importing the config models."""

from typing import Literal, get_args

MetricGroup = Literal["codes", "quality", "semantics", "disentanglement"]
METRIC_GROUP_NAMES: tuple[MetricGroup, ...] = get_args(MetricGroup)
