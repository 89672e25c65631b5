"""Monte-Carlo estimate of InfoGAN's lower bound L_I per code (arXiv:1606.03657, Eq. 4-5).

L_I(c) = H(c) + E_{c~P(c), x~G(z,c)}[log Q(c|x)], averaged over many generated samples with G, D and Q in eval mode.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from infogan.latent import Latent, LatentSpec
from infogan.metrics.sharding import owns, sum_over_ranks
from infogan.progress import Eta, ProgressFn
from infogan.world import World


class GeneratorWithQ(Protocol):
    """What L_I needs of a model: its latent spec, a generator G and Q's per-code NLL of generated images. The
    model contract declares them (`GenerativeModel.q_nll` works where `has_mi_lower_bound`); named by shape, so
    that this metric imports no model."""

    latent: LatentSpec

    @property
    def device(self) -> torch.device: ...

    def generate(self, latent: Latent) -> Tensor:
        """Images (B, C, H, W) in [-1, 1] from a latent batch."""
        ...

    def q_nll(self, x: Tensor, latent: Latent, *, batch_stats: bool = False) -> dict[str, Tensor]:
        """Q's mean negative log-likelihood per code of `latent`'s codes given images x."""
        ...


@torch.no_grad()
def mi_lower_bounds(
    model: GeneratorWithQ,
    n_samples: int,
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
    batch_stats: bool = False,
) -> dict[str, float]:
    """L_I in nats for each code of `model`, from `n_samples` draws of the prior.

    With `batch_stats`, Q's batch norm uses each batch's statistics (as during training) instead of its running
    averages: the running averages mix D's real and fake passes and can misstate Q on fakes when those differ.

    Returns:
        ``{code name: L_I}``; for a categorical code L_I <= H(c) = ln K.
    """
    return _mi_lower_bounds(model, n_samples, batch_size, generator, (batch_stats,))[0]


def mi_lower_bounds_both(
    model: GeneratorWithQ,
    n_samples: int,
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
    progress: ProgressFn | None = None,
    world: World = World(),
) -> tuple[dict[str, float], dict[str, float]]:
    """`mi_lower_bounds` in eval mode and with batch statistics, from the same generated images (one G pass);
    split over the ranks of `world` (metrics/sharding.py), each of which gets the whole result."""
    in_eval_mode, with_batch_stats = _mi_lower_bounds(
        model, n_samples, batch_size, generator, (False, True), progress, world
    )
    return in_eval_mode, with_batch_stats


@torch.no_grad()
def _mi_lower_bounds(
    model: GeneratorWithQ,
    n_samples: int,
    batch_size: int,
    generator: torch.Generator | None,
    batch_stats: tuple[bool, ...],
    progress: ProgressFn | None = None,
    world: World = World(),
) -> list[dict[str, float]]:
    names = [c.name for c in model.latent.codes]
    totals = torch.zeros(len(batch_stats), len(names), dtype=torch.float64)  # sums of n * mean NLL per batch
    eta = Eta("eval: L_I", n_samples, progress or (lambda _: None), unit=" samples")
    done = 0
    for batch, n in enumerate(_batch_sizes(n_samples, batch_size)):
        latent = model.latent.sample(n, generator=generator, device=model.device)
        if owns(world, batch):
            x = model.generate(latent)
            for total, mode in zip(totals, batch_stats, strict=True):
                nll = model.q_nll(x, latent, batch_stats=mode)
                total += torch.tensor([float(nll[name]) * n for name in names], dtype=torch.float64)
        done += n
        eta(done)
    totals = sum_over_ranks(world, totals, model.device)
    return [
        {c.name: c.entropy - float(t[i]) / n_samples for i, c in enumerate(model.latent.codes)}
        for t in totals
    ]


def _batch_sizes(n_samples: int, batch_size: int) -> list[int]:
    """Batches of `batch_size` covering `n_samples`, the last one smaller; a last batch of one sample joins the one
    before it, since batch norm on batch statistics needs two or more."""
    sizes = [batch_size] * (n_samples // batch_size) + [n_samples % batch_size] * (n_samples % batch_size > 0)
    if len(sizes) > 1 and sizes[-1] == 1:
        sizes[-2:] = [sizes[-2] + 1]
    return sizes
