"""The mutual-information experiment of InfoGAN (arXiv:1606.03657, Sec. 7, Fig. 1).

Three arms with the same data, networks, seed and budget: InfoGAN; the same GAN with an auxiliary Q that is
trained to recover c but whose information term does not reach G (lambda = 0 for G; Q's loss still trains the
trunk it shares with D); and the same GAN with Q trained as a probe on D's features only (lambda = 0 for D and G).
Q then measures how much information about c a plain GAN's generator happens to carry. The paper reports L_I
rising quickly to H(c) = ln 10 = 2.30 for InfoGAN and staying near zero for the GAN.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from infogan.config import RunConfig, apply_overrides
from infogan.errors import ConfigError
from infogan.evaluation.record import EvalRecord
from infogan.files import write_text_atomic
from infogan.progress import ProgressFn
from infogan.runs.directory import RunDir
from infogan.runs.train import train

ARMS = {
    "infogan": [],
    # the baselines are GANs with a Q: nothing else trains Q (no consistency term on real images)
    "baseline": ["model.info_to_g=false", "model.consistency.weight=0"],
    "probe": ["model.info_to_g=false", "model.info_to_trunk=false", "model.consistency.weight=0"],
}
LABELS = {
    "infogan": "InfoGAN",
    "baseline": "GAN, Q trains D's trunk (lambda = 0 for G)",
    "probe": "GAN, Q a probe on D's features (lambda = 0 for D and G)",
}


def run_mi_experiment(
    cfg: RunConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    progress: ProgressFn = print,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any] | None:
    """Train the arms into ``run_dir/infogan``, ``run_dir/baseline`` and ``run_dir/probe``, then write
    ``mi-experiment.png`` and ``result.json`` into `run_dir`. `should_stop` stops the arm in training at its next
    step, with a checkpoint, as it stops `train`.

    Returns:
        The result: per arm, the L_I of each code at the end of training (Monte-Carlo estimates on the eval
        config's sample count, with Q's batch norm in eval mode and with batch statistics as in training) and its
        last logged training value; H(c) per code; the setup. None when `should_stop` stopped an arm.
    """
    if cfg.model.name != "infogan":
        raise ConfigError(f"the MI experiment trains InfoGAN arms; preset {cfg.preset} is {cfg.model.name}")
    # The experiment needs L_I, not the other metric groups, at the end of each arm.
    cfg = apply_overrides(cfg, ["eval.metrics=[codes]"])
    result: dict[str, Any] = {"dataset": None, "steps": cfg.train.steps, "seed": cfg.train.seed, "arms": {}}
    for arm, overrides in ARMS.items():
        arm_dir = run_dir / arm
        resuming = resume and RunDir(arm_dir).config.is_file()
        unstarted = " (not started yet: starting it)" if resume and not resuming else ""
        progress(f"mi-experiment: arm '{arm}' -> {arm_dir}{unstarted}")
        run = train(
            apply_overrides(cfg, overrides),
            arm_dir,
            resume=resuming,
            progress=progress,
            should_stop=should_stop,
        )
        if should_stop() and not run.finished:
            progress(f"mi-experiment: stopped in arm '{arm}' at step {run.step}; --resume continues it")
            return None
        codes = EvalRecord.load(run.dir.eval).codes if run.dir.eval.is_file() else {}
        rows = run.dir.logged()
        result["dataset"] = run.config.data.name
        result["arms"][arm] = {
            "run_dir": str(arm_dir),
            # The end-of-run evaluation estimates L_I both ways (eval-mode batch norm and batch statistics).
            "mi_lower_bound": {k: v.mi_lower_bound for k, v in codes.items()},
            "mi_lower_bound_batch_stats": {k: v.mi_lower_bound_batch_stats for k, v in codes.items()},
            "last_logged": {c.name: rows[-1][f"mi_{c.name}"] for c in run.model.latent.codes} if rows else {},
            "curve": {c.name: [[r["step"], r[f"mi_{c.name}"]] for r in rows] for c in run.model.latent.codes},
        }
        # H(c) bounds L_I for categorical codes; a continuous code's differential entropy is no ceiling.
        result["entropy"] = {c.name: c.entropy for c in run.model.latent.codes if c.is_categorical}
        result["codes"] = [c.name for c in run.model.latent.codes]
    run_dir.mkdir(parents=True, exist_ok=True)
    mi_experiment_figure(result).savefig(run_dir / "mi-experiment.png", dpi=120)
    summary = {k: v for k, v in result.items() if k != "arms"}
    summary["arms"] = {arm: {k: v for k, v in a.items() if k != "curve"} for arm, a in result["arms"].items()}
    write_text_atomic(run_dir / "result.json", json.dumps(summary, indent=1))
    return summary


def mi_experiment_figure(result: dict[str, Any]) -> Figure:
    """L_I of each code over training for both arms, against the ceiling H(c) of categorical codes (paper
    Fig. 1)."""
    codes = result["codes"]
    fig = Figure(figsize=(5.5 * len(codes), 3.8), layout="constrained")
    for ax, code in zip(fig.subplots(1, len(codes), squeeze=False)[0], codes, strict=True):
        for arm, style in zip(ARMS, ("-", "--", ":"), strict=True):
            points = result["arms"][arm]["curve"][code]
            ax.plot([p[0] for p in points], [p[1] for p in points], style, label=LABELS[arm])
        if code in result["entropy"]:
            ceiling = result["entropy"][code]
            ax.axhline(ceiling, color="grey", linestyle="-.", label=f"H({code}) = {ceiling:.2f}")
        ax.set_xlabel("step")
        ax.set_ylabel(f"L_I({code}) [nats]")
        ax.set_title(f"{code}: lower bound on I(c; G(z, c)), {result['dataset']}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="center right")
    return fig
