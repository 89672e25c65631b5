"""A torchrun worker for the data-parallel tests: `infogan train` with optional faults and test-only changes,
chosen by environment variables, then the real command line.

INFOGAN_TEST_NAN_RANK, INFOGAN_TEST_NAN_STEP: that rank's real images at that (1-based) step are NaN, so its losses
    and, once averaged, every rank's gradients become NaN.
INFOGAN_TEST_SAME_RANKS=1: every rank draws the same latents and the same images (what a single process with the
    per-rank batch would), so the run must equal that single process: a check of the gradient averaging alone.
"""

from __future__ import annotations

import os
import sys

import torch

import infogan.training.loop as loop
from infogan.models.infogan import InfoGAN

rank = int(os.environ.get("RANK", "0"))

if "INFOGAN_TEST_NAN_RANK" in os.environ and rank == int(os.environ["INFOGAN_TEST_NAN_RANK"]):
    nan_step = int(os.environ["INFOGAN_TEST_NAN_STEP"])
    original = InfoGAN.train_step

    def poisoned(self: InfoGAN, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        if step + 1 == nan_step:
            batch = {**batch, "x": batch["x"] * float("nan")}
        return original(self, batch, step)

    InfoGAN.train_step = poisoned  # type: ignore[method-assign]

if os.environ.get("INFOGAN_TEST_SAME_RANKS") == "1":
    import infogan.training.setup as setup

    setup.rank_seed = loop.rank_seed = lambda seed, rank: seed  # type: ignore[assignment]
    schedule_init = loop.BatchSchedule.__init__

    def same_images(self: loop.BatchSchedule, *args: object, **kwargs: object) -> None:
        schedule_init(self, *args, **kwargs)  # type: ignore[arg-type]
        self.offset, self.global_batch = 0, self.batch_size
        self.per_epoch = self.n // self.batch_size

    loop.BatchSchedule.__init__ = same_images  # type: ignore[method-assign]

if __name__ == "__main__":
    from infogan.cli import main

    sys.argv = ["infogan", *sys.argv[1:]]
    main()
