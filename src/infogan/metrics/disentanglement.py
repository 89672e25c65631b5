"""All four disentanglement scores of a representation on data with known factors, from shared samples:
MIG (arXiv:1802.04942), DCI (Eastwood & Williams 2018), SAP (arXiv:1711.00848) and the FactorVAE score
(arXiv:1802.05983), with the definitions of disentanglement_lib (Locatello et al. 2019, arXiv:1811.12359).

MIG, DCI and SAP share one training sample and one held-out sample; the FactorVAE score takes its global
standard deviations from the same training sample and draws its own fixed-factor groups. disentanglement_lib's
sizes are the defaults: 10,000 training and 5,000 held-out images, 10,000 training and 5,000 evaluation votes. Fewer
votes are a quick look (`factorvae_protocol` says which), with the binomial standard error `factorvae_se`. See each
metric's module for its definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from infogan.metrics.dci import Predictor, dci_from_codes
from infogan.metrics.factor_vae import factor_vae_from_votes, vote_codes
from infogan.metrics.ground_truth import GroundTruthData, Represent, sample_codes
from infogan.metrics.mig import mig_from_codes
from infogan.metrics.sap import sap_from_codes

FACTOR_VAE_GROUP_SIZE = 64
# disentanglement_lib's FactorVAE votes: fewer make a quick look, not the published protocol.
FACTOR_VAE_REFERENCE_VOTES = (10_000, 5_000)


def disentanglement_scores(represent: Represent, data: GroundTruthData, **options: Any) -> dict[str, Any]:
    """MIG, DCI, SAP and FactorVAE scores of one representation; `options` are `scores_and_sample`'s."""
    return scores_and_sample(represent, data, **options)[0]


def scores_and_sample(
    represent: Represent,
    data: GroundTruthData,
    *,
    n_train: int = 10_000,
    n_test: int = 5_000,
    n_train_votes: int = FACTOR_VAE_REFERENCE_VOTES[0],
    n_eval_votes: int = FACTOR_VAE_REFERENCE_VOTES[1],
    dci_predictor: Predictor = "gbt",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """MIG, DCI, SAP and FactorVAE scores of one representation, and the encoded sample MIG was computed from,
    for further reading of the same codes (e.g. `mig.normalised_mutual_info`: what each code reads).

    Args:
        represent: images (B, C, H, W) in [-1, 1] -> codes (B, D), e.g. Q's posterior means and argmax.
        data: ground truth to sample factors and images from (e.g. `infogan.data.shapes.Shapes()`).
        n_train: images for MIG and for fitting the DCI and SAP classifiers.
        n_test: held-out images for DCI informativeness and SAP.
        n_train_votes: FactorVAE votes (groups of 64 images) that fit its majority-vote classifier.
        n_eval_votes: FactorVAE votes it is scored on.
        dci_predictor: DCI's classifiers: "gbt" (disentanglement_lib's gradient-boosted trees) or "forest".
        seed: seeds all sampling and the DCI classifiers.
        progress: called with a short message before each stage.

    Returns:
        ``{"mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "sap_correlation",
        "sap_bins", "factorvae", "factorvae_se", "factorvae_votes", "factorvae_protocol", "dci_predictor"}``; the
        scores are in [0, 1]. DCI informativeness is the held-out accuracy of the per-factor classifiers; `sap` is
        the published SAP (linear SVMs), `sap_correlation` SAP with every factor scored by squared correlation (the
        form InfoGAN-CR reports), `sap_bins` a quantile-bin variant; `factorvae_se` is the score's binomial
        standard error over the evaluation votes.
        Then the training sample's codes (n_train, D) and factors (n_train, K).
    """
    say = progress or (lambda _: None)
    generator = torch.Generator().manual_seed(seed)
    say(f"disentanglement: encoding {n_train} + {n_test} sampled images")
    codes_train, factors_train = sample_codes(represent, data, n_train, generator)
    codes_test, factors_test = sample_codes(represent, data, n_test, generator)
    say("disentanglement: MIG, DCI, SAP")
    mig = mig_from_codes(codes_train, factors_train)
    dci = dci_from_codes(
        codes_train, factors_train, codes_test, factors_test, predictor=dci_predictor, seed=seed
    )
    sap = {
        "sap": sap_from_codes(codes_train, factors_train, codes_test, factors_test, classifier="linear_svc"),
        "sap_correlation": sap_from_codes(
            codes_train, factors_train, codes_test, factors_test, classifier="correlation"
        ),
        "sap_bins": sap_from_codes(codes_train, factors_train, codes_test, factors_test, classifier="bins"),
    }
    say(
        f"disentanglement: FactorVAE, {n_train_votes} + {n_eval_votes} groups of {FACTOR_VAE_GROUP_SIZE} images"
    )
    train_votes = vote_codes(represent, data, n_train_votes, FACTOR_VAE_GROUP_SIZE, generator)
    eval_votes = vote_codes(represent, data, n_eval_votes, FACTOR_VAE_GROUP_SIZE, generator)
    factorvae = factor_vae_from_votes(
        codes_train.std(axis=0, ddof=1), train_votes, eval_votes, n_factors=len(data.factor_sizes)
    )
    votes = (n_train_votes, n_eval_votes)
    scores: dict[str, Any] = {
        "mig": mig,
        "dci_disentanglement": dci.disentanglement,
        "dci_completeness": dci.completeness,
        "dci_informativeness": dci.informativeness,
        **sap,
        "factorvae": factorvae,
        "factorvae_se": math.sqrt(factorvae * (1 - factorvae) / n_eval_votes),
        "factorvae_votes": list(votes),
        "factorvae_protocol": "reference"
        if all(n >= r for n, r in zip(votes, FACTOR_VAE_REFERENCE_VOTES, strict=True))
        else "quick",
        "dci_predictor": dci_predictor,
    }
    return scores, codes_train, factors_train
