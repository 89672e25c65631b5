"""FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising", arXiv:1802.05983, Sec. 4),
following disentanglement_lib.

Each code dimension is divided by its standard deviation over a global sample. A vote draws a group of images
sharing the value of one random factor k; the dimension with the least normalised variance within the group votes
for k. A majority-vote classifier (dimension -> the factor it voted for most on training votes) is scored on fresh
evaluation votes; the score is its accuracy, with chance at 1 / K.

Dimensions whose global standard deviation (of the raw code) is below `prune_threshold` are collapsed and never
vote (disentanglement_lib's `prune_dims.threshold = 0.05`). If every dimension is collapsed the score is 0, as in
disentanglement_lib, rather than chance: such a representation carries no information at all.
"""

from __future__ import annotations

import numpy as np
import torch

from infogan.metrics.ground_truth import (
    GroundTruthData,
    Represent,
    encode_factors,
    sample_codes,
    sample_fixed_factor,
)


def factor_vae_score(
    represent: Represent,
    data: GroundTruthData,
    *,
    n_train_votes: int = 800,
    n_eval_votes: int = 400,
    group_size: int = 64,
    n_variance: int = 10_000,
    prune_threshold: float = 0.05,
    seed: int = 0,
) -> float:
    """FactorVAE score of a representation on data with known factors.

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D).
        data: ground truth to sample factors and images from.
        n_train_votes: votes that fit the majority-vote classifier.
        n_eval_votes: votes it is scored on.
        group_size: images per vote sharing one factor value (the paper's L; 64 in disentanglement_lib).
        n_variance: images for the global standard deviation of each dimension.
        prune_threshold: dimensions with a global standard deviation below this never vote.
        seed: seeds the factor sampling.

    Returns:
        Evaluation accuracy of the majority-vote classifier, in [0, 1].
    """
    generator = torch.Generator().manual_seed(seed)
    global_codes, _ = sample_codes(represent, data, n_variance, generator)
    train_fixed, train_codes = vote_codes(represent, data, n_train_votes, group_size, generator)
    eval_fixed, eval_codes = vote_codes(represent, data, n_eval_votes, group_size, generator)
    return factor_vae_from_votes(
        global_codes.std(axis=0, ddof=1),
        (train_fixed, train_codes),
        (eval_fixed, eval_codes),
        n_factors=len(data.factor_sizes),
        prune_threshold=prune_threshold,
    )


def vote_codes(
    represent: Represent, data: GroundTruthData, n_votes: int, group_size: int, generator: torch.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of `n_votes` groups of images with one factor held fixed per group.

    Returns:
        fixed: (V,) int64 index of the fixed factor of each group.
        codes: (V, group_size, D) float64.
    """
    fixed, factors = sample_fixed_factor(data, n_votes, group_size, generator)
    codes = encode_factors(represent, data, factors.flatten(0, 1))
    return fixed.numpy(), codes.reshape(n_votes, group_size, -1)


def factor_vae_from_votes(
    global_std: np.ndarray,
    train: tuple[np.ndarray, np.ndarray],
    evaluation: tuple[np.ndarray, np.ndarray],
    *,
    n_factors: int,
    prune_threshold: float = 0.05,
) -> float:
    """FactorVAE score from the global std (D,) and (fixed (V,), group codes (V, M, D)) for train and eval votes."""
    active = global_std >= prune_threshold
    if not active.any():
        return 0.0
    train_votes = votes(*train, global_std, active, n_factors)  # (K, D)
    eval_votes = votes(*evaluation, global_std, active, n_factors)
    classifier = train_votes.argmax(axis=0)  # (D,): the factor each dimension stands for
    correct = eval_votes[classifier, np.arange(eval_votes.shape[1])].sum()
    return float(correct / max(eval_votes.sum(), 1))


def votes(
    fixed: np.ndarray, group_codes: np.ndarray, global_std: np.ndarray, active: np.ndarray, n_factors: int
) -> np.ndarray:
    """(K, D) counts: how often dimension d had the least normalised variance in a group with factor k fixed.

    Args:
        fixed: (V,) index of the factor fixed in each group.
        group_codes: (V, M, D) codes of each group.
        global_std: (D,) standard deviation of each dimension over the global sample.
        active: (D,) bool, dimensions allowed to vote.
        n_factors: K.
    """
    # Inactive dimensions get an infinite variance so argmin skips them; their std may be 0, so never divide by it.
    scale = np.where(active, global_std, 1.0)
    local = np.where(active, group_codes.var(axis=1, ddof=1) / scale**2, np.inf)  # (V, D)
    counts = np.zeros((n_factors, group_codes.shape[2]), dtype=np.int64)
    np.add.at(counts, (fixed, local.argmin(axis=1)), 1)
    return counts
