"""What beta does to a VAE (beta-VAE, Higgins et al. 2017): per run, the held-out ELBO and KL, the active units
(latent dimensions whose encoder mean varies over the held-out images by more than 0.01, Burda et al. 2016), sample
quality, and which active dimension best controls each stroke property, with its Spearman rho, as `infogan eval`'s
code semantics measured it, and how many active dimensions each property is the main effect of (one per property
is the disentangled ideal; several means the property is spread over dimensions). Reads evaluated runs.

Prints one JSON line per run, or a Markdown table with --markdown. Usage:
    for b in 1 2 4 8; do infogan train --preset vae --steps 10000 --set model.beta=$b --run-dir runs/beta-$b; done
    python benchmarks/vae_beta.py runs/beta-* --markdown
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from infogan import data as datasets
from infogan.api import load_run
from infogan.errors import InfoganError
from infogan.evaluation.record import EvalRecord
from infogan.images import Images
from infogan.models.vae import VAE

PROPERTIES = ("slant", "width", "height", "thickness", "mass")


def active_dimensions(model: VAE, images: Images, batch_size: int = 1000) -> list[bool]:
    mu = torch.cat([model.represent(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
    return model.active_dimensions(mu.double().var(0, unbiased=False)).tolist()


def row(run: Path) -> dict[str, Any]:
    evaluation = EvalRecord.load(run / "eval.json")
    loaded = load_run(run)
    cfg, model = loaded.config, loaded.model
    if not isinstance(model, VAE):
        raise SystemExit(f"{run} is not a VAE run ({model.cfg.name})")
    active = active_dimensions(model, datasets.build(cfg.data, cfg.eval.split).images)
    semantics = evaluation.code_semantics
    live = {name: entry for i, (name, entry) in enumerate(semantics.items()) if active[i]}
    best = {}
    for prop in PROPERTIES:
        ranked = sorted(live.items(), key=lambda item: -abs(item[1].table.get(prop) or 0.0))
        if ranked:
            best[prop] = {"code": ranked[0][0], "rho": round(ranked[0][1].table[prop], 3)}
    held_out = evaluation.held_out_figures()
    return {
        "run": str(run),
        "beta": model.cfg.beta,
        "steps": evaluation.step,
        "elbo": round(held_out["elbo"], 2),
        "kl": round(held_out["kl"], 2),
        "active_units": sum(active),
        "fid": round(evaluation.fid, 1) if evaluation.fid is not None else None,
        "recall": evaluation.recall,
        "best_code": best,
        "main_effect_of": dict(Counter(entry.property for entry in live.values())),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| beta | updates | held-out ELBO | KL | active units | FID | recall | "
        + " | ".join(PROPERTIES)
        + " | active dimensions per main effect |\n"
        + "|---" * (8 + len(PROPERTIES))
        + "|"
    )
    body = []
    for r in sorted(rows, key=lambda r: r["beta"]):
        best = [
            f"{r['best_code'][p]['code']} {abs(r['best_code'][p]['rho']):.2f}" if p in r["best_code"] else "-"
            for p in PROPERTIES
        ]
        effects = ", ".join(f"{k} {v}" for k, v in sorted(r["main_effect_of"].items(), key=lambda kv: -kv[1]))
        fid = f"{r['fid']:.1f}" if r["fid"] is not None else "-"
        recall = f"{r['recall']:.3f}" if r["recall"] is not None else "-"
        body.append(
            f"| {r['beta']:g} | {r['steps']:,} | {r['elbo']:.1f} | {r['kl']:.1f} | {r['active_units']} | {fid} "
            f"| {recall} | " + " | ".join(best) + f" | {effects} |"
        )
    return "\n".join([head, *body])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = []
    for run in args.runs:
        if not (run / "eval.json").is_file():
            print(f"skipping {run}: no eval.json (evaluate it with infogan eval {run})", flush=True)
            continue
        try:
            rows.append(row(run))
        except InfoganError as exc:
            raise SystemExit(str(exc)) from None
        if not args.markdown:
            print(json.dumps(rows[-1]), flush=True)
    if args.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()
