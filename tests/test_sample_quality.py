"""FID, KID and precision/recall: the definitions on known features, and the sanity checks of the issue on real
digits in the project's classifier feature space."""

from __future__ import annotations

import math

import pytest
import torch

from infogan import data as datasets
from infogan.config import DataConfig
from infogan.evaluation.features import FeatureClassifier, accuracy, classifier_extractor, sample_quality
from infogan.metrics.fid import fid_kid
from infogan.metrics.precision_recall import precision_recall


def _gauss(n: int, dim: int, mean: float = 0.0, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)) + mean


def test_fid_of_two_gaussians_matches_the_closed_form():
    # Same covariance (identity), means differ by m in every one of d dimensions: FID = d * m^2 (+ sampling noise).
    real, fake = _gauss(4000, 4, seed=1), _gauss(4000, 4, mean=1.0, seed=2)
    assert fid_kid(real, fake, kid_subsets=5, kid_subset_size=200)["fid"] == pytest.approx(4.0, rel=0.1)


def test_same_distribution_scores_near_zero_and_a_shift_does_not():
    real, same, shifted = _gauss(2000, 8, seed=1), _gauss(2000, 8, seed=2), _gauss(2000, 8, mean=0.5, seed=3)
    near = fid_kid(real, same, kid_subsets=10, kid_subset_size=500)
    far = fid_kid(real, shifted, kid_subsets=10, kid_subset_size=500)
    assert near["fid"] < 0.05 and abs(near["kid"]) < 0.01
    assert far["fid"] > 1.5 and far["kid"] > 0.1


def test_kid_is_repeatable_for_a_seed():
    real, fake = _gauss(500, 4, seed=1), _gauss(500, 4, mean=0.2, seed=2)
    assert fid_kid(real, fake, kid_subsets=10, seed=3) == fid_kid(real, fake, kid_subsets=10, seed=3)


def test_feature_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same F"):
        fid_kid(_gauss(10, 3), _gauss(10, 4))


def test_precision_recall_of_identical_sets_is_one_and_of_disjoint_sets_zero():
    real = _gauss(300, 2, seed=1)
    assert precision_recall(real, real.clone()) == {"precision": 1.0, "recall": 1.0}
    assert precision_recall(real, real + 100.0) == {"precision": 0.0, "recall": 0.0}


def test_mode_collapse_keeps_precision_and_loses_recall():
    real = _gauss(1000, 2, seed=1)
    collapsed = real[real[:, 0] > 1.0]  # generated samples cover only one tail of the real data
    collapsed = collapsed.repeat(1000 // len(collapsed) + 1, 1)[:1000] + 1e-3 * _gauss(1000, 2, seed=2)
    pr = precision_recall(real, collapsed)
    assert pr["precision"] > 0.9 and pr["recall"] < 0.3


@pytest.fixture(scope="module")
def digits_features(tmp_path_factory):
    cfg = DataConfig(name="digits")
    train, test = datasets.build(cfg, "train"), datasets.build(cfg, "test")
    cache = tmp_path_factory.mktemp("features")
    return classifier_extractor(train, test, 10, cache_dir=cache, steps=150, seed=0), train, test, cache


def test_feature_classifier_learns_digits_and_records_its_accuracy(digits_features):
    extract, _, test, _ = digits_features
    assert extract.info["test_accuracy"] > 0.85
    assert extract.info["dataset"] == "digits" and extract.info["image_shape"] == [1, 8, 8]
    assert isinstance(extract.net, FeatureClassifier)
    assert accuracy(extract.net, test) == pytest.approx(extract.info["test_accuracy"])
    assert extract(test.images[:7]).shape == (7, 128)


def test_feature_classifier_is_cached_and_reloaded_identically(digits_features):
    extract, train, test, cache = digits_features
    again = classifier_extractor(train, test, 10, cache_dir=cache, steps=150, seed=0)
    assert again.info == extract.info
    assert torch.equal(again(test.images[:5]), extract(test.images[:5]))


def test_real_images_score_near_zero_noise_raises_fid_monotonically_and_constants_score_worst(
    digits_features,
):
    extract, train, test, _ = digits_features
    floor = sample_quality(extract, train.images, test.images)
    g = torch.Generator().manual_seed(0)
    noisy = [
        sample_quality(
            extract,
            train.images,
            (test.images + s * torch.randn(test.images.shape, generator=g)).clamp(-1, 1),
        )
        for s in (0.2, 0.5, 1.0)
    ]
    constant = sample_quality(extract, train.images, torch.zeros_like(test.images))
    fids = [floor["fid"]] + [r["fid"] for r in noisy]
    assert fids == sorted(fids) and fids[1] > 1.5 * fids[0]
    assert constant["fid"] > 10 * floor["fid"]
    assert floor["precision"] > 0.7 and floor["recall"] > 0.7
    assert constant["recall"] == 0.0
    assert floor["features"]["n_real"] == len(train) and floor["features"]["n_fake"] == len(test)
    assert all(math.isfinite(v) for v in (floor["kid"], constant["kid"]))
