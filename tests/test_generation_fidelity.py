"""Generation fidelity: the share of G's images for each category that a classifier reads as the category's
matched label (metrics/generation_fidelity.py), alone and inside `infogan eval`."""

from __future__ import annotations

import pytest
import torch

from infogan.config import load_preset
from infogan.data import ImageTensorDataset
from infogan.evaluation.data import EvalData
from infogan.evaluation.evaluate import evaluate_model
from infogan.metrics.generation_fidelity import generation_fidelity
from infogan.models import build_model

from .conftest import TINY
from .test_evaluate import SMALL_EVAL

# Ten classes a classifier can read without error: an 8x8 image whose grey level is the class.
LEVELS = torch.linspace(-0.9, 0.9, 10)
# The label each category of the tests' code is matched to: a permutation, so that a mix-up would show.
MAPPING = [3, 7, 0, 9, 1, 5, 2, 8, 4, 6]


def images_of(classes: torch.Tensor) -> torch.Tensor:
    return LEVELS[classes].view(-1, 1, 1, 1).expand(-1, 1, 8, 8).clone()


def read_level(x: torch.Tensor) -> torch.Tensor:
    return (x.mean(dim=(1, 2, 3)).unsqueeze(1) - LEVELS).abs().argmin(dim=1)


def test_a_generator_drawing_each_categorys_class_has_fidelity_1():
    out = generation_fidelity(lambda k, n: images_of(torch.full((n,), MAPPING[k])), read_level, MAPPING, 300)
    assert out == {"fidelity": 1.0, "fidelity_per_category": [1.0] * 10, "fidelity_samples": 300}


def test_a_generator_that_ignores_the_code_has_fidelity_about_one_in_ten():
    g = torch.Generator().manual_seed(0)
    out = generation_fidelity(
        lambda k, n: images_of(torch.randint(10, (n,), generator=g)), read_level, MAPPING
    )
    # 10 x 1,000 draws with p = 0.1: a standard error of 0.003
    assert abs(out["fidelity"] - 0.1) < 0.015
    assert all(0.05 < share < 0.15 for share in out["fidelity_per_category"])


def test_a_generator_with_one_wrong_category_loses_a_tenth_and_shows_where():
    wrong = {4: 0}  # category 4 draws label 0, which category 2 stands for
    out = generation_fidelity(
        lambda k, n: images_of(torch.full((n,), wrong.get(k, MAPPING[k]))), read_level, MAPPING, 50
    )
    assert out["fidelity"] == pytest.approx(0.9)
    assert out["fidelity_per_category"][4] == 0.0


def test_unmatched_categories_have_no_share_and_stay_out_of_the_mean():
    mapping = [1, -1, 0]
    out = generation_fidelity(
        lambda k, n: images_of(torch.full((n,), max(k - 1, 0))), read_level, mapping, 20
    )
    assert out["fidelity_per_category"] == [0.0, None, 0.0] and out["fidelity"] == 0.0
    with pytest.raises(ValueError, match="no category is matched"):
        generation_fidelity(lambda k, n: images_of(torch.zeros(n, dtype=torch.long)), read_level, [-1, -1], 5)


@pytest.fixture(scope="module")
def levels_data() -> EvalData:
    classes = torch.arange(600) % 10
    noisy = images_of(classes) + 0.02 * torch.randn(600, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    labelled = ImageTensorDataset("levels", noisy.clamp(-1, 1), classes)
    return EvalData(reference=labelled, held_out=labelled, num_classes=10)


def rule_model(draws_its_class: bool):
    """A tiny InfoGAN whose Q reads category MAPPING.index(label) off a real image, and whose G, asked for
    category k, draws label MAPPING[k] (or, not `draws_its_class`, a random label)."""
    torch.manual_seed(0)
    model = build_model(load_preset("digits", TINY).model, (1, 8, 8)).eval()
    to_category = torch.tensor([MAPPING.index(label) for label in range(10)])

    def infer_codes(x):
        logits = torch.nn.functional.one_hot(to_category[read_level(x)], 10).float() * 10
        return {"c1": {"logits": logits}, **{name: {"mean": torch.zeros(len(x))} for name in ("c2", "c3")}}

    def sample(n, *, codes=None, generator=None):
        if draws_its_class:
            return images_of(torch.full((n,), MAPPING[int(codes["c1"])]))
        return images_of(torch.randint(10, (n,), generator=generator))

    model.infer_codes, model.sample = infer_codes, sample
    return model


@pytest.mark.parametrize(("draws_its_class", "expected"), [(True, 1.0), (False, 0.1)])
def test_eval_reports_generation_fidelity_with_the_categories_matched_on_real_images(
    levels_data, draws_its_class, expected
):
    cfg = SMALL_EVAL.model_copy(update={"metrics": ["codes"], "feature_steps": 300, "fidelity_samples": 500})
    out = evaluate_model(rule_model(draws_its_class), levels_data, cfg)
    c1 = out["codes"]["c1"]
    assert c1["accuracy"] == 1.0 and c1["mapping"] == MAPPING
    assert c1["fidelity"] == pytest.approx(expected, abs=0.03) and len(c1["fidelity_per_category"]) == 10
    assert c1["fidelity_samples"] == 500 and c1["fidelity_classifier"]["network"] == "classifier"
    assert "fidelity" in out["timings"]


def test_eval_without_labels_has_no_fidelity_and_says_why(levels_data):
    unlabelled = ImageTensorDataset("folder", levels_data.held_out.images)
    cfg = SMALL_EVAL.model_copy(update={"metrics": ["codes"]})
    out = evaluate_model(rule_model(True), EvalData(None, unlabelled), cfg)
    assert "fidelity" not in out["codes"]["c1"]
    assert out["notes"] == ["codes: no generation fidelity: folder has no labels to match categories to"]
