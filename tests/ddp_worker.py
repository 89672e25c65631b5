"""A torchrun worker for the data-parallel tests: `infogan train` with optional faults and test-only changes,
chosen by environment variables, then the real command line.

INFOGAN_TEST_NAN_RANK, INFOGAN_TEST_NAN_STEP: that rank's real images at that (1-based) step are NaN, so its losses
    and, once averaged, every rank's gradients become NaN.
INFOGAN_TEST_SAME_RANKS=1: every rank draws the same latents and the same images (what a single process with the
    per-rank batch would), so the run must equal that single process: a check of the gradient averaging alone.
INFOGAN_TEST_AS_RANKS=N, INFOGAN_TEST_SEED=S (a single process training a VAE): each step's batch is split into N
    shares and share r draws its reparameterisation noise from rank r's generator, as N ranks of a data-parallel
    run of seed S would; the VAE's MLP has no batch norm, so the process must then train as those N ranks do.
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

if "INFOGAN_TEST_AS_RANKS" in os.environ:
    from infogan.models.vae import VAE
    from infogan.training.distributed import rank_seed

    shares, seed = int(os.environ["INFOGAN_TEST_AS_RANKS"]), int(os.environ["INFOGAN_TEST_SEED"])
    others = [torch.Generator().manual_seed(rank_seed(seed, r)) for r in range(1, shares)]
    elbo_terms = VAE._elbo_terms

    def as_ranks(self: VAE, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        if generator is not self.rng:  # held-out figures draw from their own generator
            return elbo_terms(self, x, generator)
        parts = [
            elbo_terms(self, share, g) for share, g in zip(x.chunk(shares), [generator, *others], strict=True)
        ]
        return tuple(torch.cat(terms) for terms in zip(*parts, strict=True))

    VAE._elbo_terms = as_ranks  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    from infogan.cli import main

    sys.argv = ["infogan", *sys.argv[1:]]
    main()
