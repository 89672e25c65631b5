"""The MI experiment (paper Fig. 1): both arms train, the baseline's G never sees the information term, and the
figure and result.json are written."""

from __future__ import annotations

import json
import shutil

import torch

from infogan.config import load_preset
from infogan.experiments.mi_experiment import run_mi_experiment
from infogan.models import build_model
from infogan.runs.directory import RunDir

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


def test_info_to_trunk_false_trains_q_as_a_probe_that_leaves_ds_trunk_alone():
    # With D's own loss multiplied by zero, the trunk's gradient in D's step comes from Q's loss alone.
    grads = {}
    for to_trunk in (True, False):
        cfg = load_preset(
            "digits", [*TINY, "model.info_to_g=false", f"model.info_to_trunk={str(to_trunk).lower()}"]
        )
        torch.manual_seed(0)
        model = build_model(cfg.model, (1, 8, 8))
        model.seed(0)
        model.d_loss_fn = lambda d_real, d_fake: 0.0 * (d_real.sum() + d_fake.sum())
        model._critic_step(
            torch.rand(16, 1, 8, 8) * 2 - 1, torch.rand(16, 1, 8, 8) * 2 - 1, model.latent.sample(16)
        )
        grads[to_trunk] = [
            any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
            for net in (model.trunk, model.q_head)
        ]
    assert grads == {True: [True, True], False: [False, True]}


def test_mi_experiment_trains_every_arm_and_writes_the_figure_and_result(tmp_path):
    args = [a for item in TINY for a in ("--set", item)]
    result = invoke(
        "mi-experiment", "--preset", "digits", "--run-dir", str(tmp_path / "mi"), "--seed", "1", *args
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "mi" / "result.json").read_text())
    assert set(summary["arms"]) == {"infogan", "baseline", "probe"}
    assert abs(summary["entropy"]["c1"] - 2.302585) < 1e-5 and summary["steps"] == 6 and summary["seed"] == 1
    for arm in summary["arms"].values():
        assert set(arm["mi_lower_bound"]) == set(arm["mi_lower_bound_batch_stats"]) == {"c1", "c2", "c3"}
    assert (tmp_path / "mi" / "mi-experiment.png").stat().st_size > 1000
    assert all(f"{arm}: L_I c1" in result.stdout for arm in ("infogan", "baseline", "probe"))
    shutil.rmtree(tmp_path / "mi" / "baseline")  # an arm that was never started is started, and said so
    again = invoke(
        "mi-experiment",
        "--preset",
        "digits",
        "--run-dir",
        str(tmp_path / "mi"),
        "--seed",
        "1",
        *args,
        "--resume",
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("resuming") == 2
    assert f"arm 'baseline' -> {tmp_path / 'mi' / 'baseline'} (not started yet: starting it)" in again.stderr
    probe = tmp_path / "mi" / "probe" / "config.yaml"
    assert "info_to_trunk: false" in probe.read_text() and "info_to_g: false" in probe.read_text()


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


def test_a_stop_request_checkpoints_the_arm_in_training_and_resume_finishes(tmp_path):
    # what SIGINT or SIGTERM does to `infogan mi-experiment`: the arm in training stops with a checkpoint
    cfg = load_preset("digits", [*TINY, "train.steps=40", "train.checkpoint_every=1000"])
    asked = iter(range(10**6))
    stopped = run_mi_experiment(
        cfg, tmp_path / "mi", progress=lambda _: None, should_stop=lambda: next(asked) >= 5
    )
    assert stopped is None and not (tmp_path / "mi" / "baseline").exists()
    checkpoint = RunDir(tmp_path / "mi" / "infogan").latest_checkpoint()
    assert checkpoint is not None and 0 < int(checkpoint.name.removeprefix("step-")) < 40
    done = run_mi_experiment(cfg, tmp_path / "mi", resume=True, progress=lambda _: None)
    assert done is not None and set(done["arms"]) == {"infogan", "baseline", "probe"}
