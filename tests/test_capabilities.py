"""The model contract's capabilities (models/base.py), over every registered model: each member exists with its
declared type, says "no" honestly by default, and agrees with what the model does. Code outside models/ asks these
members, never a model's class or name (test_asks_the_model.py holds that)."""

import inspect

import pytest
import torch

from infogan.latent import LatentSpec
from infogan.models import MODELS, GenerativeModel

from .test_models import tiny_model

# Each capability of the contract and the methods it vouches for.
CAPABILITIES = {
    "is_conditional": (),
    "encodes_images": ("infer_codes", "represent"),
    "can_reconstruct": ("reconstruct",),
    "has_mi_lower_bound": ("q_nll",),
    "has_held_out_metrics": ("held_out_metrics",),
    "can_recalibrate": ("calibration_step",),
}

# What each registered model can do (a model missing here fails the test: say what yours can).
EXPECTED = {
    "infogan": {"encodes_images", "has_mi_lower_bound", "can_recalibrate"},
    "infogan-cr": {"encodes_images", "has_mi_lower_bound", "can_recalibrate"},
    "gan": {"can_recalibrate"},
    "cgan": {"is_conditional"},
    "wgan": {"can_recalibrate"},
    "vae": {"encodes_images", "can_reconstruct", "has_held_out_metrics"},
}


def images(model: GenerativeModel, n: int = 5) -> torch.Tensor:
    return torch.rand(n, *model.image_shape, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_every_capability_is_a_bool_property_of_the_contract():
    declared = {
        name
        for name, member in inspect.getmembers(GenerativeModel)
        if isinstance(member, property) and member.fget is not None
        if inspect.signature(member.fget).return_annotation in (bool, "bool")
    }
    assert declared == set(CAPABILITIES)
    for methods in CAPABILITIES.values():
        assert all(callable(getattr(GenerativeModel, m)) for m in methods)


@pytest.mark.parametrize("name", list(MODELS))
def test_capabilities_are_bools_and_as_expected(name):
    model = tiny_model(name)
    assert isinstance(model.latent, LatentSpec)  # every model has one, codes or not
    answers = {capability: getattr(model, capability) for capability in CAPABILITIES}
    assert all(type(v) is bool for v in answers.values()), answers
    assert {c for c, yes in answers.items() if yes} == EXPECTED[name]


@pytest.mark.parametrize("name", list(MODELS))
def test_encodes_images_means_infer_codes_and_represent_work(name):
    model = tiny_model(name)
    x = images(model)
    if not model.encodes_images:
        for method in (model.infer_codes, model.represent):
            with pytest.raises(NotImplementedError, match="encodes_images is False"):
                method(x)
        return
    post = model.infer_codes(x)
    assert list(post) == [c.name for c in [*model.latent.categorical, *model.latent.continuous]]
    for code in model.latent.codes:
        if code.is_categorical:
            assert set(post[code.name]) == {"logits"} and post[code.name]["logits"].shape == (5, code.k)
        else:
            assert set(post[code.name]) == {"mean", "log_std"}
            assert all(v.shape == (5,) for v in post[code.name].values())
    assert all(torch.isfinite(v).all() and not v.requires_grad for p in post.values() for v in p.values())
    rep = model.represent(x)
    assert rep.ndim == 2 and rep.shape[0] == 5 and torch.isfinite(rep).all()


@pytest.mark.parametrize("name", list(MODELS))
def test_can_reconstruct_means_reconstruct_returns_images(name):
    model = tiny_model(name)
    x = images(model)
    if not model.can_reconstruct:
        with pytest.raises(NotImplementedError, match="can_reconstruct is False"):
            model.reconstruct(x)
        return
    assert model.encodes_images  # reconstructing reads the whole latent back first
    # the encoder reads every input of the generator: one mean per latent dimension, no noise
    assert model.latent.noise == 0 and model.represent(x).shape == (5, model.latent.dim)
    out = model.reconstruct(x)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("name", list(MODELS))
def test_has_mi_lower_bound_means_q_scores_every_code_of_generated_images(name):
    model = tiny_model(name).eval()
    latent = model.latent.sample(6, generator=torch.Generator().manual_seed(1))
    x = model.generate(latent)
    if not model.has_mi_lower_bound:
        with pytest.raises(NotImplementedError, match="has_mi_lower_bound is False"):
            model.q_nll(x, latent)
        return
    assert model.latent.codes and model.encodes_images
    for batch_stats in (False, True):
        nll = model.q_nll(x, latent, batch_stats=batch_stats)
        assert list(nll) == [c.name for c in model.latent.codes]
        assert all(v.ndim == 0 and torch.isfinite(v) for v in nll.values())


@pytest.mark.parametrize("name", list(MODELS))
def test_has_held_out_metrics_means_held_out_metrics_are_numbers(name):
    model = tiny_model(name)
    x = images(model, 7)
    if not model.has_held_out_metrics:
        with pytest.raises(NotImplementedError, match="has_held_out_metrics is False"):
            model.held_out_metrics(x)
        return
    figures = model.held_out_metrics(x, batch_size=4)
    assert figures and all(isinstance(v, int | float) for v in figures.values())


@pytest.mark.parametrize("name", list(MODELS))
def test_is_conditional_means_sample_draws_the_requested_class(name):
    model = tiny_model(name).eval()
    assert model.is_conditional == (model.conditional_code is not None)
    if not model.is_conditional:
        return
    label = model.conditional_code
    assert label is not None and label in {c.name for c in model.latent.categorical}
    draws = [
        model.sample(3, codes={label: k}, generator=torch.Generator().manual_seed(2))
        for k in range(model.latent.code(label).k)
    ]
    assert all(d.shape == (3, *model.image_shape) for d in draws)
    assert not torch.equal(draws[0], draws[1])  # the same noise, another class: another image


@pytest.mark.parametrize("name", list(MODELS))
def test_can_recalibrate_means_calibration_step_runs(name):
    model = tiny_model(name).train()
    x = images(model, 8)
    if not model.can_recalibrate:
        with pytest.raises(NotImplementedError, match="can_recalibrate is False"):
            model.calibration_step(x)
        return
    with torch.no_grad():
        model.calibration_step(x)
