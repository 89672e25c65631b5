"""Training speed of a preset's training step in each precision and memory layout, paired: every variant is built
from the same seed and timed in interleaved rounds in this one process, so drift of the machine's speed hits all
variants alike. Run it on an otherwise idle machine.

Variants: fp32 (the default: fp32 weights and arithmetic, fused Adam), bf16 (`train.precision: bf16`, autocast),
channels_last (fp32, NHWC weights and images), foreach_adam (fp32 with PyTorch's default multi-tensor Adam instead
of the fused one the models use), bf16_channels_last. Prints one JSON line per variant
(median img/s over rounds, and the ratio to fp32) and a summary line with the CPU's name and its bf16 support.

Usage: python benchmarks/train_variants.py [--preset mnist-paper] [--threads 2] [--rounds 5] [--steps 10]
[--variants fp32,bf16,...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch

from infogan.config import load_preset
from infogan.data import image_shape
from infogan.data.base import ImageTensorDataset
from infogan.machine import cpu_name
from infogan.models import GenerativeModel, build_model
from infogan.training.loop import BatchSchedule
from infogan.training.precision import Precision

VARIANTS = ("fp32", "bf16", "channels_last", "foreach_adam", "bf16_channels_last")


def build(preset: str, variant: str, batch_size: int) -> tuple[GenerativeModel, Callable[[int], None]]:
    """The model of `preset` set up as `variant`, and a function running its training step `step`."""
    cfg = load_preset(preset, [f"train.batch_size={batch_size}"])
    torch.manual_seed(0)
    shape = image_shape(cfg.data)  # random images of the preset's dataset's shape
    model = build_model(cfg.model, shape)
    model.seed(0)
    model.train()
    channels_last = variant.endswith("channels_last")
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if variant == "foreach_adam":  # PyTorch's default Adam, in place of the models' fused one
        model._optimizers = {
            name: torch.optim.Adam(
                [{k: v for k, v in g.items() if k not in ("fused", "foreach")} for g in opt.param_groups],
                foreach=True,
            )
            for name, opt in model.optimizers.items()
        }
    precision = Precision("bf16" if variant.startswith("bf16") else "fp32", model.device)
    images = torch.rand(4096, *shape) * 2 - 1
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    data = ImageTensorDataset("random", images)
    schedule = BatchSchedule(len(data), batch_size, 0, model.device)

    def step(i: int) -> None:
        with precision.autocast():
            model.train_step(data.batch(schedule.indices(i)), i)

    return model, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist-paper")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {', '.join(VARIANTS)}")
    steps = {v: build(args.preset, v, args.batch_size)[1] for v in variants}
    done = dict.fromkeys(variants, 0)
    for v in variants:
        for _ in range(args.warmup):
            steps[v](done[v])
            done[v] += 1
    rates: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for v in variants:
            start = time.perf_counter()
            for _ in range(args.steps):
                steps[v](done[v])
                done[v] += 1
            rates[v].append(args.steps * args.batch_size / (time.perf_counter() - start))
    base = statistics.median(rates["fp32"]) if "fp32" in rates else None
    for v in variants:
        median = statistics.median(rates[v])
        print(
            json.dumps(
                {
                    "benchmark": "train_variants",
                    "variant": v,
                    "preset": args.preset,
                    "images_per_s": round(median, 1),
                    "rounds": [round(r, 1) for r in rates[v]],
                    "vs_fp32": round(median / base, 3) if base else None,
                }
            )
        )
    print(
        json.dumps(
            {
                "benchmark": "train_variants",
                "cpu": cpu_name(),
                "threads": torch.get_num_threads(),
                "batch_size": args.batch_size,
                "steps_per_round": args.steps,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
