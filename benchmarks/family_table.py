"""One comparison table of trained runs: sample quality in the project's feature space, wall time, and each model's
own number (conditional accuracy, held-out ELBO, categorical accuracy and L_I, the critic's Wasserstein estimate),
updates done and training images per second. Reads each run's config.yaml, metrics.jsonl and eval.json; trains
nothing.

Prints one JSON line, or a Markdown table with --markdown. Usage:
    python benchmarks/family_table.py runs/mnist-sample-* [--markdown]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from infogan.config import config_differences, load_preset
from infogan.errors import ConfigError
from infogan.evaluation.record import EvalRecord, quality_figures
from infogan.files import read_log


def setup_label(config: dict[str, Any]) -> str:
    """The run's preset, with the model settings it changed from the preset's (e.g. `gan` adversarial=minimax):
    two runs of one preset that train different models get different rows."""
    try:
        preset = load_preset(config["preset"]).model_dump(mode="json")["model"]
    except ConfigError:  # a preset this version no longer has
        return f"`{config['preset']}`"
    changed = [f"{key}={here}" for key, _, here in config_differences(preset, config["model"])]
    return " ".join([f"`{config['preset']}`", *changed])


def row(run: Path) -> dict[str, Any]:
    config = yaml.safe_load((run / "config.yaml").read_text())
    evaluation = EvalRecord.load(run / "eval.json")
    lines = read_log(run / "metrics.jsonl")
    out: dict[str, Any] = {
        "run": run.name,
        "preset": config["preset"],
        "setup": setup_label(config),
        "model": config["model"]["name"],
        "dataset": evaluation.dataset,
        "steps": evaluation.step,
        "seed": config["train"]["seed"],
        "train_minutes": round(lines[-1]["elapsed_s"] / 60, 1) if lines else None,
        # real training images per second over the training time (each WGAN critic step takes a batch of its
        # own): each log window's rate weighted by the window's length
        "images_per_s": _images_per_s(lines),
    }
    if lines and "wasserstein" in lines[-1]:
        out["wasserstein"] = lines[-1]["wasserstein"]
    figures = quality_figures(evaluation)
    out.update({key: figures[key] for key in ("fid", "kid", "precision", "recall") if key in figures})
    if evaluation.conditional_accuracy is not None:
        out["conditional_accuracy"] = evaluation.conditional_accuracy
    held_out = evaluation.held_out_figures()
    if held_out:
        out["test_elbo"] = held_out["elbo"]
        if "active_units" in held_out:
            out["active_units"] = held_out["active_units"]
    for name, code in evaluation.codes.items():
        if code.accuracy is not None:
            out[f"{name}_accuracy"] = code.accuracy
        if code.type == "categorical":
            out[f"{name}_mi"] = code.mi_lower_bound
    return out


def _images_per_s(lines: list[dict[str, Any]]) -> float | None:
    if not lines:
        return None
    windows = [
        b["elapsed_s"] - a["elapsed_s"] for a, b in zip([{"elapsed_s": 0.0}, *lines], lines, strict=False)
    ]
    images = sum(w * x["images_per_s"] for w, x in zip(windows, lines, strict=True))
    return round(images / max(lines[-1]["elapsed_s"], 1e-9), 1)


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| setup | seed | updates | train min | img/s | FID | KID | precision | recall | model's own number |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    body = []
    for r in rows:
        own = []
        if "conditional_accuracy" in r:
            own.append(f"conditional accuracy {r['conditional_accuracy']:.3f}")
        if "test_elbo" in r:
            own.append(f"test ELBO {r['test_elbo']:.1f} nats")
        if "active_units" in r:
            own.append(f"{r['active_units']} active units")
        if "c1_accuracy" in r:
            own.append(f"c1 accuracy {r['c1_accuracy']:.3f}, L_I(c1) {r['c1_mi']:.3f}")
        if "wasserstein" in r:
            own.append(f"Wasserstein estimate {r['wasserstein']:.3f}")
        body.append(
            f"| {r['setup']} | {r['seed']} | {r['steps']:,} | {r['train_minutes']} | {r['images_per_s']:.0f} "
            f"| {r['fid']:.1f} | {r['kid']:.0f} | {r['precision']:.3f} "
            f"| {r['recall']:.3f} | {'; '.join(own)} |"
        )
    return "\n".join([head, *body])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = [row(run) for run in args.runs if (run / "eval.json").is_file()]
    print(markdown(rows) if args.markdown else json.dumps({"benchmark": "family_table", "rows": rows}))


if __name__ == "__main__":
    main()
