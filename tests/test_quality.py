"""Quality runs on real data (slow: select with -m slow)."""

import json

import pytest

from infogan.api import train
from infogan.config import load_preset


@pytest.mark.slow
def test_mnist_sample_categorical_code_learns_digit_classes(tmp_path):
    # 800 updates of the paper's MNIST setup on the 4,000 training digits (about 8 minutes on one CPU thread).
    # Chance is 0.10; by this point the categorical code has typically organised most digit classes.
    cfg = load_preset(
        "mnist",
        [
            "data.name=mnist-sample",
            "data.fallback=null",
            "data.download=false",
            "train.steps=800",
            "train.checkpoint_every=800",
            "train.sample_every=800",
            "train.log_every=100",
        ],
    )
    train(cfg, tmp_path / "run", progress=print)
    metrics = json.loads((tmp_path / "run" / "eval.json").read_text())
    c1 = metrics["codes"]["c1"]
    assert metrics["n_eval"] == 1000
    assert c1["accuracy"] > 0.6, c1
    assert c1["mi_lower_bound"] > 2.0, c1
