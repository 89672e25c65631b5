"""Where an InfoGAN training step goes: the share of a step spent in G's forward pass, each of D's trunk passes
(real images, fakes, the consistency term's deformed copy, the fakes again in G's step), the deformation itself,
the backward passes and the optimiser steps of D/Q and of G, and what is left (heads, losses, latent draws). The
networks run unchanged: each part is timed by wrapping the module, function or optimiser it calls, so the step is
the one training runs. Prints one JSON line with the CPU's name. Run it on an otherwise idle machine.

Usage: python benchmarks/step_profile.py [--preset mnist] [--threads 2] [--steps 30] [--precision fp32|bf16]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from infogan.machine import cpu_name
from infogan.models import infogan as infogan_module
from train_variants import build

CRITIC_TRUNK = ("D trunk, real", "D trunk, fakes", "D trunk, deformed copy", "D trunk, thickened copy")


class StepClock:
    """Seconds per part of the current steps, summed."""

    def __init__(self, synchronize: Callable[[], None]) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.synchronize = synchronize
        self.trunk_calls = (
            0  # trunk passes in the current D/Q step, to name them in the order the model makes them
        )

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        self.synchronize()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.synchronize()
            self.seconds[name] += time.perf_counter() - start

    def timed(self, name: str | Callable[[], str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.part(name if isinstance(name, str) else name()):
                return fn(*args, **kwargs)

        return run


def instrument(model: Any, clock: StepClock) -> None:
    """Wrap the parts of `model`'s step (an InfoGAN) so that each call is timed under its name."""
    model.G.forward = clock.timed("G forward", model.G.forward)

    def trunk_part() -> str:
        if not next(model.trunk.parameters()).requires_grad:  # G's step freezes D
            return "D trunk, G's step"
        clock.trunk_calls += 1
        return CRITIC_TRUNK[min(clock.trunk_calls, len(CRITIC_TRUNK)) - 1]

    model.trunk.forward = clock.timed(trunk_part, model.trunk.forward)
    for name in ("random_affine", "random_thickness"):  # the consistency term's deformations
        setattr(infogan_module, name, clock.timed("deformation", getattr(infogan_module, name)))
    optimizers = model.optimizers
    for key, label in (("d", "D/Q"), ("g", "G")):
        optimizers[key].step = clock.timed(f"optimiser, {label}", optimizers[key].step)
    update = model.update

    def timed_update(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        label = "D/Q" if opt is optimizers["d"] else "G"
        before = clock.seconds[f"optimiser, {label}"]
        with clock.part(f"backward, {label}"):
            update(opt, loss)
        clock.seconds[f"backward, {label}"] -= clock.seconds[f"optimiser, {label}"] - before

    model.update = timed_update


def profile(preset: str, steps: int, warmup: int, batch_size: int, precision: str) -> dict[str, Any]:
    model, step = build(preset, precision, batch_size)
    if not hasattr(model, "trunk"):
        raise SystemExit(
            f"{preset}: the profile reads InfoGAN's networks (G, trunk, heads); this model has no trunk"
        )
    synchronize = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    clock = StepClock(synchronize)
    instrument(model, clock)
    for i in range(warmup):
        step(i)
    clock.seconds.clear()
    total = 0.0
    for i in range(warmup, warmup + steps):
        clock.trunk_calls = 0
        synchronize()
        start = time.perf_counter()
        step(i)
        synchronize()
        total += time.perf_counter() - start
    parts = dict(sorted(clock.seconds.items(), key=lambda kv: -kv[1]))
    parts["other (heads, losses, latents)"] = total - sum(parts.values())
    return {
        "preset": preset,
        "precision": precision,
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "steps": steps,
        "ms_per_step": round(1000 * total / steps, 2),
        "images_per_s": round(batch_size * steps / total, 1),
        "share": {name: round(seconds / total, 4) for name, seconds in parts.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps(profile(args.preset, args.steps, args.warmup, args.batch_size, args.precision)))


if __name__ == "__main__":
    main()
