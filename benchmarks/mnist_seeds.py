"""The seed table of one InfoGAN setup: each run's final figures, its categorical accuracy at every saved
checkpoint (when it first passes 0.95, in updates and in training time), the label-free pick, and how often such a
pick lands on the best run. Reads run directories; trains nothing (train them with `infogan sweep`).

Prints one JSON line per run, then one summary line. Usage:
    python benchmarks/mnist_seeds.py runs/mnist-sweep [more run or sweep directories ...] [--target 0.95]

A sweep directory (one holding seed-*/) stands for its runs. Labels only score: the pick uses none.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from infogan import data as datasets
from infogan.api import load_run
from infogan.config import load_config_file
from infogan.experiments.sweep import agreement_matrix, categorical_assignments, medoid, selection_images
from infogan.files import read_log
from infogan.machine import cpu_name
from infogan.metrics.cluster_accuracy import categorical_predictions, cluster_accuracy
from infogan.reporting.compare import aggregate, run_row
from infogan.training.checkpoint import checkpoints_by_step


def run_dirs(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        seeds = sorted(
            path.glob("seed-*/config.yaml"), key=lambda p: int(p.parent.name.removeprefix("seed-"))
        )
        out += [p.parent for p in seeds] if seeds else [path]
    return out


def accuracy_curve(run: Path, code: str = "c1") -> list[tuple[int, float]]:
    """(step, Hungarian-matched accuracy of `code` on the held-out split) at every training checkpoint kept."""
    cfg = load_config_file(run / "config.yaml")
    held_out = datasets.build(cfg.data, cfg.eval.split)
    assert held_out.labels is not None, "accuracy needs a labelled dataset"
    curve = []
    for step, folder in sorted(checkpoints_by_step(run / "checkpoints").items()):
        model = load_run(folder).model
        assert model.encodes_images, f"{run} is a {type(model).__name__}; the curve reads the codes of images"
        pred = categorical_predictions(model.infer_codes, held_out.images, code)
        k = model.latent.code(code).k
        curve.append((step, cluster_accuracy(pred, held_out.labels, k).accuracy))
    return curve


def elapsed_at(run: Path, step: int) -> float | None:
    """Training seconds (summed over resumes) logged at `step`."""
    for row in read_log(run / "metrics.jsonl"):
        if row["step"] == step:
            return float(row["elapsed_s"])
    return None


def pick_quality(accuracy: list[float], agreement: np.ndarray, size: int) -> dict[str, float]:
    """Over every subset of `size` runs: how often the medoid pick is the best run or within 0.01 of it, and its
    accuracy against the subset's mean."""
    hits, picked, means = [], [], []
    for subset in itertools.combinations(range(len(accuracy)), size):
        best, _ = medoid(agreement[np.ix_(subset, subset)])
        acc = [accuracy[i] for i in subset]
        hits.append(acc[best] >= max(acc) - 0.01)
        picked.append(acc[best])
        means.append(statistics.fmean(acc))
    return {
        "subsets": len(hits),
        "within_0.01_of_best": statistics.fmean(hits),
        "pick_accuracy_mean": statistics.fmean(picked),
        "subset_accuracy_mean": statistics.fmean(means),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--target", type=float, default=0.95)
    args = parser.parse_args()
    runs = []
    for run in run_dirs(args.paths):
        if (run / "eval.json").is_file():
            runs.append(run)
        else:
            print(f"skipped {run}: no eval.json (unfinished, or trained with --no-eval)", file=sys.stderr)
    if not runs:
        raise SystemExit("no evaluated runs")
    rows: list[dict[str, Any]] = []
    for run in runs:
        row: dict[str, Any] = {"benchmark": "mnist_seeds", **run_row(run), "run": str(run)}
        curve = accuracy_curve(run)
        row["curve"] = curve
        first = next((step for step, acc in curve if acc >= args.target), None)
        row["first_at_target"] = (
            None if first is None else {"step": first, "elapsed_s": elapsed_at(run, first)}
        )
        rows.append(row)
    images = selection_images(runs[0])
    agreement = agreement_matrix([categorical_assignments(run, images) for run in runs])
    pick, means = medoid(agreement)
    for row, score in zip(rows, means, strict=True):
        row["agreement"] = score
        print(json.dumps(row))
    accuracy = [r["accuracy"]["c1"] for r in rows]
    summary: dict[str, Any] = {
        "benchmark": "mnist_seeds",
        "runs": len(rows),
        "cpu": cpu_name(),
        "summary": aggregate(rows),
        "pick": {"run": rows[pick]["run"], "accuracy": accuracy[pick], "best": max(accuracy)},
        "targets": {
            f"every_run_at_least_{args.target}": min(accuracy) >= args.target,
            "median_at_least_0.97": statistics.median(accuracy) >= 0.97,
            "slant_and_width_0.8_runs": sum(
                1
                for r in rows
                if min(r.get("slant", {}).get("rho", 0), r.get("width", {}).get("rho", 0)) >= 0.8
            ),
        },
    }
    if len(rows) >= 3:
        summary["selection"] = {
            size: pick_quality(accuracy, agreement, size) for size in range(3, len(rows) + 1)
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
