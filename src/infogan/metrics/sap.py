"""Separated Attribute Predictability (Kumar et al. 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations", arXiv:1711.00848, Sec. 3), as disentanglement_lib computes it.

For every (code dimension, factor) pair a predictor sees only that one dimension; its score fills the matrix S
(D, K). SAP is the mean over factors of the gap between the best and second-best dimension.

The published SAP (`classifier="linear_svc"`, the default, eval.json's `sap`) treats every factor as discrete, as
disentanglement_lib's configs do for dSprites and the other datasets (`continuous_factors=False`): a LinearSVC
(C = 0.01, balanced classes) per pair, fitted on the training sample and scored by its accuracy on the held-out
one. A linear classifier on one dimension can only carve the line into intervals ordered by class, so even a
perfectly disentangled code scores far below 1 on many-valued factors (about 0.18 on an identity code of dSprites'
factors): that is the published metric's scale.

`"correlation"` (`sap_correlation`) treats every factor as continuous, disentanglement_lib's
`continuous_factors=True`: the score of a pair is the squared Pearson correlation of the code dimension with the
factor's value index, on the training sample alone. InfoGAN-CR (arXiv:1906.06034) reports SAP in this form.

`"bins"` (`sap_bins`, not a published metric) is a 1-D classifier that also reads non-monotone codes: the training
values are cut at quantiles into at most `n_bins` bins and each bin predicts its most frequent factor value.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from sklearn.svm import LinearSVC

from infogan.metrics.ground_truth import GroundTruthData, Represent, sample_codes

Classifier = Literal["bins", "linear_svc", "correlation"]


def sap_score(
    represent: Represent,
    data: GroundTruthData,
    *,
    n_train: int = 10_000,
    n_test: int = 5_000,
    classifier: Classifier = "linear_svc",
    seed: int = 0,
) -> float:
    """SAP of a representation on data with known discrete factors.

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D).
        data: ground truth to sample factors and images from.
        n_train: images the 1-D classifiers are fitted on.
        n_test: held-out images they are scored on.
        classifier: "linear_svc" (the published SAP: disentanglement_lib's choice for discrete factors),
            "correlation" (squared correlation, its choice for continuous ones) or "bins" (quantile-bin majority
            vote, not a published metric).
        seed: seeds the factor sampling.

    Returns:
        SAP in [0, 1]; higher means each factor is predicted by one dimension much better than by any other.
    """
    generator = torch.Generator().manual_seed(seed)
    codes_train, factors_train = sample_codes(represent, data, n_train, generator)
    codes_test, factors_test = sample_codes(represent, data, n_test, generator)
    return sap_from_codes(codes_train, factors_train, codes_test, factors_test, classifier=classifier)


def sap_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    classifier: Classifier = "linear_svc",
) -> float:
    """SAP from codes (N, D) and integer factors (N, K), fitted on the train arrays, scored on the test ones."""
    scores = score_matrix(codes_train, factors_train, codes_test, factors_test, classifier=classifier)
    top = -np.sort(-scores, axis=0)  # (D, K), best first
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    return float(np.mean(top[0] - second))


def score_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    classifier: Classifier = "linear_svc",
    n_bins: int = 64,
) -> np.ndarray:
    """Held-out accuracy (D, K) of predicting factor k from code dimension d alone; for "correlation", the squared
    correlation of the two on the training arrays."""
    if classifier == "correlation":
        return _squared_correlation(codes_train, factors_train)
    fit_score = binned_accuracy if classifier == "bins" else _linear_svc_accuracy
    scores = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    for d in range(codes_train.shape[1]):
        for k in range(factors_train.shape[1]):
            scores[d, k] = fit_score(
                codes_train[:, d], factors_train[:, k], codes_test[:, d], factors_test[:, k], n_bins
            )
    return scores


def binned_accuracy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, n_bins: int
) -> float:
    """Accuracy on (x_test, y_test) of majority votes in quantile bins of x_train; x (N,) float, y (N,) int."""
    # Quantile cuts adapt to any monotone rescaling of the code; np.unique merges cuts at repeated values.
    cuts = np.unique(np.quantile(x_train, np.linspace(0, 1, n_bins + 1)[1:-1]))
    bins_train = np.searchsorted(cuts, x_train, side="right")
    counts = np.zeros((len(cuts) + 1, int(max(y_train.max(), y_test.max())) + 1), dtype=np.int64)
    np.add.at(counts, (bins_train, y_train), 1)
    prediction = counts.argmax(axis=1)
    empty = counts.sum(axis=1) == 0
    prediction[empty] = counts.sum(axis=0).argmax()  # a bin without training points predicts the overall mode
    return float(np.mean(prediction[np.searchsorted(cuts, x_test, side="right")] == y_test))


def _linear_svc_accuracy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, n_bins: int
) -> float:
    """Accuracy of disentanglement_lib's LinearSVC(C=0.01, balanced) on one dimension (`n_bins` is unused)."""
    if np.unique(y_train).size < 2:
        return float(np.mean(y_test == y_train[0]))  # a single class needs no classifier
    svc = LinearSVC(C=0.01, class_weight="balanced")
    svc.fit(x_train[:, None], y_train)
    return float(np.mean(svc.predict(x_test[:, None]) == y_test))


def _squared_correlation(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation (D, K) of each code dimension with each factor; 0 for a constant dimension."""
    z = codes - codes.mean(axis=0)
    v = factors - factors.mean(axis=0)
    covariance = z.T @ v / (len(z) - 1)
    var_z, var_v = z.var(axis=0, ddof=1), v.var(axis=0, ddof=1)
    varies = np.outer(var_z > 1e-12, var_v > 0)
    return np.divide(covariance**2, np.outer(var_z, var_v), out=np.zeros_like(covariance), where=varies)
