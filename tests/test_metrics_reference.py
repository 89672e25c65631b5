"""MIG, SAP, DCI and the FactorVAE score pinned to the published metrics' reference implementation.

The values below were computed once, outside the project, by disentanglement_lib's own metric functions
(google-research/disentanglement_lib, evaluation/metrics: `mig._compute_mig` with its 20-bin histogram
discretiser, `sap_score._compute_sap` with `continuous_factors` False and True, `dci._compute_dci`, and
`factor_vae.compute_factor_vae` with 64 images per vote, 10,000 training and 5,000 evaluation votes, 10,000 images
for the variances and `prune_dims.threshold` 0.05), with its `gin` and `six` imports stubbed and each DCI
classifier given `random_state=0` (the reference leaves it unset; it only decides ties between equally good splits,
and the project seeds it), on the synthetic codes of tests/reference_codes.py, with numpy 2 and scikit-learn 1.9.1.
MIG, SAP and DCI read the same arrays as the reference did, so they must agree to rounding; the FactorVAE score
samples its own votes, so it must agree within its sampling error.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infogan.metrics.dci import dci_from_codes
from infogan.metrics.factor_vae import factor_vae_score
from infogan.metrics.mig import mig_from_codes
from infogan.metrics.sap import sap_from_codes

from .reference_codes import CODES, SIZES, factors_and_codes, transform

# disentanglement_lib's values: MIG, SAP (discrete factors: linear SVMs), SAP with continuous factors (squared
# correlation), FactorVAE (evaluation accuracy), and DCI (disentanglement, completeness, test informativeness) on
# the first 500 training and 250 test rows, of the first two factors (shape and scale: 9 classes, quick to fit) and
# of all five (113 classes: minutes of gradient boosting, a slow test).
REFERENCE = {
    "identity": {
        "mig": 0.896349673596949,
        "sap": 0.18352,
        "sap_correlation": 0.9998399566626492,
        "factorvae": 1.0,
        "dci_two": (0.9999999996201407, 0.9999999993456206, 1.0),
        "dci_small": (0.999977367188586, 0.9999773672167187, 1.0),
    },
    "rotation": {
        "mig": 0.07141085101500763,
        "sap": 0.029919999999999974,
        "sap_correlation": 0.17245516170859965,
        "factorvae": 0.7726,
        "dci_two": (0.29795160641811325, 0.1850320627813704, 0.8140000000000001),
        "dci_small": (0.07899623467827424, 0.08447947159219694, 0.3712000000000001),
    },
    "noisy": {
        "mig": 0.7225690917732731,
        "sap": 0.20756000000000002,
        "sap_correlation": 0.9864045252409104,
        "factorvae": 1.0,
        "dci_two": (0.9999682522996605, 0.9871763290727369, 1.0),
        "dci_small": (0.5405541522204474, 0.5573836908252002, 0.5648),
    },
    "entangled": {
        "mig": 0.07392967102684682,
        "sap": 0.0378,
        "sap_correlation": 0.1919291124311588,
        "factorvae": 0.7584,
        "dci_two": (0.31381962354796256, 0.20410952779502323, 0.788),
        "dci_small": (0.10426195163184883, 0.09436171157533173, 0.3672000000000001),
    },
    "constant": {
        "mig": 0.6964109720423249,
        "sap": 0.04703999999999999,
        "sap_correlation": 0.7997882695137585,
        "factorvae": 0.8018,
        "dci_two": (0.6987840067751694, 0.5837625155183621, 0.6739999999999999),
        "dci_small": (0.6921878228272177, 0.831927565609839, 0.8695999999999999),
    },
}


@pytest.fixture(scope="module", params=CODES)
def code(request):
    return request.param, factors_and_codes(request.param)


def test_mig_is_the_references(code):
    name, (f_train, c_train, _, _) = code
    assert mig_from_codes(c_train, f_train) == pytest.approx(REFERENCE[name]["mig"], abs=1e-12)


def test_sap_is_the_references_with_linear_svms_and_with_correlations(code):
    name, (f_train, c_train, f_test, c_test) = code
    assert sap_from_codes(c_train, f_train, c_test, f_test) == pytest.approx(REFERENCE[name]["sap"], abs=1e-9)
    correlation = sap_from_codes(c_train, f_train, c_test, f_test, classifier="correlation")
    assert correlation == pytest.approx(REFERENCE[name]["sap_correlation"], abs=1e-9)


def test_dci_with_gradient_boosted_trees_is_the_references(code):
    name, (f_train, c_train, f_test, c_test) = code
    dci = dci_from_codes(c_train[:500], f_train[:500, :2], c_test[:250], f_test[:250, :2])
    expected = REFERENCE[name]["dci_two"]
    assert (dci.disentanglement, dci.completeness, dci.informativeness) == pytest.approx(expected, abs=1e-9)


@pytest.mark.slow
def test_dci_of_all_five_factors_is_the_references(code):
    name, (f_train, c_train, f_test, c_test) = code
    dci = dci_from_codes(c_train[:500], f_train[:500], c_test[:250], f_test[:250])
    expected = REFERENCE[name]["dci_small"]
    assert (dci.disentanglement, dci.completeness, dci.informativeness) == pytest.approx(expected, abs=1e-9)


class Factors:
    """Ground truth whose 'images' are the factor rows themselves, (N, K, 1, 1)."""

    factor_names = ("shape", "scale", "orientation", "x", "y")
    factor_sizes = SIZES

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.stack([torch.randint(s, (n,), generator=generator) for s in SIZES], dim=1)

    def render(self, factors: torch.Tensor) -> torch.Tensor:
        # encode_factors maps [0, 1] to [-1, 1]; represent() below undoes it exactly for small integers
        return factors.double().view(-1, len(SIZES), 1, 1) / 64


def test_factor_vae_is_the_references_within_its_sampling_error(code):
    name, _ = code
    noise = np.random.RandomState(7)

    def represent(x: torch.Tensor) -> torch.Tensor:
        factors = np.rint((x.flatten(1).double().numpy() + 1) / 2 * 64).astype(np.int64)
        return torch.from_numpy(transform(name, factors, noise))

    score = factor_vae_score(represent, Factors(), n_train_votes=10_000, n_eval_votes=5_000, seed=3)
    expected = REFERENCE[name]["factorvae"]
    # both are accuracies over 5,000 votes: three standard errors of their difference
    tolerance = 3 * np.sqrt(2 * expected * (1 - expected) / 5_000) + 1e-9
    assert abs(score - expected) <= tolerance
