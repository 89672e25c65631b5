"""InfoGAN-CR's contrastive regulariser: the pairs H is shown, when it trains, and what G's step takes from it."""

import pytest
import torch

from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.latent import LatentSpec
from infogan.models.infogan_cr import contrastive_pairs

from .test_models import batch, tiny_model


@pytest.mark.parametrize("gap", [0.0, 0.5])
def test_a_pair_shares_z_and_one_code_and_the_others_keep_the_gap(gap):
    spec = LatentSpec.parse(5, ["uniform:4"])
    first, second, k = contrastive_pairs(spec, 512, gap, torch.Generator().manual_seed(0))
    assert torch.equal(first.z, second.z)
    rows = torch.arange(512)
    assert torch.equal(first.c_cont[rows, k], second.c_cont[rows, k])
    others = torch.ones(512, 4, dtype=torch.bool)
    others[rows, k] = False
    apart = (first.c_cont - second.c_cont).abs()[others]
    assert apart.min() >= gap - 1e-6 and (apart > 0).all()
    assert first.c_cont.abs().max() <= 1 and second.c_cont.abs().max() <= 1
    assert k.bincount(minlength=4).min() > 90  # each code chosen about a quarter of the time
    if gap:  # still spread over the whole range
        assert first.c_cont.min() < -0.9 and first.c_cont.max() > 0.9


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_h_trains_and_g_feels_it_only_from_cr_start():
    model = tiny_model("infogan-cr", extra=("model.cr_start=1",))
    before = _params(model.H_trunk)
    logs = model.train_step(batch(8, seed=0, shape=model.image_shape), 0)
    assert "cr_loss" not in logs and all(
        torch.equal(a, b) for a, b in zip(before, _params(model.H_trunk), strict=True)
    )
    logs = model.train_step(batch(8, seed=1, shape=model.image_shape), 1)
    assert 0 <= float(logs["cr_accuracy"]) <= 1 and float(logs["cr_loss"]) > 0
    assert not all(torch.equal(a, b) for a, b in zip(before, _params(model.H_trunk), strict=True))


def test_g_steps_on_the_regulariser_and_leaves_h_to_its_own_step():
    # The same seed with the weight on and off: H's own step is the same, so H ends the same; G does not.
    models = [tiny_model("infogan-cr", extra=(f"model.cr_weight={w}",)) for w in (0.0, 2.0)]
    for model in models:
        model.train_step(batch(8, seed=0, shape=model.image_shape), 0)
    (h_off, h_on), (g_off, g_on) = ([_params(getattr(m, net)) for m in models] for net in ("H_trunk", "G"))
    assert all(torch.equal(a, b) for a, b in zip(h_off, h_on, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(g_off, g_on, strict=True))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.latent.codes=[cat:3, uniform:2]"], "two or more continuous codes and no categorical"),
        (["model.latent.codes=[normal:3]", "model.cr_gap=0.5"], "cr_gap needs uniform codes"),
    ],
)
def test_codes_the_regulariser_cannot_use_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_preset("dsprites-cr", overrides)


def test_the_preset_trains_h_over_the_last_tenth_as_the_authors_did():
    cfg = load_preset("dsprites-cr", [])
    assert cfg.model.name == "infogan-cr" and cfg.model.cr_start == 9000 and cfg.train.steps == 10000
    assert cfg.model.cr_weight == 2.0 and cfg.model.lr_cr == 2e-3 and cfg.model.latent.codes == ["uniform:5"]
