"""Disentanglement of a model's representation on data with known factors: MIG, DCI, SAP and the FactorVAE score
as disentanglement_lib computes them (Locatello et al. 2019, arXiv:1811.12359), and what each code dimension reads
of each factor."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from infogan.config import EvalConfig
from infogan.metrics.disentanglement import scores_and_sample
from infogan.metrics.ground_truth import GroundTruthData
from infogan.metrics.mig import normalised_mutual_info
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn


def evaluate_disentanglement(
    model: GenerativeModel, ground_truth: GroundTruthData, cfg: EvalConfig, progress: ProgressFn
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The scores of `model.represent` (a model that `encodes_images`) as eval.json records them, and the encoded sample MIG was computed from:
    codes (N, D) and factors (N, K)."""

    def represent(x: Tensor) -> Tensor:
        return model.represent(x.to(model.device))

    scores, codes, factors = scores_and_sample(
        represent,
        ground_truth,
        n_train=cfg.factor_samples,
        n_test=cfg.factor_samples // 2,
        n_train_votes=cfg.factor_votes,
        n_eval_votes=cfg.factor_votes // 2,
        dci_predictor=cfg.dci_predictor,
        seed=cfg.seed,
        progress=progress,
    )
    return {**scores, "representation": f"{type(model).__name__}.represent"}, codes, factors


def code_factor_mi(
    model: GenerativeModel, ground_truth: GroundTruthData, codes: np.ndarray, factors: np.ndarray
) -> dict[str, dict[str, float]]:
    """{code dimension: {factor: I(z_d; v_k) / H(v_k)}} on MIG's sample (`codes`, `factors`), dimensions named
    after the model's codes (a categorical code's classes as name[j]) where it has them, else z0, z1, ..."""
    matrix = normalised_mutual_info(codes, factors)
    names = [f"{c.name}[{j}]" if c.is_categorical else c.name for c in model.latent.codes for j in range(c.k)]
    if len(names) != matrix.shape[0]:
        names = [f"z{d}" for d in range(matrix.shape[0])]
    return {
        name: {f: round(float(v), 4) for f, v in zip(ground_truth.factor_names, row, strict=True)}
        for name, row in zip(names, matrix, strict=True)
    }
