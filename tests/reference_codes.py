"""Fixed synthetic codes of dSprites-sized factors on which the disentanglement metrics are pinned to reference
values (tests/test_metrics_reference.py). Every array comes from a seeded numpy generator, so the same arrays are
rebuilt wherever this module is imported.

A code is a function of the factors' values scaled to [0, 1] (value index / (size - 1)):
    identity      each dimension is one factor
    rotation      the identity turned by a fixed random rotation: every dimension mixes every factor
    noisy         each dimension is tanh of one factor (centred, scaled by 2) plus N(0, 0.05)
    entangled     eight dimensions, each a fixed random Gaussian mix of all five factors
    constant      the identity with its first dimension held at 0: the code carries nothing about the shape
"""

from __future__ import annotations

import numpy as np

SIZES = (3, 6, 40, 32, 32)  # dSprites: shape, scale, orientation, x, y
CODES = ("identity", "rotation", "noisy", "entangled", "constant")
N_TRAIN, N_TEST = 10_000, 5_000

_FIXED = np.random.default_rng(1234)
ROTATION = np.linalg.qr(_FIXED.normal(size=(5, 5)))[0]  # (5, 5) orthogonal
MIX = _FIXED.normal(size=(5, 8))  # (K, D) entangling weights


def sample_factors(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, K) int64 factor rows, each factor uniform over its values."""
    return np.stack([rng.integers(size, size=n) for size in SIZES], axis=1)


def transform(name: str, factors: np.ndarray, noise: np.random.RandomState) -> np.ndarray:
    """The code (n, D) float64 of factor rows (n, K); `noise` draws the noisy code's N(0, 0.05)."""
    values = factors / (np.asarray(SIZES) - 1)  # (n, K) in [0, 1]
    if name == "identity":
        return values.astype(np.float64)
    if name == "constant":
        return np.concatenate([np.zeros((len(values), 1)), values[:, 1:]], axis=1)
    if name == "rotation":
        return values @ ROTATION
    if name == "noisy":
        return np.tanh(2 * values - 1) + noise.normal(0, 0.05, size=values.shape)
    if name == "entangled":
        return values @ MIX
    raise ValueError(f"unknown code {name}")


def factors_and_codes(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training factors (N_TRAIN, K) and codes, then test factors (N_TEST, K) and codes, for one named code."""
    rng = np.random.default_rng(CODES.index(name))
    noise = np.random.RandomState(CODES.index(name))
    f_train, f_test = sample_factors(N_TRAIN, rng), sample_factors(N_TEST, rng)
    return f_train, transform(name, f_train, noise), f_test, transform(name, f_test, noise)
