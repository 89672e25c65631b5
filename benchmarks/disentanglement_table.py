"""Train and score a set of runs (presets x seeds) on data with known factors, and print the disentanglement table:
FactorVAE, DCI, SAP (both forms) and MIG per run, their mean and std over seeds per preset, and the run each
preset's ModelCentrality picks without labels or factors (`infogan select`).

Each (preset, seed) is an ordinary run `OUT/<preset>-s<seed>` trained by `infogan train --resume auto --no-eval`
(so running the script again continues what was cut off and skips what is done), then scored by `infogan eval
--metrics disentanglement` into `disentanglement.json` in the run (again when the run has since trained on, e.g.
to a larger --steps). With `--trend`, every saved checkpoint (or those at multiples of `--trend-every`, and the
last) is scored too, one JSON line each: how the scores move with training when the budget stops short of the
literature's.

Prints one JSON line per run (and per checkpoint with `--trend`), then one per preset with the summary and the
pick (kept in `OUT/select-<preset>.json` for the same runs at the same steps); `--markdown` prints the table instead
of the run lines.
Usage:
    python benchmarks/disentanglement_table.py --presets dsprites dsprites-cr --seeds 0 1 2 --out runs/disent
    python benchmarks/disentanglement_table.py --presets dsprites --seeds 0 1 2 --steps 2000 --trend --markdown

`--steps` shortens (or lengthens) every run and keeps the preset's schedule at the same fraction of it:
InfoGAN-CR's regulariser still starts at nine tenths.

`--branch dsprites-cr=dsprites` starts each seed's `dsprites-cr` run from the `dsprites` run of the same seed (listed
earlier in --presets), at its newest checkpoint at or before the regulariser's start (`infogan train
--branch-from`): until then the two runs are the same run, update for update, so the result is the run trained from
step 0, without training that part twice. With `--trend`, such a run's checkpoints before the branch are its
parent's and are listed with the parent's scores.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from infogan.config import load_preset
from infogan.data.dsprites import DSpritesSource
from infogan.evaluation.record import Disentanglement, EvalRecord
from infogan.machine import cpu_name
from infogan.training.checkpoint import checkpoints_by_step
from score_runs import head_commit  # beside this script

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


def train_command(
    run: Path, preset: str, seed: int, args: argparse.Namespace, start: Path | None
) -> list[str]:
    """The `infogan train` arguments that train (or continue) one run of the table."""
    command = ["train", "--preset", preset, "--seed", str(seed), "--run-dir", str(run), "--resume", "auto"]
    command += ["--no-eval", "--set", f"train.threads={args.threads}", "--set", "train.keep_last=1000"]
    if args.steps:
        command += ["--steps", str(args.steps), *scaled_schedule(preset, args.steps)]
    if start is not None:
        command += ["--branch-from", str(start)]
    if args.data_root:
        command += ["--data-root", args.data_root]
    for item in args.set:
        command += ["--set", item]
    return command


def train(run: Path, preset: str, seed: int, args: argparse.Namespace, start: Path | None = None) -> None:
    saved = checkpoints_by_step(run / "checkpoints")
    if saved and max(saved) >= (args.steps or load_preset(preset).train.steps):
        return  # trained to its budget: nothing to continue
    command = train_command(run, preset, seed, args, start)
    done = infogan(*command, log=run.with_suffix(".log"))
    if done.returncode != 0:
        sys.exit(f"error: training {run} failed (exit {done.returncode}); see {run.with_suffix('.log')}")


def cr_start(preset: str, steps: int | None) -> int | None:
    """The update at which a preset's InfoGAN-CR regulariser starts, kept at the same fraction of a shortened (or
    longer) run; None for a preset without one."""
    cfg = load_preset(preset)
    start = getattr(cfg.model, "cr_start", None)
    return start * steps // cfg.train.steps if start is not None and steps else start


def scaled_schedule(preset: str, steps: int) -> list[str]:
    """`--set` overrides that keep a preset's schedule at the same fraction of a shortened (or longer) run."""
    start = cr_start(preset, steps)
    return ["--set", f"model.cr_start={start}"] if start is not None else []


def checkpoint_before(parent: Path, before: int) -> tuple[int, Path]:
    """The newest complete checkpoint of `parent` at or before update `before`, with its step."""
    found = [(step, path) for step, path in checkpoints(parent).items() if step <= before]
    if not found:
        sys.exit(f"error: {parent} has no checkpoint at or before update {before} to branch from")
    return found[-1]


def scores(target: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The disentanglement scores of a run or checkpoint, computed once into `out`, and again when a run has been
    trained on since (`out` then holds an earlier step's scores)."""
    newest = max(checkpoints_by_step(target / "checkpoints"), default=None)
    result = EvalRecord.load(out) if out.is_file() else None
    if result is None or (newest is not None and result.step != newest):
        command = ["eval", str(target), "--metrics", "disentanglement", "--json", "-o", str(out)]
        if args.data_root:
            command += ["--data-root", args.data_root]
        done = infogan(*command, log=out.with_suffix(".log"))
        if done.returncode != 0:
            sys.exit(
                f"error: scoring {target} failed (exit {done.returncode}); see {out.with_suffix('.log')}"
            )
        result = EvalRecord.load(out)
    found = result.disentanglement or Disentanglement()
    scores = found.scores()
    protocol = {  # how the scores were computed: FactorVAE's votes and standard error, DCI's predictor
        "factorvae_se": found.factorvae_se,
        "factorvae_votes": found.factorvae_votes,
        "dci_predictor": found.dci_predictor,
    }
    return {"step": result.step, **{m: scores[m] for m in METRICS}, **protocol}


def checkpoints(run: Path, every: int = 1) -> dict[int, Path]:
    """The run's complete checkpoints by step, oldest first; with `every`, only those at multiples of it and the
    last."""
    found = checkpoints_by_step(run / "checkpoints")
    last = max(found, default=None)
    return {step: path for step, path in found.items() if step % every == 0 or step == last}


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
    parser.add_argument(
        "--trend-every",
        type=int,
        default=1,
        metavar="N",
        help="with --trend, only checkpoints at multiples of N",
    )
    parser.add_argument("--markdown", action="store_true", help="print a table instead of JSON lines")
    parser.add_argument(
        "--table",
        metavar="NAME",
        help="give each run's line what a results table needs beside its scores: the table's name, the train "
        "command, the commit and the CPU (for docs/results/NAME.jsonl)",
    )
    parser.add_argument(
        "--branch",
        action="append",
        default=[],
        metavar="CHILD=PARENT",
        help="start each CHILD run from the PARENT run of its seed, before CHILD's regulariser starts",
    )
    args = parser.parse_args()
    branches = dict(item.split("=", 1) for item in args.branch)
    for child, parent in branches.items():
        if child not in args.presets or parent not in args.presets[: args.presets.index(child)]:
            parser.error(f"--branch {child}={parent}: both must be in --presets, {parent} first")
        start = cr_start(child, args.steps)
        if start is None:
            parser.error(f"--branch {child}={parent}: {child} has no regulariser start to branch before")
        if start == 0:
            parser.error(
                f"--branch {child}={parent}: {child}'s regulariser starts at update 0, nothing to share"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    if args.table:  # the same for every run of the table
        root = Path(args.data_root).expanduser() if args.data_root else None
        context = {
            "table": args.table,
            "commit": head_commit(),
            "cpu": cpu_name(),
            "data": "dSprites' file" if DSpritesSource().file(root) else "infogan's rendering",
        }
    table: dict[str, list[dict[str, Any]]] = {}
    for preset in args.presets:
        for seed in args.seeds:
            run = args.out / f"{preset}-s{seed}"
            parent = args.out / f"{branches[preset]}-s{seed}" if preset in branches else None
            branch = checkpoint_before(parent, cr_start(preset, args.steps) or 0) if parent else None
            train(run, preset, seed, args, branch[1] if branch else None)  # skips a finished run
            row = {
                "preset": preset,
                "seed": seed,
                "run": str(run),
                **scores(run, run / "disentanglement.json", args),
            }
            if args.table:
                command = train_command(run, preset, seed, args, branch[1] if branch else None)
                row = {**context, "command": "infogan " + shlex.join(command), **row}
            table.setdefault(preset, []).append(row)
            if not args.markdown:
                print(json.dumps(row), flush=True)
            if args.trend:
                # a branched run's checkpoints up to its branch point are its parent's
                shared = (
                    {
                        step: (path, parent)
                        for step, path in checkpoints(parent, args.trend_every).items()
                        if branch and step <= branch[0]
                    }
                    if parent
                    else {}
                )
                own = {step: (path, run) for step, path in checkpoints(run, args.trend_every).items()}
                for step, (folder, owner) in {**shared, **own}.items():
                    point = (
                        {k: row[k] for k in ("step", *METRICS)}  # the run's own scores, already computed
                        if owner == run and step == row["step"]
                        else scores(folder, owner / f"disentanglement-step-{step}.json", args)
                    )
                    origin = {"from": str(owner)} if owner != run else {}
                    print(
                        json.dumps(
                            {"preset": preset, "seed": seed, "checkpoint": f"step-{step}", **point, **origin}
                        ),
                        flush=True,
                    )
    summaries = [_summary(preset, rows, args.out) for preset, rows in table.items()]
    if args.markdown:
        print("| preset | seeds | updates | " + " | ".join(METRICS) + " | ModelCentrality pick |")
        print("|---|---|---|" + "---|" * len(METRICS) + "---|")
        for summary in summaries:
            cells = [f"{summary[m]['mean']:.3f} ({summary[m]['std']:.3f})" for m in METRICS]
            pick = summary["pick"]
            picked = (
                f"seed {pick['seed']}: " + ", ".join(f"{m} {pick[m]:.3f}" for m in METRICS) if pick else "-"
            )
            updates = ", ".join(sorted({str(r["step"]) for r in table[summary["preset"]]}))
            print(
                f"| {summary['preset']} | {summary['seeds']} | {updates} | "
                + " | ".join(cells)
                + f" | {picked} |"
            )
    for summary in summaries:
        print(json.dumps(summary), flush=True)


def _summary(preset: str, rows: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"preset": preset, "seeds": len(rows)}
    for metric in METRICS:
        values = [r[metric] for r in rows]
        out[metric] = {
            "mean": round(statistics.fmean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        }
    out["pick"] = None
    if len(rows) > 1:
        pick = rows[_select(rows, folder)]
        out["pick"] = {"seed": pick["seed"], **{m: pick[m] for m in METRICS}}
    return out


def _select(rows: list[dict[str, Any]], folder: Path) -> int:
    """The row whose run ModelCentrality picks (`infogan select`), computed once per set of runs at their steps
    into `folder/select-<preset>.json`."""
    runs = [[r["run"], r["step"]] for r in rows]
    cache = folder / f"select-{rows[0]['preset']}.json"
    if cache.is_file() and (saved := json.loads(cache.read_text())).get("table_runs") == runs:
        return int(saved["pick"])
    done = infogan("select", *(r["run"] for r in rows), "--json", log=cache.with_suffix(".log"))
    if done.returncode != 0:
        sys.exit(f"error: infogan select failed (exit {done.returncode}); see {cache.with_suffix('.log')}")
    result = json.loads(done.stdout)
    cache.write_text(json.dumps({"table_runs": runs, **result}, indent=1))
    return int(result["pick"])


if __name__ == "__main__":
    main()
