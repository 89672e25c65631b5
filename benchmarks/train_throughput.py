"""Training throughput of the MNIST InfoGAN (images/s at batch 128) on random data held in memory.

Prints one JSON line. Usage: python benchmarks/train_throughput.py [--preset mnist|mnist-paper] [--steps N]
[--warmup N] [--batch-size B] [--threads T] [--set key=value ...]. The FLOP count per image is measured once with torch's FLOP counter over a whole train_step. The
loop's per-step guard (every loss and gradient finite, `nonfinite_in_step`) is timed on its own and reported as a
share of the step time.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from infogan.config import load_preset
from infogan.data.base import ImageTensorDataset
from infogan.machine import cpu_name
from infogan.models import build_model
from infogan.training.loop import BatchSchedule, nonfinite_in_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="mnist", help="mnist (with the consistency term) or mnist-paper")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override a.b=v")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_preset(args.preset, [f"train.batch_size={args.batch_size}", *args.overrides])
    torch.manual_seed(0)
    model = build_model(cfg.model, (1, 28, 28))
    model.seed(0)
    model.train()
    data = ImageTensorDataset("random", torch.rand(4096, 1, 28, 28) * 2 - 1)
    schedule = BatchSchedule(len(data), args.batch_size, 0, model.device)

    with FlopCounterMode(display=False) as counter:
        model.train_step(data.batch(schedule.indices(0)), 0)
    flops_per_image = counter.get_total_flops() / args.batch_size

    for step in range(1, args.warmup + 1):
        model.train_step(data.batch(schedule.indices(step)), step)
    start = time.perf_counter()
    for step in range(args.warmup + 1, args.warmup + 1 + args.steps):
        out = model.train_step(data.batch(schedule.indices(step)), step)
    float(out["d_loss"])
    seconds = time.perf_counter() - start
    images_per_s = args.steps * args.batch_size / seconds
    start = time.perf_counter()
    for _ in range(20):
        assert nonfinite_in_step(model, out) is None
    check_s = (time.perf_counter() - start) / 20
    print(
        json.dumps(
            {
                "benchmark": "train_throughput",
                "model": "infogan",
                "preset": args.preset,
                "cpu": cpu_name(),
                "batch_size": args.batch_size,
                "threads": torch.get_num_threads(),
                "steps": args.steps,
                "images_per_s": round(images_per_s, 1),
                "mflop_per_image": round(flops_per_image / 1e6, 1),
                "achieved_gflop_per_s": round(images_per_s * flops_per_image / 1e9, 1),
                "health_check_ms": round(check_s * 1e3, 2),
                "health_check_share": round(check_s / (seconds / args.steps), 4),
                "torch": torch.__version__,
                "machine": platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
