"""Improved precision and recall of generative models (Kynkäänniemi et al. 2019, arXiv:1904.06991).

The real manifold is the union of balls around each real feature vector with radius the distance to its k-th
nearest real neighbour; precision is the fraction of generated samples inside it. Recall swaps the roles: the
fraction of real samples inside the generated manifold.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _kth_neighbour_radius(feats: Tensor, k: int, chunk: int) -> Tensor:
    """(N,) distance from each row to its k-th nearest other row."""
    radii = []
    for i in range(0, len(feats), chunk):
        d = torch.cdist(feats[i : i + chunk], feats)  # (chunk, N)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # k + 1: the nearest row is the point itself
    return torch.cat(radii)


def _coverage(manifold: Tensor, radii: Tensor, queries: Tensor, chunk: int) -> float:
    """Fraction of `queries` within `radii[j]` of some `manifold[j]`."""
    inside = []
    for i in range(0, len(queries), chunk):
        d = torch.cdist(queries[i : i + chunk], manifold)  # (chunk, N)
        inside.append((d <= radii.unsqueeze(0)).any(dim=1))
    return float(torch.cat(inside).double().mean())


def precision_recall(real: Tensor, fake: Tensor, *, k: int = 3, chunk: int = 1000) -> dict[str, float]:
    """Improved precision and recall between two sets of features.

    Args:
        real: (N, F) features of real images, N > k.
        fake: (M, F) features of generated images, M > k. The paper uses N = M.
        k: neighbourhood size of the manifold estimate (the paper's default is 3).

    Returns:
        ``{"precision", "recall"}``, each in [0, 1].
    """
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} need more than {k} real and generated samples")
    real, fake = real.double(), fake.double()
    precision = _coverage(real, _kth_neighbour_radius(real, k, chunk), fake, chunk)
    recall = _coverage(fake, _kth_neighbour_radius(fake, k, chunk), real, chunk)
    return {"precision": precision, "recall": recall}
