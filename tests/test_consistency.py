"""InfoGAN's real-image consistency term: IIC's paired mutual information (arXiv:1807.06653) between Q's categories
for real images and for deformed copies of them, on D/Q's side only."""

from __future__ import annotations

import math

import pytest
import torch

from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.losses.info import paired_assignment_mi
from infogan.models import build_model
from infogan.nets.augment import random_affine, random_thickness

from .conftest import TINY


def test_paired_assignment_mi_by_hand():
    k = 4
    one_hot = torch.eye(k).repeat(8, 1)  # (32, 4): every category used equally, both views agree
    assert float(paired_assignment_mi(one_hot, one_hot)) == pytest.approx(math.log(k), abs=1e-6)
    uniform = torch.full((32, k), 1 / k)
    assert float(paired_assignment_mi(uniform, uniform)) == pytest.approx(0, abs=1e-6)
    same = torch.zeros(32, k)
    same[:, 0] = 1  # every image in one category: confident and consistent, but no information
    assert float(paired_assignment_mi(same, same)) == pytest.approx(0, abs=1e-6)
    # Two images, two categories: p = [[1, 0], [0.5, 0.5]], views identical. Joint = mean of outer products:
    # [[1, 0], [0, 0]] / 2 + [[.25, .25], [.25, .25]] / 2 = [[.625, .125], [.125, .125]]; marginals [.75, .25].
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    joint = torch.tensor([[0.625, 0.125], [0.125, 0.125]])
    marginal = torch.tensor([0.75, 0.25])
    expected = float((joint * (joint / marginal.outer(marginal)).log()).sum())
    assert float(paired_assignment_mi(p, p)) == pytest.approx(expected, abs=1e-6)


def test_paired_assignment_mi_is_symmetric_in_the_views_and_has_gradients():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=g, requires_grad=True)
    other = torch.randn(16, 5, generator=g)
    a, b = logits.softmax(1), other.softmax(1)
    assert torch.allclose(paired_assignment_mi(a, b), paired_assignment_mi(b, a), atol=1e-6)
    paired_assignment_mi(a, b).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_random_affine_is_the_identity_at_zero_and_deforms_within_its_bounds():
    g = torch.Generator().manual_seed(0)
    x = -torch.ones(64, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1  # an upright bar in the middle
    same = random_affine(x, g, degrees=0, shift=0, scale=0)
    assert torch.allclose(same, x, atol=1e-5)
    moved = random_affine(x, g, degrees=0, shift=0.1, scale=0)
    ink = (moved + 1) / 2
    rows = torch.arange(28.0).view(1, 28, 1)
    cols = torch.arange(28.0).view(1, 1, 28)
    cy = (ink[:, 0] * rows).sum((1, 2)) / ink[:, 0].sum((1, 2))
    cx = (ink[:, 0] * cols).sum((1, 2)) / ink[:, 0].sum((1, 2))
    # the bar's centre is (13.5, 13.5); shifts are uniform within 0.1 of the side, 2.8 pixels, each way
    assert (cy - 13.5).abs().max() <= 2.8 + 1e-3 and (cx - 13.5).abs().max() <= 2.8 + 1e-3
    assert (cx - 13.5).abs().max() > 1.5  # and they do move it
    assert moved.min() >= -1 - 1e-6 and moved.max() <= 1 + 1e-6
    turned = random_affine(x, g, degrees=15, shift=0, scale=0)
    assert not torch.allclose(turned, x, atol=0.1)  # a rotated bar


def test_shear_changes_the_slant_within_its_bound():
    x = -torch.ones(16, 1, 28, 28)
    x[:, :, 6:22, 13:15] = 1  # an upright bar: slant 0
    sheared = random_affine(x, torch.Generator().manual_seed(0), degrees=0, shift=0, scale=0, shear=0.3)
    ink = (sheared[:, 0] + 1) / 2
    rows = torch.arange(28.0).view(1, 28, 1)
    cols = torch.arange(28.0).view(1, 1, 28)
    mass = ink.sum((1, 2))
    cy, cx = (ink * rows).sum((1, 2)) / mass, (ink * cols).sum((1, 2)) / mass
    dy, dx = rows - cy.view(-1, 1, 1), cols - cx.view(-1, 1, 1)
    slant = (ink * dx * dy).sum((1, 2)) / (ink * dy * dy).sum((1, 2))  # dx/dy along the bar
    assert slant.abs().max() <= 0.3 + 0.02 and slant.abs().max() > 0.2
    assert (slant > 0.05).any() and (slant < -0.05).any()  # both ways


def test_random_affine_repeats_for_the_same_generator_state():
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    first = random_affine(x, torch.Generator().manual_seed(3), degrees=15, shift=0.1, scale=0.1)
    again = random_affine(x, torch.Generator().manual_seed(3), degrees=15, shift=0.1, scale=0.1)
    assert torch.equal(first, again)


def test_random_thickness_adds_or_removes_a_pixel_of_ink_around_a_stroke():
    x = torch.full((1, 1, 9, 9), -1.0)
    x[..., 4] = 1.0  # one vertical stroke, one pixel wide, bright on a dark ground
    stack = x.repeat(64, 1, 1, 1)
    out = random_thickness(stack, torch.Generator().manual_seed(0), 1.0)
    width = ((out[:, 0, 4] + 1) / 2).sum(
        1
    )  # ink across the middle row: 1 pixel before, 1 + 2t after for t > 0
    assert width.min() < 0.5 and width.max() > 2.5  # thinned towards nothing, thickened towards three pixels
    assert ((width >= 0) & (width <= 3 + 1e-6)).all()
    same = random_thickness(stack, torch.Generator().manual_seed(0), 0.0)
    assert torch.equal(same, stack)
    grad = torch.zeros_like(stack, requires_grad=True)
    random_thickness(stack + grad, torch.Generator().manual_seed(0), 1.0).sum().backward()
    assert grad.grad is not None and grad.grad.abs().sum() > 0


def test_the_thickness_option_changes_the_second_view():
    # Without the option (thickness 0, the default) the views are pinned by test_golden's infogan+consistency case.
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    plain = _model(1).train_step({"x": x}, 0)
    thick = _model(1, ("model.consistency.thickness=1",)).train_step({"x": x}, 0)
    assert not torch.equal(thick["mi_real_c1"], plain["mi_real_c1"])


def _model(weight: float, extra: tuple[str, ...] = ()):
    cfg = load_preset("digits", [*TINY, f"model.consistency.weight={weight}", *extra])
    torch.manual_seed(0)
    model = build_model(cfg.model, (1, 8, 8))
    model.seed(0)
    return model.train()


def test_the_term_is_logged_below_its_ceiling_and_only_when_on():
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    assert "mi_real_c1" not in _model(0).train_step({"x": x}, 0)
    logs = _model(1).train_step({"x": x}, 0)
    assert 0 <= float(logs["mi_real_c1"]) <= math.log(10) + 1e-6


def test_the_term_trains_q_and_the_trunk_and_is_the_only_difference():
    # With D's loss and the information term multiplied by zero, D's step is driven by the consistency term alone.
    grads = {}
    for weight in (0.0, 1.0):
        model = _model(weight)
        model.d_loss_fn = lambda d_real, d_fake: 0.0 * (d_real.sum() + d_fake.sum())
        model.info_weights = dict.fromkeys(model.info_weights, 0.0)
        model._critic_step(
            torch.rand(16, 1, 8, 8) * 2 - 1, torch.rand(16, 1, 8, 8) * 2 - 1, model.latent.sample(16)
        )
        grads[weight] = [
            any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
            for net in (model.trunk, model.q_head, model.d_head)
        ]
    assert grads == {0.0: [False, False, False], 1.0: [True, True, False]}


def test_the_term_needs_a_categorical_code():
    with pytest.raises(ConfigError, match="the consistency term needs a categorical code"):
        load_preset("digits", ["model.consistency.weight=1", "model.latent.codes=[uniform:2]"])


def test_recalibration_passes_the_real_batch_through_q_with_the_term_on():
    calls = []
    for weight in (0.0, 1.0):
        model = _model(weight)
        seen = []
        hook = model.q_head.register_forward_hook(lambda m, i, o, seen=seen: seen.append(o.shape[0]))
        with torch.no_grad():
            model.calibration_step(torch.rand(16, 1, 8, 8) * 2 - 1)
        hook.remove()
        calls.append(len(seen))
    # the two fake passes; then also the real batch and its deformed copy
    assert calls == [2, 4]


CONTINUOUS = (
    "model.consistency.thickness=1",
    "model.consistency.invariance=1",
    "model.consistency.decorrelation=1",
)


def test_the_continuous_terms_are_logged_in_range_and_draw_nothing_more():
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    without = _model(1, CONTINUOUS[:1]).train_step({"x": x}, 0)
    assert "real_invariance" not in without and "real_overlap" not in without
    logs = _model(1, CONTINUOUS).train_step({"x": x}, 0)
    assert -1 <= float(logs["real_invariance"]) <= 1 and 0 <= float(logs["real_overlap"]) <= 1
    # the thickness copy is the categorical view's own draw, so the categorical term is what it was without them
    assert torch.equal(logs["mi_real_c1"], without["mi_real_c1"])


@pytest.mark.parametrize(
    ("term", "log", "better"),
    [
        ("decorrelation", "real_overlap", lambda first, last: last < first / 2),
        ("invariance", "real_invariance", lambda first, last: 1 - last < (1 - first) / 2),
    ],
)
def test_each_continuous_term_does_what_it_asks(term, log, better):
    # D's step driven by one continuous term alone, on a fixed real batch: the two codes' means become
    # uncorrelated (decorrelation), or each code's means for the images and their thickness copies correlated.
    torch.manual_seed(1)
    x = torch.rand(64, 1, 8, 8) * 2 - 1
    model = _model(1e-6, ("model.consistency.thickness=1", f"model.consistency.{term}=1"))
    model.d_loss_fn = lambda d_real, d_fake: 0.0 * (d_real.sum() + d_fake.sum())
    model.info_weights = dict.fromkeys(model.info_weights, 0.0)
    values = []
    for _ in range(60):
        logs, _ = model._critic_step(x, torch.rand(64, 1, 8, 8) * 2 - 1, model.latent.sample(64))
        values.append(float(logs[log].detach()))
    # each step draws new thickness copies, so compare the first and the last five steps
    assert better(sum(values[:5]) / 5, sum(values[-5:]) / 5), values


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("model.consistency.weight=0", "model.consistency.decorrelation=1"), "need consistency.weight > 0"),
        (("model.consistency.thickness=0", "model.consistency.invariance=1"), "needs a continuous code and"),
        (
            ("model.latent.codes=[cat:10, uniform:1]", "model.consistency.decorrelation=1"),
            "at least two continuous",
        ),
    ],
)
def test_the_continuous_terms_say_what_they_need(extra, message):
    with pytest.raises(ConfigError, match=message):
        load_preset("mnist", list(extra))
