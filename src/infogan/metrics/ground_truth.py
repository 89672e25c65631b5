"""What the disentanglement metrics need of data with known generative factors, after disentanglement_lib's
`GroundTruthData` (Locatello et al. 2019, arXiv:1811.12359), and the sampling every disentanglement metric shares.

A representation is scored by rendering images from sampled factor rows, encoding them with `represent` and
comparing codes with factors. Images reach `represent` in the dataset contract's range [-1, 1], (N, C, H, W).
The datasets with known factors (data/shapes.py, data/dsprites.py) satisfy `GroundTruthData` by its shape: the
metrics name no dataset and import nothing of the data layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

Represent = Callable[[Tensor], Tensor]
"""Maps images (N, C, H, W) in [-1, 1] to codes (N, D), e.g. Q's posterior means and argmax."""


class GroundTruthData(Protocol):
    """Images rendered from discrete factors; factor j takes values 0 .. factor_sizes[j] - 1."""

    @property
    def factor_names(self) -> tuple[str, ...]: ...

    @property
    def factor_sizes(self) -> tuple[int, ...]: ...

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """(n, K) long, each factor uniform over its values."""
        ...

    def render(self, factors: Tensor) -> Tensor:
        """Images (n, C, H, W) in [0, 1] for factor rows (n, K)."""
        ...


@torch.no_grad()
def encode_factors(
    represent: Represent, data: GroundTruthData, factors: Tensor, *, batch_size: int = 512
) -> np.ndarray:
    """Codes of the images rendered from `factors`, rendered and encoded in batches to bound memory.

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D), on any device.
        data: the ground truth that renders the images.
        factors: (N, K) long factor rows.
        batch_size: images rendered and encoded at once.

    Returns:
        (N, D) float64 codes.
    """
    chunks = []
    for start in range(0, factors.shape[0], batch_size):
        images01 = data.render(factors[start : start + batch_size])
        codes = represent(images01 * 2 - 1)  # the dataset contract's range
        if codes.ndim != 2:
            raise ValueError(f"represent must return codes (N, D), got shape {tuple(codes.shape)}")
        chunks.append(codes.detach().cpu().double().numpy())
    return np.concatenate(chunks)


def sample_codes(
    represent: Represent, data: GroundTruthData, n: int, generator: torch.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw `n` factor rows uniformly and encode their images.

    Returns:
        codes (n, D) float64 and factors (n, K) int64.
    """
    factors = data.sample_factors(n, generator)
    return encode_factors(represent, data, factors), factors.numpy()


def sample_fixed_factor(
    data: GroundTruthData, n_groups: int, group_size: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Groups of factor rows that share the value of one randomly chosen factor (the FactorVAE protocol).

    Returns:
        fixed: (n_groups,) long, the index of the factor held fixed in each group.
        factors: (n_groups, group_size, K) long; in group g, column fixed[g] is constant.
    """
    k = len(data.factor_sizes)
    fixed = torch.randint(k, (n_groups,), generator=generator)
    factors = data.sample_factors(n_groups * group_size, generator).view(n_groups, group_size, k)
    groups = torch.arange(n_groups)
    factors[groups, :, fixed] = factors[groups, 0, fixed].unsqueeze(1)
    return fixed, factors
