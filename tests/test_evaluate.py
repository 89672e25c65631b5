"""The evaluation of a run: which metric groups apply, what they record, and the baselines."""

from __future__ import annotations

import json

import pytest
import torch

from infogan.config import EvalConfig, load_preset
from infogan.data import ImageTensorDataset
from infogan.data.base import to_model_range
from infogan.data.shapes import Shapes
from infogan.errors import CheckpointError
from infogan.evaluation.data import EvalData
from infogan.evaluation.evaluate import evaluate_model
from infogan.evaluation.record import EvalRecord, Section
from infogan.models import build_model

from .conftest import FEATURE_CACHE
from .test_disentanglement import KEYS as DISENTANGLEMENT_KEYS

SMALL_EVAL = EvalConfig(
    mi_samples=64,
    batch_size=64,
    fid_samples=64,
    fidelity_samples=50,
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


@pytest.fixture(scope="module")
def full_evaluation(shapes_setup):
    """Every metric group and the baselines, evaluated once for the tests that read the result."""
    model, data = shapes_setup
    return evaluate_model(model, data, SMALL_EVAL, baselines=True)


def test_every_group_is_computed_and_timed_on_data_with_known_factors(shapes_setup, full_evaluation):
    _, data = shapes_setup
    out = full_evaluation
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
        "baselines",
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


def test_baselines_score_held_out_images_and_an_untrained_generator(full_evaluation):
    out = full_evaluation
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


def _undeclared(section: Section, where: str = "") -> list[str]:
    """The keys of a record, at any depth, that its model does not declare."""
    found = [f"{where}{key}" for key in section.model_extra or {}]
    for name in type(section).model_fields:
        value = getattr(section, name)
        for key, part in value.items() if isinstance(value, dict) else [("", value)]:
            if isinstance(part, Section):
                found += _undeclared(part, f"{where}{name}{'.' + key if key else ''}.")
    return found


def test_the_record_gives_back_a_real_evaluation_key_for_key(full_evaluation):
    written = {
        "step": 6,
        "dataset": "shapes",
        "split": "test",
        **full_evaluation,
    }  # as Run.evaluate adds them
    record = EvalRecord.model_validate(written)
    # the same JSON text: the same keys in the same order, NaN as NaN, ints as ints, no added nulls
    assert json.dumps(record.to_dict(), indent=1) == json.dumps(written, indent=1)
    assert _undeclared(record) == []  # every key the evaluation writes is typed
    assert record.codes["c1"].k == 3 and record.baselines and record.baselines.untrained
    figures = EvalRecord.model_validate({"held_out": {"elbo": -101.5, "active_units": 6}}).to_dict()
    assert figures == {"held_out": {"elbo": -101.5, "active_units": 6}}
    assert isinstance(figures["held_out"]["active_units"], int)


@pytest.mark.parametrize(
    "text, problem",
    [
        (None, "does not exist"),
        ('{"step": 6, "codes": ', "is not readable JSON"),
        ("[1, 2]", "holds a JSON list, not an evaluation record"),
        ('{"step": 6, "codes": {"c1": {"type": "discrete"}}}', "codes.c1.type: Input should be"),
    ],
)
def test_a_missing_or_malformed_eval_json_is_one_line_naming_it(tmp_path, text, problem):
    path = tmp_path / "eval.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(CheckpointError) as error:
        EvalRecord.load(path)
    message = str(error.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message
