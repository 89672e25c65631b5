"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", arXiv:1802.04942),
in disentanglement_lib's discrete form.

Each code dimension is discretised into equal-width histogram bins; for every factor, the gap between the two
code dimensions sharing the most mutual information with it, divided by the factor's entropy, is averaged over
factors. 1 means each factor is captured by exactly one dimension, 0 that no dimension stands out.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import mutual_info_score

from infogan.metrics.ground_truth import GroundTruthData, Represent, sample_codes


def mig_score(
    represent: Represent, data: GroundTruthData, *, n_samples: int = 10_000, n_bins: int = 20, seed: int = 0
) -> float:
    """MIG of a representation on data with known factors.

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D).
        data: ground truth to sample factors and images from.
        n_samples: images sampled to estimate the mutual information.
        n_bins: histogram bins per code dimension (20 in disentanglement_lib).
        seed: seeds the factor sampling.

    Returns:
        MIG in [0, 1].
    """
    codes, factors = sample_codes(represent, data, n_samples, torch.Generator().manual_seed(seed))
    return mig_from_codes(codes, factors, n_bins)


def mig_from_codes(codes: np.ndarray, factors: np.ndarray, n_bins: int = 20) -> float:
    """MIG from codes (N, D) and integer factors (N, K); factors that never vary are left out of the mean."""
    mi, entropy = _mi_and_entropy(codes, factors, n_bins)
    top = -np.sort(-mi, axis=0)  # (D, K), largest first
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    varies = entropy > 0
    if not varies.any():
        raise ValueError("every factor is constant in the sample: MIG is undefined")
    return float(np.mean((top[0] - second)[varies] / entropy[varies]))


def normalised_mutual_info(codes: np.ndarray, factors: np.ndarray, n_bins: int = 20) -> np.ndarray:
    """I(z_d; v_k) / H(v_k), (D, K): the share of each factor's entropy that each code dimension carries, as MIG
    reads it (the same bins); 0 for a factor that never varies. MIG is the mean over factors of the gap between
    the two largest entries of a column."""
    mi, entropy = _mi_and_entropy(codes, factors, n_bins)
    return np.divide(mi, entropy, out=np.zeros_like(mi), where=entropy > 0)


def _mi_and_entropy(codes: np.ndarray, factors: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """I(z_d; v_k) (D, K) between the discretised codes and the factors, and H(v_k) (K,), in nats."""
    mi = mutual_info_matrix(discretise(codes, n_bins), factors)
    entropy = np.array([mutual_info_score(f, f) for f in factors.T])  # H(v_k) = I(v_k; v_k)
    return mi, entropy


def discretise(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (N, D) of each code value in `n_bins` equal-width bins spanning that dimension's sample range."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, d], n_bins)
        out[:, d] = np.digitize(codes[:, d], edges[1:-1])
    return out


def mutual_info_matrix(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """I(z_d; v_k) in nats, (D, K), between discretised code dimensions (N, D) and factors (N, K)."""
    return np.array(
        [[mutual_info_score(f, z) for f in factors.T] for z in discrete_codes.T], dtype=np.float64
    ).reshape(discrete_codes.shape[1], factors.shape[1])
