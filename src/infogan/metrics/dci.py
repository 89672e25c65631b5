"""Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018, "A Framework for the
Quantitative Evaluation of Disentangled Representations", ICLR, openreview By-7dz-AZ), as disentanglement_lib
computes it.

One classifier per factor predicts it from all code dimensions; its feature importances form column k of the
importance matrix R (D, K). With P_dk = R_dk / sum_k R_dk, disentanglement = sum_d rho_d (1 - H_K(P_d.)) where
rho_d = sum_k R_dk / sum R; completeness = sum_k rho_k (1 - H_D(R_.k / sum_d R_dk)) with rho_k the factor's share
of R. Informativeness is the mean held-out *accuracy* of the per-factor classifiers (higher is better; chance is
about 1 / factor size), as disentanglement_lib reports it (`informativeness_test`), not an error.

The predictor (`predictor`) is disentanglement_lib's by default: scikit-learn's `GradientBoostingClassifier()`
with its default settings ("gbt"; 100 stages of depth-3 trees, one tree per class per stage), seeded for
repeatability. `"forest"` fits a random forest instead (Eastwood & Williams used lasso and random forests
themselves): faster, but its importances spread differently, so its scores are not the published DCI. It
considers every dimension at every split (`max_features=None`: scikit-learn's default of sqrt(D) random candidates
forces splits on uninformative dimensions) and keeps >= 5 samples per leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from infogan.metrics.ground_truth import GroundTruthData, Represent, sample_codes

Predictor = Literal["gbt", "forest"]


@dataclass(frozen=True)
class DCI:
    """DCI scores of one representation.

    Attributes:
        disentanglement: in [0, 1]; 1 when each code dimension predicts at most one factor.
        completeness: in [0, 1]; 1 when each factor is predicted by a single code dimension.
        informativeness: mean held-out accuracy of the per-factor classifiers, in [0, 1].
        importance: (D, K) non-negative importance of code dimension d for factor k.
    """

    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray


def dci_scores(
    represent: Represent,
    data: GroundTruthData,
    *,
    n_train: int = 10_000,
    n_test: int = 5_000,
    predictor: Predictor = "gbt",
    seed: int = 0,
) -> DCI:
    """DCI of a representation on data with known factors.

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D).
        data: ground truth to sample factors and images from.
        n_train: images the classifiers are fitted on.
        n_test: held-out images for informativeness.
        predictor: "gbt" (disentanglement_lib's gradient-boosted trees) or "forest" (a random forest).
        seed: seeds the factor sampling and the classifiers.
    """
    generator = torch.Generator().manual_seed(seed)
    codes_train, factors_train = sample_codes(represent, data, n_train, generator)
    codes_test, factors_test = sample_codes(represent, data, n_test, generator)
    return dci_from_codes(
        codes_train, factors_train, codes_test, factors_test, predictor=predictor, seed=seed
    )


def dci_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    predictor: Predictor = "gbt",
    seed: int = 0,
) -> DCI:
    """DCI from codes (N, D) and integer factors (N, K), fitted on the train arrays, scored on the test ones."""
    importance, accuracy = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, predictor=predictor, seed=seed
    )
    return DCI(disentanglement(importance), completeness(importance), float(accuracy.mean()), importance)


def importance_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    predictor: Predictor = "gbt",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Importances (D, K) and the held-out accuracy (K,) of each factor's classifier. A factor that never varies
    in the training sample has nothing to predict: its column of importances is 0 and its accuracy 1."""
    n_codes, n_factors = codes_train.shape[1], factors_train.shape[1]
    importance = np.zeros((n_codes, n_factors))
    accuracy = np.zeros(n_factors)
    for k in range(n_factors):
        if np.unique(factors_train[:, k]).size < 2:
            accuracy[k] = np.mean(factors_test[:, k] == factors_train[0, k])
            continue
        model = _classifier(predictor, seed)
        model.fit(codes_train, factors_train[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy[k] = np.mean(model.predict(codes_test) == factors_test[:, k])
    return importance, accuracy


def _classifier(predictor: Predictor, seed: int) -> GradientBoostingClassifier | RandomForestClassifier:
    if predictor == "gbt":
        return GradientBoostingClassifier(random_state=seed)
    return RandomForestClassifier(
        n_estimators=10, max_features=None, min_samples_leaf=5, random_state=seed, n_jobs=1
    )


def disentanglement(importance: np.ndarray) -> float:
    """Importance-weighted mean over code dimensions of 1 - H_K(P_d.), for R (D, K)."""
    return _weighted_score(importance)


def completeness(importance: np.ndarray) -> float:
    """Importance-weighted mean over factors of 1 - H_D(R_.k normalised), for R (D, K)."""
    return _weighted_score(importance.T)


def _weighted_score(importance: np.ndarray) -> float:
    """sum_r w_r (1 - H(row r)), entropies in base (number of columns), w_r = row r's share of the total."""
    if importance.shape[1] < 2:
        return 1.0  # with a single column every row is concentrated on it
    # The tiny offset makes an all-zero row uniform (entropy 1, score 0) instead of undefined.
    per_row = np.clip(1.0 - entropy(importance.T + 1e-11, base=importance.shape[1]), 0.0, 1.0)  # rounding
    total = importance.sum()
    weights = (
        importance.sum(axis=1) / total if total > 0 else np.full(importance.shape[0], 1.0 / len(per_row))
    )
    return float(np.sum(per_row * weights))
