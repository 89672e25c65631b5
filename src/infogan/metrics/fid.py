"""Fréchet distance (FID, Heusel et al. 2017, arXiv:1706.08500) and kernel distance (KID, Bińkowski et al. 2018,
arXiv:1801.01401) between real and generated images, computed by torchmetrics in a given feature space.

Features are extracted once per image set (see evaluation/features.py) and handed to torchmetrics through a
pass-through extractor, so FID, KID and precision/recall all see exactly the same vectors.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn


class _Precomputed(nn.Module):
    """The identity on (B, F) feature rows, presented to torchmetrics as a feature extractor of width F."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


def fid_kid(
    real: Tensor, fake: Tensor, *, kid_subsets: int = 100, kid_subset_size: int = 1000, seed: int = 0
) -> dict[str, float]:
    """FID and KID between two sets of features.

    Args:
        real: (N, F) features of real images, N >= 2.
        fake: (M, F) features of generated images, M >= 2.
        kid_subsets: number of random subsets KID averages over.
        kid_subset_size: images per KID subset, capped at min(N, M).
        seed: seed of KID's subset draws.

    Returns:
        ``{"fid", "kid", "kid_std"}``: FID in squared feature units; KID (unbiased polynomial-kernel MMD^2) and its
        standard deviation over subsets.
    """
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"features must be (N, F) with the same F, got {tuple(real.shape)}, {tuple(fake.shape)}"
        )
    if min(len(real), len(fake)) < 2:
        raise ValueError("FID and KID need at least two real and two generated images")
    # torchmetrics imports torchvision and torch's compiler stack (about 1.5 s): only when scores are computed
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    width = real.shape[1]
    # The features are complete here: torchmetrics must not gather from the other ranks of a data-parallel run
    # (which it does by default once torch.distributed is initialised, a collective only rank 0 would reach).
    local: dict[str, Any] = {"sync_on_compute": False}
    fid = FrechetInceptionDistance(feature=_Precomputed(width), reset_real_features=False, **local)
    fid.update(real.double(), real=True)
    fid.update(fake.double(), real=False)
    subset = min(kid_subset_size, len(real), len(fake))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        kid = KernelInceptionDistance(
            feature=_Precomputed(width), subsets=kid_subsets, subset_size=subset, **local
        )
    kid.update(real.double(), real=True)
    kid.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):  # KID draws its subsets from the global generator
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}
