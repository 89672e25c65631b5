"""Differentiable augmentation (nets/augment.py): what each transform does to an image, that gradients pass through
it, and that InfoGAN's D and Q see augmented images when `model.augment` is set."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.models import MODELS
from infogan.models.base import AdversarialConfig
from infogan.nets.augment import cutout, diff_augment, translate

from .conftest import TINY_MODELS
from .test_models import tiny_model


def _images(b: int = 16, c: int = 2, size: int = 16) -> torch.Tensor:
    return torch.randn(b, c, size, size, generator=torch.Generator().manual_seed(1))


def test_translation_shifts_each_image_by_its_own_offset_within_an_eighth_repeating_the_edge():
    x = _images()
    out = translate(x, torch.Generator().manual_seed(0))
    s = 2  # round(16 / 8)
    padded = F.pad(x, (s, s, s, s), mode="replicate")
    shifts = set()
    for i in range(x.shape[0]):
        found = [
            (dy, dx)
            for dy in range(2 * s + 1)
            for dx in range(2 * s + 1)
            if torch.equal(out[i], padded[i, :, dy : dy + 16, dx : dx + 16])
        ]
        assert found, f"image {i} is not a shift of the input by at most {s} pixels"
        shifts.add(found[0])
    assert len(shifts) > 3  # offsets are drawn per image, not once per batch


def test_cutout_zeroes_one_square_of_half_the_side_per_image_and_leaves_the_rest():
    x = _images() + 5.0  # no pixel is 0 before cutout
    out = cutout(x, torch.Generator().manual_seed(0))
    for i in range(x.shape[0]):
        zero = out[i, 0] == 0
        assert torch.equal(zero, out[i, 1] == 0)  # the same square in every channel
        assert torch.equal(out[i][:, ~zero], x[i][:, ~zero])
        rows, cols = zero.any(dim=1).nonzero(), zero.any(dim=0).nonzero()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        assert int(zero.sum()) == len(rows) * len(cols)  # a rectangle: the square, clipped at the border
    assert any(int((out[i, 0] == 0).sum()) == 64 for i in range(x.shape[0]))


def test_gradients_pass_through_every_transform():
    x = _images().requires_grad_()
    diff_augment(x, ["translation", "cutout", "affine"], torch.Generator().manual_seed(0)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    x.grad = None
    translate(x, torch.Generator().manual_seed(0)).sum().backward()
    # each output pixel reads exactly one input pixel
    assert float(x.grad.sum()) == pytest.approx(x.numel())


def test_augmentation_repeats_with_the_same_generator_state_and_an_empty_policy_is_the_identity():
    x = _images()
    a = diff_augment(x, ["translation", "cutout", "affine"], torch.Generator().manual_seed(3))
    b = diff_augment(x, ["translation", "cutout", "affine"], torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(
        a, diff_augment(x, ["translation", "cutout"], torch.Generator().manual_seed(3))
    )
    assert diff_augment(x, [], torch.Generator()) is x


ADVERSARIAL_MODELS = [name for name in MODELS if issubclass(MODELS[name].Config, AdversarialConfig)]


def test_every_model_with_a_discriminator_takes_augment_and_the_vae_refuses_it():
    assert set(ADVERSARIAL_MODELS) == set(MODELS) - {"vae"}
    with pytest.raises(ConfigError, match="augment"):
        load_preset("vae", ["model.augment=[translation]"])


@pytest.mark.parametrize("name", ADVERSARIAL_MODELS)
def test_d_sees_augmented_real_and_fake_images_in_both_steps(name):
    model, shape = tiny_model(name, extra=("model.augment=[cutout]",)), TINY_MODELS[name][2]
    seen: list[torch.Tensor] = []
    images_in = model.D if name == "cgan" else model.trunk  # cgan's D adds the label maps itself
    images_in.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
    k = model.real_batches_per_step
    g = torch.Generator().manual_seed(0)
    x_real = torch.rand(k * 8, *shape, generator=g) * 2 - 1
    logs = model.train_step({"x": x_real, "y": torch.randint(10, (k * 8,), generator=g)}, 0)
    assert all(torch.isfinite(v) for v in logs.values())
    assert len(seen) >= 2 * k + 1  # real and fake in each D step, fake in G's step
    for images in seen:
        assert (images == 0).flatten(1).sum(dim=1).min() >= 1  # every image has its cut-out square
    real_seen = seen[0]
    assert not torch.equal(real_seen, x_real[:8])
    assert torch.equal(real_seen[real_seen != 0], x_real[:8][real_seen != 0])


def test_the_information_term_reaches_g_through_the_augmentation():
    model = tiny_model("infogan", extra=("model.augment=[translation,cutout]",))
    latent = model.latent.sample(8, generator=model.rng)
    h = model.trunk(model._augment(model.G(model.latent.to_input(latent))))
    nll = model.latent.code_nll(model.q_head(h), latent)
    nll["c1"].mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.G.parameters() if p.ndim > 1)


def test_an_unknown_augmentation_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="augment"):
        load_preset("mnist", ["model.augment=[flip]"])
