"""Seed sweeps: one setup trained under several seeds, one table of them, and one run picked without labels.

Each seed is an ordinary run directory, ``SWEEP/seed-<S>``, trained by ``infogan train --resume auto`` in a process
of its own, so a sweep that was stopped continues where it stopped and a cluster scheduler can run the same
commands instead. A run's categories are read off Q on real training images (no labels); the pick is the medoid of
the runs under pairwise adjusted mutual information (AMI) of those assignments: the run that divides the data most
like the other runs do. Seeds that split or merge classes each do so in their own way, while the division the
setup finds most often is shared, so the run closest to all the others tends to be one that found it. Labels,
where the dataset has them, only score the runs (`accuracy` in each run's eval.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import adjusted_mutual_info_score

from infogan.errors import ConfigError, InfoganError
from infogan.evaluation.record import EvalRecord
from infogan.files import write_text_atomic
from infogan.progress import ProgressFn, format_duration
from infogan.reporting.compare import aggregate, run_row, runs_table
from infogan.runs.directory import RunDir

# Real training images whose categories the runs are compared on (a fixed random subset of the training split).
SELECTION_IMAGES = 10_000


def seed_dir(sweep_dir: Path, seed: int) -> Path:
    """The run directory of one seed of a sweep."""
    return sweep_dir / f"seed-{seed}"


@dataclass(frozen=True)
class SeedJob:
    """The training command of one seed and the file its output goes to."""

    seed: int
    run_dir: Path
    argv: list[str]

    @property
    def log(self) -> Path:
        return self.run_dir.parent / f"seed-{self.seed}.log"


def plan(
    sweep_dir: Path, seeds: Sequence[int], train_args: Sequence[str], threads: int | None
) -> list[SeedJob]:
    """One `infogan train ... --seed S --run-dir SWEEP/seed-S --resume auto` per seed, each on `threads` threads
    (None: the threads `train_args` set themselves, which the sweep does not override).

    Args:
        train_args: the options every seed shares (preset, dataset, data root, steps, --set ...).
    """
    return [
        SeedJob(
            seed,
            seed_dir(sweep_dir, seed),
            [
                sys.executable,
                "-m",
                "infogan",
                "train",
                *train_args,
                "--seed",
                str(seed),
                "--run-dir",
                str(seed_dir(sweep_dir, seed)),
                "--resume",
                "auto",
                *(["--set", f"train.threads={threads}"] if threads is not None else []),
            ],
        )
        for seed in seeds
    ]


def run_jobs(
    jobs: Sequence[SeedJob], parallel: int, *, progress: ProgressFn = print, report_every: float = 60.0
) -> dict[int, int]:
    """Run the jobs, at most `parallel` at a time, each writing its output to its log; every `report_every`
    seconds, pass on each running job's newest progress line. Returns each seed's exit status.

    A Ctrl-C reaches the jobs too (they share the terminal's process group): each finishes its step and writes a
    checkpoint, and this waits for them before raising KeyboardInterrupt.
    """
    pending = list(jobs)
    running: dict[int, tuple[SeedJob, subprocess.Popen[bytes]]] = {}
    status: dict[int, int] = {}
    started: dict[int, float] = {}
    last_report = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < parallel:
                job = pending.pop(0)
                job.log.parent.mkdir(parents=True, exist_ok=True)
                with job.log.open("a") as log:
                    running[job.seed] = (
                        job,
                        subprocess.Popen(job.argv, stdout=log, stderr=subprocess.STDOUT),
                    )
                started[job.seed] = time.monotonic()
                progress(f"seed {job.seed}: training in {job.run_dir} (output: {job.log})")
            time.sleep(0.5)
            for seed, (job, proc) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[seed]
                status[seed] = proc.returncode
                took = format_duration(time.monotonic() - started[seed])
                outcome = "done" if proc.returncode == 0 else f"failed ({_last_line(job.log)})"
                progress(f"seed {seed}: {outcome} after {took}")
            if running and time.monotonic() - last_report >= report_every:
                last_report = time.monotonic()
                for seed, (job, _) in running.items():
                    progress(f"seed {seed}: {_last_line(job.log, startswith='step ')}")
    except KeyboardInterrupt:
        for _, proc in running.values():
            proc.wait()
        raise
    return status


def _last_line(path: Path, startswith: str = "") -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    lines = [line for line in lines if line.startswith(startswith)]
    return lines[-1] if lines else "no output yet"


# --- label-free selection ----------------------------------------------------------------------------------------
def categorical_assignments(run_dir: Path, images: torch.Tensor) -> dict[str, np.ndarray]:
    """Each categorical code's category (argmax of Q) for images (N, C, H, W) in [-1, 1], from the run's newest
    checkpoint."""
    from infogan.runs.loaded import load_run

    model = load_run(run_dir).model
    if not (model.encodes_images and model.latent.categorical):
        return {}
    parts: dict[str, list[torch.Tensor]] = {}
    for chunk in images.split(500):
        for name, post in model.infer_codes(chunk).items():
            if "logits" in post:
                parts.setdefault(name, []).append(post["logits"].argmax(1))
    return {name: torch.cat(p).numpy() for name, p in parts.items()}


def agreement_matrix(assignments: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
    """(R, R) adjusted mutual information between the runs' assignments, averaged over the categorical codes they
    share; 1 on the diagonal."""
    n = len(assignments)
    out = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            shared = [c for c in assignments[i] if c in assignments[j]]
            scores = [adjusted_mutual_info_score(assignments[i][c], assignments[j][c]) for c in shared]
            out[i, j] = out[j, i] = float(np.mean(scores)) if scores else float("nan")
    return out


def medoid(agreement: np.ndarray) -> tuple[int, list[float]]:
    """The index of the run with the highest mean agreement with the others, and every run's mean agreement."""
    n = agreement.shape[0]
    if n < 2:
        return 0, [float("nan")] * n
    means = [float((agreement[i].sum() - agreement[i, i]) / (n - 1)) for i in range(n)]
    return int(np.argmax(means)), means


def selection_images(run_dir: Path, n: int = SELECTION_IMAGES) -> torch.Tensor:
    """A fixed random subset of the training split of the run's dataset (the same for every run of a sweep)."""
    from infogan import data as datasets
    from infogan.config import load_config_file

    train = datasets.build(load_config_file(RunDir(run_dir).config).data, "train")
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    return train.images[order[:n]]


def summarise(sweep_dir: Path, seeds: Sequence[int], *, progress: ProgressFn = print) -> dict[str, Any]:
    """The table of the seeds' finished runs, its aggregates, and the label-free pick (linked as SWEEP/best).

    Writes SWEEP/sweep.json. Runs without an eval.json (not finished, or failed) are listed as missing.
    """
    done = [s for s in seeds if RunDir(seed_dir(sweep_dir, s)).eval.is_file()]
    missing = [s for s in seeds if s not in done]
    if not done:
        raise ConfigError(
            f"no finished run in {sweep_dir} (seeds {', '.join(map(str, seeds))} have no eval.json)"
        )
    rows = [
        {"seed": s, "run_dir": str(seed_dir(sweep_dir, s)), **run_row(seed_dir(sweep_dir, s))} for s in done
    ]
    result: dict[str, Any] = {"runs": rows, "missing": missing, "summary": aggregate(rows)}
    progress(f"reading the categories of {len(done)} runs on real training images (no labels)")
    images = selection_images(seed_dir(sweep_dir, done[0]))
    assignments = [categorical_assignments(seed_dir(sweep_dir, s), images) for s in done]
    if len(done) >= 2 and all(assignments):
        agreement = agreement_matrix(assignments)
        best, means = medoid(agreement)
        for row, score in zip(rows, means, strict=True):
            row["agreement"] = score
        result["pick"] = {
            "seed": done[best],
            "criterion": "medoid of pairwise adjusted mutual information of the categorical assignments",
            "images": len(images),
            "agreement": agreement.tolist(),
        }
        tied = [s for s, m in zip(done, means, strict=True) if abs(m - means[best]) <= 1e-12]
        if len(tied) > 1:
            result["pick"]["tied"] = tied
            result["notes"] = [
                "with two runs both agree equally with the other (AMI is symmetric), so the pick is the first "
                "run, not a choice; the pick ranks three or more runs"
                if len(done) == 2
                else f"seeds {', '.join(map(str, tied))} share the highest agreement; the pick is the first"
            ]
        link_best(sweep_dir, seed_dir(sweep_dir, done[best]))
    write_text_atomic(sweep_dir / "sweep.json", json.dumps(result, indent=1))
    return result


def link_best(sweep_dir: Path, target: Path) -> None:
    """Point SWEEP/best at the picked run (a relative symbolic link, replaced atomically)."""
    tmp = sweep_dir / ".best.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(target.name, tmp)
    os.replace(tmp, sweep_dir / "best")


def table_lines(result: dict[str, Any]) -> list[str]:
    """The sweep as text: one line per run, then mean, std, min and median, then the pick."""
    lines = runs_table(
        result["runs"],
        label=lambda row: str(row["seed"]),
        heading="seed",
        summary=result["summary"],
        extra=("agreement",),
    )
    if result["missing"]:
        lines.append(f"not finished: seeds {', '.join(map(str, result['missing']))}")
    pick = result.get("pick")
    if pick is not None:
        row = next(r for r in result["runs"] if r["seed"] == pick["seed"])
        lines.append(
            f"label-free pick: seed {pick['seed']} (mean AMI with the other runs {row['agreement']:.3f}), "
            f"linked as best"
        )
    lines += [f"note: {note}" for note in result.get("notes", [])]
    return lines


def parallel_plan(
    n_seeds: int, cores: int | None, parallel: int | None, threads: int | None = None
) -> tuple[int, int]:
    """How many seeds train at once and on how many threads each: by default one process per core (up to the
    number of seeds), the cores shared equally; `threads` (the user's train.threads) is kept as given."""
    cores = cores or os.cpu_count() or 1
    if parallel is not None and parallel < 1:
        raise ConfigError(f"--parallel must be at least 1, got {parallel}")
    if threads is not None:
        return min(n_seeds, parallel or max(1, cores // threads)), threads
    at_once = min(n_seeds, parallel or cores)
    return at_once, max(1, cores // at_once)


def finished(run_dir: Path, steps: int) -> bool:
    """Whether the run was trained for `steps` updates, or to its time budget (`train.minutes`), and evaluated."""
    import yaml

    try:
        files = RunDir(run_dir)
        evaluated = EvalRecord.load(files.eval).step
        if evaluated == steps:
            return True
        minutes = (yaml.safe_load(files.config.read_text())["train"] or {}).get("minutes")
        rows = files.logged()
        last = rows[-1] if rows else {}
    except (InfoganError, OSError, ValueError, KeyError, TypeError):  # not evaluated, or a file is torn
        return False
    return minutes is not None and last.get("step") == evaluated and last.get("elapsed_s", 0) >= 60 * minutes


def run_sweep(
    sweep_dir: Path,
    seeds: Sequence[int],
    train_args: Sequence[str],
    steps: int,
    *,
    parallel: int | None = None,
    threads: int | None = None,
    progress: ProgressFn = print,
) -> dict[str, Any]:
    """Train every seed that has not finished `steps` updates (continuing runs already started), then summarise
    and pick (see `summarise`). `threads` is the train.threads that `train_args` set, if they set it: the sweep
    then keeps it and runs as many seeds at once as the cores hold."""
    todo = [s for s in seeds if not finished(seed_dir(sweep_dir, s), steps)]
    if todo:
        at_once, per_seed = parallel_plan(len(todo), None, parallel, threads)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        progress(
            f"sweep: {len(todo)} of {len(seeds)} seeds to train in {sweep_dir}, {at_once} at a time on "
            f"{per_seed} thread(s) each"
        )
        jobs = plan(sweep_dir, todo, train_args, None if threads is not None else per_seed)
        status = run_jobs(jobs, at_once, progress=progress)
    else:
        progress(f"sweep: all {len(seeds)} seeds in {sweep_dir} have finished {steps} updates")
        status = {}
    failed = [s for s, code in status.items() if code != 0]
    if failed:
        progress(f"sweep: seeds {', '.join(map(str, failed))} did not finish; see their logs")
    return summarise(sweep_dir, seeds, progress=progress)
