"""The MI experiment (paper Fig. 1): both arms train, the baseline's G never sees the information term, and the
figure and result.json are written."""

from __future__ import annotations

import json

import torch

from infogan.config import load_preset
from infogan.models import build_model

from .conftest import TINY, invoke


def test_info_to_g_false_keeps_the_information_term_out_of_gs_update():
    # With the adversarial term of G's loss multiplied by zero, G's gradient comes from the information term
    # alone: it is non-zero in the InfoGAN arm and exactly zero in the baseline arm.
    reached = {}
    for info_to_g in (True, False):
        cfg = load_preset("digits", [*TINY, f"model.info_to_g={str(info_to_g).lower()}"])
        torch.manual_seed(0)
        model = build_model(cfg.model, (1, 8, 8))
        model.seed(0)
        model.g_loss_fn = lambda d_fake: 0.0 * d_fake.sum()
        model.train_step({"x": torch.rand(16, 1, 8, 8) * 2 - 1}, 0)
        reached[info_to_g] = any(p.grad.abs().sum() > 0 for p in model.G.parameters() if p.grad is not None)
    assert reached == {True: True, False: False}


def test_mi_experiment_trains_both_arms_and_writes_the_figure_and_result(tmp_path):
    args = [a for item in TINY for a in ("--set", item)]
    result = invoke(
        "mi-experiment", "--preset", "digits", "--run-dir", str(tmp_path / "mi"), "--seed", "1", *args
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "mi" / "result.json").read_text())
    assert set(summary["arms"]) == {"infogan", "baseline"}
    assert abs(summary["entropy"]["c1"] - 2.302585) < 1e-5 and summary["steps"] == 6 and summary["seed"] == 1
    for arm in summary["arms"].values():
        assert set(arm["mi_lower_bound"]) == set(arm["mi_lower_bound_batch_stats"]) == {"c1", "c2", "c3"}
    assert (tmp_path / "mi" / "mi-experiment.png").stat().st_size > 1000
    assert "infogan: L_I c1" in result.stdout and "baseline: L_I c1" in result.stdout


def test_batch_statistics_estimate_leaves_the_running_statistics_untouched():
    from infogan.metrics.mutual_info import mi_lower_bounds

    cfg = load_preset("digits", TINY)
    torch.manual_seed(0)
    model = build_model(cfg.model, (1, 8, 8)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with_batch = mi_lower_bounds(
        model, 64, batch_size=32, generator=torch.Generator().manual_seed(0), batch_stats=True
    )
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.trunk.training and set(with_batch) == {"c1", "c2", "c3"}
