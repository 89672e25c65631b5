"""Experiments that train and compare several runs (e.g. the paper's Fig. 1)."""
