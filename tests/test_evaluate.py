"""The evaluation of a run: which metric groups apply, what they record, and the baselines."""

from __future__ import annotations

import pytest
import torch

from infogan.config import EvalConfig, load_preset
from infogan.data import ImageTensorDataset
from infogan.data.base import to_model_range
from infogan.data.shapes import Shapes
from infogan.evaluation.data import EvalData
from infogan.evaluation.evaluate import evaluate_model
from infogan.models import build_model

from .conftest import FEATURE_CACHE
from .test_disentanglement import KEYS as DISENTANGLEMENT_KEYS

SMALL_EVAL = EvalConfig(
    mi_samples=64,
    batch_size=64,
    fid_samples=64,
    feature_steps=20,
    feature_cache=FEATURE_CACHE,
    semantics_draws=4,
    semantics_steps=3,
    factor_samples=200,
    factor_votes=10,
    dci_predictor="forest",
)


@pytest.fixture(scope="module")
def shapes_setup():
    truth = Shapes(16)
    g = torch.Generator().manual_seed(0)
    factors, images = truth.sample(160, generator=g)
    labelled = ImageTensorDataset("shapes", to_model_range(images), factors[:, 0].clone())
    data = EvalData(reference=labelled, held_out=labelled, num_classes=3, ground_truth=truth)
    cfg = load_preset(
        "shapes",
        [
            "model.latent.noise=2",
            "model.g_hidden=16",
            "model.d_hidden=16",
            "model.width=4",
            "model.q_hidden=8",
        ],
    )
    torch.manual_seed(0)
    return build_model(cfg.model, (1, 16, 16)).eval(), data


def test_every_group_is_computed_and_timed_on_data_with_known_factors(shapes_setup):
    model, data = shapes_setup
    out = evaluate_model(model, data, SMALL_EVAL)
    scores = out["disentanglement"]
    for key in DISENTANGLEMENT_KEYS:
        assert 0.0 <= scores[key] <= 1.0, key
    assert set(out["code_semantics"]) == {"c2", "c3", "c4", "c5"}
    assert out["codes"]["c1"]["k"] == 3 and "accuracy" in out["codes"]["c1"]
    assert out["features"]["reference"] == "shapes train split" and out["features"]["n_real"] == 160
    assert 0 <= out["codes"]["c1"]["fidelity"] <= 1 and len(out["codes"]["c1"]["fidelity_per_category"]) == 3
    assert set(out["timings"]) == {
        "codes",
        "fidelity",
        "features",
        "quality",
        "semantics",
        "disentanglement",
        "code_factor_mi",
    }
    reads = out["code_factor_mi"]  # each representation dimension, named after its code
    assert list(reads) == ["c1[0]", "c1[1]", "c1[2]", "c2", "c3", "c4", "c5"]
    assert all(list(row) == list(data.ground_truth.factor_names) for row in reads.values())
    assert all(0 <= v <= 1 for row in reads.values() for v in row.values())
    assert out["notes"] == [next(n for n in out["notes"] if "64 generated images are too few" in n)]


def test_posterior_representation_is_probabilities_then_means(shapes_setup):
    model, data = shapes_setup
    rep = model.represent(data.held_out.images[:5])
    assert rep.shape == (5, 3 + 4)
    assert torch.allclose(rep[:, :3].sum(dim=1), torch.ones(5))


def test_only_the_requested_groups_run(shapes_setup):
    model, data = shapes_setup
    out = evaluate_model(model, data, SMALL_EVAL.model_copy(update={"metrics": ["semantics"]}))
    assert set(out) == {"code_semantics", "timings"}


def test_unlabelled_data_skips_quality_with_a_note(shapes_setup):
    model, data = shapes_setup
    unlabelled = ImageTensorDataset("folder", data.reference.images)
    out = evaluate_model(
        model, EvalData(unlabelled, unlabelled), SMALL_EVAL.model_copy(update={"metrics": ["quality"]})
    )
    assert "fid" not in out and "no labels" in out["notes"][0]


def test_baselines_score_held_out_images_and_an_untrained_generator(shapes_setup):
    model, data = shapes_setup
    cfg = SMALL_EVAL.model_copy(update={"metrics": ["quality", "semantics", "disentanglement"]})
    out = evaluate_model(model, data, cfg, baselines=True)
    base = out["baselines"]
    assert base["held_out"]["features"]["n_fake"] == 64
    assert (
        base["held_out"]["fid"] < base["untrained"]["fid"]
    )  # real images beat a generator that learnt nothing
    assert set(base["untrained"]["code_semantics"]) == {"c2", "c3", "c4", "c5"}
    assert 0 <= base["untrained"]["disentanglement"]["mig"] <= 1
    # what each code of the untrained Q reads, named as the trained model's are
    assert set(base["untrained"]["code_factor_mi"]) == set(out["code_factor_mi"])


def test_every_metric_group_the_config_names_has_one_registry_entry():
    from infogan.config import METRIC_GROUP_NAMES
    from infogan.evaluation.groups import METRIC_GROUPS

    assert tuple(METRIC_GROUPS) == METRIC_GROUP_NAMES
