"""Sample quality at each saved checkpoint of a run, beside what the run logged at that step: the WGAN paper's
"meaningful loss" (the critic's Wasserstein estimate falls as the samples improve), or any logged value against
FID. Evaluates checkpoints; trains nothing.

Prints one JSON line per checkpoint (step, training minutes, FID, KID, precision, recall and the logged values
asked for), then a summary line with the Spearman correlation of each logged value with FID across checkpoints.
With --plot, also draws each logged value over training and FID at the checkpoints. Usage:
    python benchmarks/checkpoint_quality.py runs/wgan-s0 --keys wasserstein [--fid-samples 5000] [--plot fig.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from infogan.api import load_run
from infogan.evaluation.record import EvalRecord, quality_figures
from infogan.files import read_log
from infogan.training.checkpoint import checkpoints_by_step


def at_step(rows: list[dict[str, Any]], step: int) -> dict[str, Any]:
    """The log row of `step`, or of the last log step before it."""
    before = [r for r in rows if r["step"] <= step]
    return before[-1] if before else {}


def evaluate(checkpoint: Path, fid_samples: int) -> dict[str, float]:
    run = load_run(checkpoint)
    run.config = run.config.model_copy(
        update={
            "eval": run.config.eval.model_copy(update={"metrics": ["quality"], "fid_samples": fid_samples})
        }
    )
    result = EvalRecord.model_validate(run.evaluate())
    figures = quality_figures(result)
    if "fid" not in figures:
        raise SystemExit(f"{checkpoint}: no sample quality ({'; '.join(result.notes)})")
    return {key: figures[key] for key in ("fid", "kid", "precision", "recall")}


def plot(
    run: Path, rows: list[dict[str, Any]], points: list[dict[str, Any]], keys: list[str], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(len(keys) + 1, 1, figsize=(6, 2.2 * (len(keys) + 1)), sharex=True, squeeze=False)
    axes = grid[:, 0]
    for ax, key in zip(axes, keys, strict=False):
        ax.plot([r["step"] for r in rows if key in r], [r[key] for r in rows if key in r], lw=1)
        ax.set_ylabel(key)
    axes[-1].plot([p["step"] for p in points], [p["fid"] for p in points], "o-")
    axes[-1].set_ylabel("FID")
    axes[-1].set_yscale("log")
    axes[-1].set_xlabel("update")
    axes[0].set_title(run.name)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("--keys", default="", help="Comma-separated logged values, e.g. wasserstein,d_fake.")
    parser.add_argument(
        "--every", type=int, default=1, help="Evaluate every N-th checkpoint (the last always)."
    )
    parser.add_argument("--fid-samples", type=int, default=5000)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    keys = [k for k in args.keys.split(",") if k]
    rows = read_log(args.run / "metrics.jsonl")
    checkpoints = sorted(checkpoints_by_step(args.run / "checkpoints").items())
    chosen = checkpoints[:: args.every]
    if checkpoints and chosen[-1] != checkpoints[-1]:
        chosen.append(checkpoints[-1])
    points = []
    for step, folder in chosen:
        row = at_step(rows, step)
        point = {
            "step": step,
            "train_minutes": round(row.get("elapsed_s", 0.0) / 60, 2),
            **evaluate(folder, args.fid_samples),
            **{key: row.get(key) for key in keys},
        }
        points.append(point)
        print(json.dumps(point), flush=True)
    summary: dict[str, Any] = {
        "benchmark": "checkpoint_quality",
        "run": str(args.run),
        "checkpoints": len(points),
    }
    for key in keys:
        pairs = [(p[key], p["fid"]) for p in points if p[key] is not None]
        if len(pairs) >= 3:
            summary[f"spearman_{key}_fid"] = round(float(spearmanr(*zip(*pairs, strict=True)).statistic), 3)
    print(json.dumps(summary))
    if args.plot:
        plot(args.run, rows, points, keys, args.plot)


if __name__ == "__main__":
    main()
