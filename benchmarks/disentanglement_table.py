"""Train and score a set of runs (presets x seeds) on data with known factors, and print the disentanglement table:
FactorVAE, DCI, SAP (both forms) and MIG per run, their mean and std over seeds per preset, and the run each
preset's ModelCentrality picks without labels or factors (`infogan select`).

Each (preset, seed) is an ordinary run `OUT/<preset>-s<seed>` trained by `infogan train --resume auto --no-eval`
(so running the script again continues what was cut off and skips what is done), then scored by `infogan eval
--metrics disentanglement` into `disentanglement.json` in the run. With `--trend`, every saved checkpoint is scored
too, one JSON line each: how the scores move with training when the budget stops short of the literature's.

Prints one JSON line per run (and per checkpoint with `--trend`), then one per preset with the summary and the
pick; `--markdown` prints the table instead of the run lines.
Usage:
    python benchmarks/disentanglement_table.py --presets dsprites dsprites-cr --seeds 0 1 2 --out runs/disent
    python benchmarks/disentanglement_table.py --presets dsprites --seeds 0 1 2 --steps 2000 --trend --markdown

`--steps` shortens (or lengthens) every run and keeps the preset's schedule at the same fraction of it:
InfoGAN-CR's regulariser still starts at nine tenths.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from infogan.config import load_preset

METRICS = ("factorvae", "dci_disentanglement", "sap", "sap_correlation", "mig")


def infogan(*args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line; its progress goes to `log` when given."""
    with open(log, "a") if log else open(os.devnull, "w") as err:
        return subprocess.run(
            [sys.executable, "-m", "infogan", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            check=False,
        )


def train(run: Path, preset: str, seed: int, args: argparse.Namespace) -> None:
    command = ["train", "--preset", preset, "--seed", str(seed), "--run-dir", str(run), "--resume", "auto"]
    command += ["--no-eval", "--set", f"train.threads={args.threads}", "--set", "train.keep_last=1000"]
    if args.steps:
        command += ["--steps", str(args.steps), *scaled_schedule(preset, args.steps)]
    if args.data_root:
        command += ["--data-root", args.data_root]
    for item in args.set:
        command += ["--set", item]
    done = infogan(*command, log=run.with_suffix(".log"))
    if done.returncode != 0:
        sys.exit(f"error: training {run} failed (exit {done.returncode}); see {run.with_suffix('.log')}")


def scaled_schedule(preset: str, steps: int) -> list[str]:
    """`--set` overrides that keep a preset's schedule at the same fraction of a shortened (or longer) run: the
    update at which InfoGAN-CR's regulariser starts."""
    cfg = load_preset(preset)
    start = getattr(cfg.model, "cr_start", None)
    return ["--set", f"model.cr_start={start * steps // cfg.train.steps}"] if start else []


def scores(target: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The disentanglement scores of a run or checkpoint, computed once into `out`."""
    if not out.is_file():
        command = ["eval", str(target), "--metrics", "disentanglement", "--json", "-o", str(out)]
        if args.data_root:
            command += ["--data-root", args.data_root]
        done = infogan(*command, log=out.with_suffix(".log"))
        if done.returncode != 0:
            sys.exit(
                f"error: scoring {target} failed (exit {done.returncode}); see {out.with_suffix('.log')}"
            )
    result = json.loads(out.read_text())
    return {"step": result["step"], **{m: result["disentanglement"][m] for m in METRICS}}


def checkpoints(run: Path) -> list[Path]:
    folders = [p for p in (run / "checkpoints").glob("step-*") if p.is_dir()]
    return sorted(folders, key=lambda p: int(p.name.split("-")[1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["dsprites", "dsprites-cr"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("runs/disent"))
    parser.add_argument("--steps", type=int, help="updates per run (default: the preset's)")
    parser.add_argument("--data-root", help="where dSprites' own npz is, if you have it")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], help="an extra override for every run")
    parser.add_argument("--trend", action="store_true", help="also score every saved checkpoint")
    parser.add_argument("--markdown", action="store_true", help="print a table instead of JSON lines")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    table: dict[str, list[dict[str, Any]]] = {}
    for preset in args.presets:
        for seed in args.seeds:
            run = args.out / f"{preset}-s{seed}"
            train(run, preset, seed, args)  # continues a cut-off run; a finished one only reports
            row = {
                "preset": preset,
                "seed": seed,
                "run": str(run),
                **scores(run, run / "disentanglement.json", args),
            }
            table.setdefault(preset, []).append(row)
            if not args.markdown:
                print(json.dumps(row), flush=True)
            if args.trend:
                for folder in checkpoints(run):
                    last = folder.name == f"step-{row['step']}"  # the run's own scores, already computed
                    point = (
                        {k: row[k] for k in ("step", *METRICS)}
                        if last
                        else scores(folder, run / f"disentanglement-{folder.name}.json", args)
                    )
                    print(
                        json.dumps({"preset": preset, "seed": seed, "checkpoint": folder.name, **point}),
                        flush=True,
                    )
    summaries = [_summary(preset, rows) for preset, rows in table.items()]
    if args.markdown:
        print("| preset | seeds | updates | " + " | ".join(METRICS) + " | ModelCentrality pick |")
        print("|---|---|---|" + "---|" * len(METRICS) + "---|")
        for summary in summaries:
            cells = [f"{summary[m]['mean']:.3f} ({summary[m]['std']:.3f})" for m in METRICS]
            pick = summary["pick"]
            picked = ", ".join(f"{m} {pick[m]:.3f}" for m in METRICS) if pick else "-"
            updates = ", ".join(sorted({str(r["step"]) for r in table[summary["preset"]]}))
            print(
                f"| {summary['preset']} | {summary['seeds']} | {updates} | "
                + " | ".join(cells)
                + f" | {picked} |"
            )
    for summary in summaries:
        print(json.dumps(summary), flush=True)


def _summary(preset: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"preset": preset, "seeds": len(rows)}
    for metric in METRICS:
        values = [r[metric] for r in rows]
        out[metric] = {
            "mean": round(statistics.fmean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        }
    out["pick"] = None
    if len(rows) > 1:
        done = infogan("select", *(r["run"] for r in rows), "--json")
        if done.returncode == 0:
            pick = rows[json.loads(done.stdout)["pick"]]
            out["pick"] = {"seed": pick["seed"], **{m: pick[m] for m in METRICS}}
    return out


if __name__ == "__main__":
    main()
