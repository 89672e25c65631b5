"""Training speed of one process against data-parallel ranks on the same cores, at the same global batch: on this
2-core CPU, 1 process x 2 threads (batch 128) against `torchrun --nproc-per-node 2`, 2 ranks x 1 thread (64 each).
Paired: the two set-ups alternate, `--rounds` times each, and each round is a short real `infogan train` of the
paper's MNIST networks on full MNIST. Run it on an otherwise idle machine.

Prints one JSON line per set-up (median img/s over rounds, from the runs' metrics.jsonl, first window dropped) and
a summary line. Usage: python benchmarks/train_ranks.py --data-root DIR [--rounds 3] [--steps 60] [--ranks 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from infogan.files import read_log
from infogan.machine import cpu_name


def images_per_s(run_dir: Path) -> float:
    rows = read_log(run_dir / "metrics.jsonl")
    return statistics.fmean(r["images_per_s"] for r in rows[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--preset", default="mnist-paper")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128, help="global batch")
    args = parser.parse_args()
    common = [
        "train", "--preset", args.preset, "--data-root", args.data_root, "--steps", str(args.steps),
        "--log-every", "10", "--checkpoint-every", "100000", "--no-eval",
        "--set", "train.sample_every=100000", "--set", "train.collapse_check=false",
    ]  # fmt: skip
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    setups = {
        f"1x{args.ranks}threads": [sys.executable, "-m", "infogan", *common,
                                   "--set", f"train.threads={args.ranks}", "--set", f"train.batch_size={args.batch}"],
        f"{args.ranks}ranksx1thread": [torchrun, f"--nproc-per-node={args.ranks}", "--standalone", "-m", "infogan",
                                       *common, "--set", "train.threads=1",
                                       "--set", f"train.batch_size={args.batch // args.ranks}"],
    }  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in setups}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for name, command in setups.items():
                run_dir = Path(tmp) / f"{name}-{i}"
                subprocess.run(
                    [*command, "--run-dir", str(run_dir)], check=True, env=env, capture_output=True
                )
                rates[name].append(images_per_s(run_dir))
    base = statistics.median(next(iter(rates.values())))
    for name, values in rates.items():
        median = statistics.median(values)
        print(json.dumps({"benchmark": "train_ranks", "setup": name, "images_per_s": round(median, 1),
                          "rounds": [round(v, 1) for v in values], "vs_one_process": round(median / base, 3)}))  # fmt: skip
    print(json.dumps({"benchmark": "train_ranks", "cpu": cpu_name(), "preset": args.preset,
                      "global_batch": args.batch, "steps": args.steps, "torch": torch.__version__}))  # fmt: skip


if __name__ == "__main__":
    main()
