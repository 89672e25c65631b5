"""Unsupervised model selection by ModelCentrality: generators as data with known factors, pairwise FactorVAE
scores, and the pick."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import Tensor

from infogan.api import train
from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.experiments.select import (
    GeneratorFactors,
    Protocol,
    model_centrality,
    most_central,
    pairwise_scores,
)
from infogan.latent import Latent, LatentSpec

from .conftest import TINY, invoke

SMALL = Protocol(votes=40, group_size=16, variance_images=400, bins=5)


class CodeWriter:
    """A stand-in model whose images carry its codes in the first pixels and whose representation reads them
    back through `mixing` (the identity reads them exactly; noise reads nothing)."""

    encodes_images = True  # as the model contract says of a model with `represent`

    def __init__(self, mixing: Tensor | None) -> None:
        self.latent = LatentSpec.parse(2, ["cat:3", "uniform:2"])
        self.device = torch.device("cpu")
        self.image_shape = (1, 4, 4)
        self.cfg = SimpleNamespace(name="writer")
        self.mixing = mixing

    def generate(self, latent: Latent) -> Tensor:
        x = torch.zeros(len(latent), 16)
        x[:, 0] = latent.c_cat[:, 0].float() / 2 * 2 - 1  # category 0, 1, 2 -> -1, 0, 1
        x[:, 1:3] = latent.c_cont
        x[:, 3:5] = latent.z * 0.01
        return x.view(-1, 1, 4, 4)

    def represent(self, x: Tensor) -> Tensor:
        codes = x.flatten(1)[:, :3]
        if self.mixing is None:  # reads nothing of the codes
            return torch.randn(x.shape[0], 3, generator=torch.Generator().manual_seed(x.shape[0]))
        return codes @ self.mixing


def test_a_generator_as_data_with_known_factors():
    model = CodeWriter(torch.eye(3))
    truth = GeneratorFactors(model, bins=5)  # type: ignore[arg-type]
    assert truth.factor_names == ("c1", "c2", "c3") and truth.factor_sizes == (3, 5, 5)
    assert truth.values["c2"].tolist() == pytest.approx([-0.8, -0.4, 0.0, 0.4, 0.8])
    factors = torch.tensor([[0, 0, 4], [2, 3, 1]])
    images = truth.render(factors)
    assert images.min() >= 0 and images.max() <= 1
    pixels = images.flatten(1) * 2 - 1
    assert pixels[:, 0].tolist() == pytest.approx([-1, 1])
    assert pixels[:, 1:3].flatten().tolist() == pytest.approx([-0.8, 0.8, 0.4, -0.4])
    assert not torch.equal(pixels[0, 3:5], pixels[1, 3:5])  # each image its own noise


def test_model_centrality_by_hand():
    scores = np.array([[1.0, 0.8, 0.2], [0.6, 1.0, 0.4], [0.2, 0.2, 1.0]])
    # symmetric: (0, 1) 0.7, (0, 2) 0.2, (1, 2) 0.3
    assert model_centrality(scores) == pytest.approx([0.45, 0.5, 0.25])


def test_the_runs_that_agree_are_central_and_one_that_reads_nothing_is_not():
    rotated = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # the same codes, other order
    models = [CodeWriter(torch.eye(3)), CodeWriter(rotated), CodeWriter(None)]
    scores = pairwise_scores(models, SMALL)  # type: ignore[arg-type]
    assert scores[0, 1] == scores[1, 0] == 1.0  # reading each other's codes perfectly, in any order
    assert scores[2, 0] < 0.7 and scores[2, 1] < 0.7
    centrality = model_centrality(scores)
    assert int(np.argmax(centrality)) in (0, 1) and centrality[2] < min(centrality[:2])


def test_a_score_does_not_depend_on_the_order_of_the_runs():
    rotated = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    a, noise, r = CodeWriter(torch.eye(3)), CodeWriter(None), CodeWriter(rotated)
    forward = pairwise_scores([a, noise, r], SMALL)  # type: ignore[arg-type]
    backward = pairwise_scores([r, noise, a], SMALL)  # type: ignore[arg-type]
    assert forward[1, 0] == backward[1, 2] and forward[1, 2] == backward[1, 0]  # noise read on a, and on r


def test_each_generator_renders_once_and_every_run_is_scored_on_those_images():
    from infogan.metrics.factor_vae import factor_vae_score

    class Counted(CodeWriter):
        def generate(self, latent: Latent) -> Tensor:
            self.batches = getattr(self, "batches", 0) + 1
            return super().generate(latent)

    rotated = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    models = [Counted(torch.eye(3)), Counted(rotated), Counted(None)]
    scores = pairwise_scores(models, SMALL)  # type: ignore[arg-type]
    once = [m.batches for m in models]
    for j, i in [(0, 1), (0, 2), (1, 2), (2, 0)]:  # the same scores as a generator rendering afresh per pair
        truth = GeneratorFactors(models[j], bins=SMALL.bins, seed=SMALL.seed)  # type: ignore[arg-type]
        alone = factor_vae_score(
            models[i].represent,
            truth,
            n_train_votes=SMALL.votes,
            n_eval_votes=SMALL.votes // 2,
            group_size=SMALL.group_size,
            n_variance=SMALL.variance_images,
            seed=SMALL.seed,
        )
        assert scores[i, j] == alone
    per_pass = (models[0].batches - once[0]) // 2  # generator 0 rendered afresh for two pairs above
    assert once == [per_pass] * 3  # in pairwise_scores, one pass per generator for its two readers


def test_a_model_without_codes_cannot_be_a_ground_truth():
    cfg = load_preset("gan", ["model.latent.noise=4", "model.g_hidden=[8]", "model.d_hidden=[8]"])
    from infogan.models import build_model

    with pytest.raises(ConfigError, match="ModelCentrality needs latent codes"):
        GeneratorFactors(build_model(cfg.model, (1, 8, 8)))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("select")
    for seed in (0, 1):
        cfg = load_preset("digits", [*TINY, "eval.metrics=[codes]", f"train.seed={seed}"])
        train(cfg, root / f"seed-{seed}", progress=lambda _: None)
    return root


def test_select_prints_each_run_s_centrality_and_the_pick(two_runs):
    runs = [str(two_runs / "seed-0"), str(two_runs / "seed-1")]
    result = invoke("select", *runs, "--votes", "20", "--bins", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["run", "ModelCentrality"] and "accuracy (scores only)" in lines[0]
    assert sum("<- pick" in line for line in lines[1:3]) == 1
    assert lines[-1].startswith("pick: ") and "no labels used" in lines[-1]
    as_json = json.loads(invoke("select", *runs, "--votes", "20", "--bins", "3", "--json").stdout)
    # two runs: each one's centrality is the same symmetric score
    assert as_json["runs"][0]["model_centrality"] == pytest.approx(as_json["runs"][1]["model_centrality"])
    assert as_json["scores"][0][0] is None and as_json["scores"][0][1] is not None
    # ... so the pick of two is no choice, and select says so
    assert as_json["pick"] == 0 and as_json["tied"] == [0, 1]
    assert as_json["notes"] == [next(line for line in result.stderr.splitlines() if "note:" in line)[6:]]
    assert "with two runs both have the same ModelCentrality" in as_json["notes"][0]
    assert "(tied)" in lines[2]


def test_the_most_central_runs_with_ties():
    assert most_central([0.4, 0.7, 0.5]) == [1]
    assert most_central([0.7, 0.4, 0.7 + 1e-15]) == [0, 2]


def test_select_refuses_one_run_and_runs_of_different_setups(two_runs, tmp_path):
    one = invoke("select", str(two_runs / "seed-0"))
    assert (
        one.returncode == 2
        and one.stderr.strip() == "error: select needs at least two runs of the same setup to compare"
    )
    cfg = load_preset("digits", [*TINY, "eval.metrics=[codes]", "model.latent.codes=[cat:10,uniform:1]"])
    train(cfg, tmp_path / "other", progress=lambda _: None)
    mixed = invoke("select", str(two_runs / "seed-0"), str(tmp_path / "other"))
    assert mixed.returncode == 2 and "are not one setup" in mixed.stderr and "Traceback" not in mixed.stderr


def test_select_notes_runs_of_different_setups(two_runs, tmp_path):
    cfg = load_preset("digits", [*TINY, "eval.metrics=[codes]", "preset=my-digits"])
    train(cfg, tmp_path / "mine", progress=lambda _: None)
    same = invoke(
        "select", str(two_runs / "seed-0"), str(two_runs / "seed-1"), "--votes", "20", "--bins", "3"
    )
    assert same.returncode == 0 and "setups" not in same.stderr
    mixed = invoke("select", str(two_runs / "seed-0"), str(tmp_path / "mine"), "--votes", "20", "--bins", "3")
    assert mixed.returncode == 0, mixed.stderr
    note = next(line for line in mixed.stderr.splitlines() if line.startswith("note: the runs are"))
    assert note.startswith("note: the runs are of 2 setups (digits-") and ", my-digits-" in note


def test_an_unreadable_eval_json_only_hides_that_runs_accuracy(two_runs, tmp_path):
    import shutil

    broken = shutil.copytree(two_runs / "seed-1", tmp_path / "seed-1")
    (broken / "eval.json").write_text("{not json")
    result = invoke("select", str(two_runs / "seed-0"), str(broken), "--votes", "20", "--bins", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["runs"]
    assert "accuracy" in rows[0] and "accuracy" not in rows[1]
    assert f"note: no accuracy shown for {broken}:" in result.stderr
