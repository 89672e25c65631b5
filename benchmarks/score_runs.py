"""Score trained runs for a results table: one JSON line per run with the command that trains it, the commits that
trained and scored it, the machine, and its figures on each split. Trains nothing.

Per run: the whole evaluation on the validation split (`infogan eval RUN --split val`: accuracy and generation
fidelity per categorical code, L_I per code, FID, KID, precision, recall, what each continuous code controls), the
codes on the test digits and on all of them (`--split test|all --metrics codes`: the sample-based figures do not
depend on the split) and c1's validation accuracy at every saved checkpoint. A run without codes (the conditional
GAN) gets the validation split's sample figures only, its conditional accuracy among them. With --agreement,
instead, each run's label-free agreement with the others given (`infogan sweep`'s pick: mean adjusted mutual information of the runs'
categories of 10,000 real training images), one line per run; with --stability, the adjusted mutual information of
each run's categories of those images between consecutive checkpoints. Usage:

    python benchmarks/score_runs.py --table mnist-ablation --arm mnist --train-commit a146910 \\
        runs/mnist/seed-100 runs/mnist/seed-101 >> docs/results/mnist-ablation.jsonl
    python benchmarks/score_runs.py --agreement --table mnist-fresh-seeds runs/mnist/seed-* \\
        >> docs/results/mnist-fresh-seeds-agreement.jsonl
    python benchmarks/score_runs.py --stability --table mnist-stability runs/mnist/seed-* \\
        >> docs/results/mnist-stability.jsonl
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from infogan.api import load_run
from infogan.config import RunConfig, config_differences, load_config_file, load_preset
from infogan.evaluation.record import EvalRecord, quality_figures
from infogan.experiments.sweep import agreement_matrix, categorical_assignments, medoid, selection_images
from infogan.machine import cpu_name
from infogan.reporting.compare import slant_and_width
from infogan.runs.directory import RunDir
from infogan.training.checkpoint import checkpoints_by_step

# Keys a run fills in itself or that only say where and how often it wrote: not part of its command.
_RESOLVED = {"preset", "train.seed", "data.root", "data.channels", "data.image_size", "train.world_size"}


def train_command(cfg: RunConfig) -> str:
    """The `infogan train` command line that trains a run of this config (its --set options: every key where
    the config differs from its preset, but for the eval section: it says how a run is scored, and these scripts
    score with their own settings)."""
    parts = ["infogan train"]
    if cfg.preset != "mnist":
        parts.append(f"--preset {cfg.preset}")
    if cfg.data.root:
        parts.append(f"--data-root {cfg.data.root}")
    parts.append(f"--seed {cfg.train.seed}")
    preset = load_preset(cfg.preset).model_dump(mode="json")
    for key, _, value in config_differences(preset, cfg.model_dump(mode="json")):
        if key not in _RESOLVED and not key.startswith("eval."):
            text = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
            parts.append(f"--set {shlex.quote(f'{key}={text}')}")
    return " ".join(parts)


def code_figures(evaluation: EvalRecord) -> dict[str, Any]:
    """Per code: accuracy, generation fidelity (and per category), L_I, usage entropy; c1's confusion matrix."""
    codes = evaluation.codes
    per_code: dict[str, dict[str, Any]] = {
        "accuracy": {name: c.accuracy for name, c in codes.items()},
        "fidelity": {name: c.fidelity for name, c in codes.items()},
        "fidelity_per_category": {name: c.fidelity_per_category for name, c in codes.items()},
        "mi_lower_bound": {name: c.mi_lower_bound for name, c in codes.items()},
        "usage_entropy": {name: c.usage_entropy for name, c in codes.items()},
        "mapping": {name: c.mapping for name, c in codes.items()},
        "confusion": {name: c.confusion for name, c in codes.items()},
    }
    out: dict[str, Any] = {"n_eval": evaluation.n_eval}
    for key, values in per_code.items():
        measured = {name: value for name, value in values.items() if value is not None}
        if measured:
            out[key] = measured
    return out


def sample_figures(evaluation: EvalRecord) -> dict[str, Any]:
    """FID, KID, precision, recall, a conditional model's accuracy on the labels asked for, and what each
    continuous code controls (best |rho| of slant and width)."""
    figures = quality_figures(evaluation)
    out: dict[str, Any] = {k: figures[k] for k in ("fid", "kid", "precision", "recall") if k in figures}
    if evaluation.conditional_accuracy is not None:
        out["conditional_accuracy"] = evaluation.conditional_accuracy
    semantics = evaluation.code_semantics
    if semantics:
        out["controls"] = {name: [e.property, e.spearman] for name, e in semantics.items()}
        out.update(slant_and_width({name: e.table for name, e in semantics.items()}))
    return out


def evaluate(run: Path, split: str, metrics: list[str], data_root: str | None) -> EvalRecord:
    loaded = load_run(run)
    loaded.config.eval = loaded.config.eval.model_copy(update={"split": split, "metrics": metrics})
    return EvalRecord.model_validate(loaded.evaluate(data_root=data_root))


def validation_curve(run: Path, data_root: str | None) -> list[list[float | None]]:
    """[step, c1's validation accuracy, c1's generation fidelity] at every saved training checkpoint."""
    curve = []
    for step, folder in sorted(checkpoints_by_step(RunDir(run).checkpoints).items()):
        loaded = load_run(folder)
        # the curve reads accuracy and fidelity; L_I is the final evaluation's
        update = {"split": "val", "metrics": ["codes"], "mi_samples": 500}
        loaded.config.eval = loaded.config.eval.model_copy(update=update)
        c1 = EvalRecord.model_validate(loaded.evaluate(data_root=data_root)).codes["c1"]
        curve.append([step, c1.accuracy, c1.fidelity])
    return curve


def score(run: Path, data_root: str | None) -> dict[str, Any]:
    files = RunDir(run)
    cfg = load_config_file(files.config)
    log = files.logged()
    val = evaluate(run, "val", ["codes", "quality", "semantics"], data_root)
    row: dict[str, Any] = {
        "run": str(run),
        "seed": cfg.train.seed,
        "preset": cfg.preset,
        "command": train_command(cfg),
        "threads": cfg.train.threads,
        "step": val.step,
        "train_minutes": round(log[-1]["elapsed_s"] / 60, 1) if log else None,
        "samples": sample_figures(val),
    }
    if not val.codes:  # a model without codes (the conditional GAN): its figures are its samples'
        return row
    test = evaluate(run, "test", ["codes"], data_root)
    both = evaluate(run, "all", ["codes"], data_root)
    return {
        **row,
        "val": code_figures(val),
        "test": code_figures(test),
        "all": code_figures(both),
        "curve_val": validation_curve(run, data_root),
    }


def head_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def stability(run: Path) -> dict[str, Any]:
    """How far Q's categories of 10,000 real training images move between consecutive saved checkpoints: per
    checkpoint after the first, [step, adjusted mutual information with the checkpoint before it]. A label-free
    reading of when training has settled."""
    images = selection_images(run)
    steps = sorted(checkpoints_by_step(RunDir(run).checkpoints).items())
    assignments = [categorical_assignments(folder, images) for _, folder in steps]
    curve = [
        [step, float(agreement_matrix([before, after])[0, 1])]
        for (step, _), before, after in zip(steps[1:], assignments, assignments[1:], strict=False)
    ]
    return {"run": str(run), "stability": curve}


def agreement(runs: list[Path]) -> list[dict[str, Any]]:
    """Each run's mean agreement with the others and whether `infogan sweep` would pick it."""
    images = selection_images(runs[0])
    pick, values = medoid(agreement_matrix([categorical_assignments(r, images) for r in runs]))
    return [{"run": str(r), "agreement": values[i], "picked": i == pick} for i, r in enumerate(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--table", required=True, help="the results table the lines belong to")
    parser.add_argument("--arm", help="the setup the runs are seeds of")
    parser.add_argument("--train-commit", help="the commit whose code trained the runs")
    parser.add_argument(
        "--data-root", default=None, help="where the dataset's files are [default: the runs']"
    )
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="print the runs' label-free agreement instead of scoring them",
    )
    parser.add_argument(
        "--stability",
        action="store_true",
        help="print how far each run's categories move between its checkpoints instead of scoring it",
    )
    args = parser.parse_args()
    context = {"table": args.table, "score_commit": head_commit(), "cpu": cpu_name()}
    if args.stability:
        for run in args.runs:
            print(json.dumps({**context, **stability(run)}), flush=True)
        return
    if args.agreement:
        if len(args.runs) < 2:
            parser.error("--agreement needs two runs or more")
        for row in agreement(args.runs):
            print(json.dumps({**context, **row}))
        return
    if not args.arm or not args.train_commit:
        parser.error("scoring needs --arm and --train-commit")
    context.update(arm=args.arm, train_commit=args.train_commit)
    for run in args.runs:
        print(f"scoring {run}", file=sys.stderr)
        print(json.dumps({**context, **score(run, args.data_root)}), flush=True)


if __name__ == "__main__":
    main()
