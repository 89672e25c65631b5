import math

import pytest
import torch

from infogan.losses.adversarial import ADVERSARIAL, d_bce_loss, g_minimax_loss, g_nonsaturating_loss
from infogan.losses.info import gaussian_nll, info_loss, mi_lower_bound


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_d_loss_by_hand():
    d_real, d_fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5])
    by_hand = -(math.log(sigmoid(2.0)) + math.log(sigmoid(-1.0))) / 2 - math.log(1 - sigmoid(0.5))
    assert d_bce_loss(d_real, d_fake).item() == pytest.approx(by_hand, rel=1e-6)


def test_g_losses_by_hand():
    d_fake = torch.tensor([0.3, -2.0])
    minimax = (math.log(1 - sigmoid(0.3)) + math.log(1 - sigmoid(-2.0))) / 2
    nonsat = -(math.log(sigmoid(0.3)) + math.log(sigmoid(-2.0))) / 2
    assert g_minimax_loss(d_fake).item() == pytest.approx(minimax, rel=1e-6)
    assert g_nonsaturating_loss(d_fake).item() == pytest.approx(nonsat, rel=1e-6)
    assert set(ADVERSARIAL) == {"minimax", "non-saturating", "least-squares", "hinge", "wasserstein"}


def test_least_squares_hinge_and_wasserstein_by_hand():
    d_real, d_fake = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, 0.25])
    ls_d, ls_g = ADVERSARIAL["least-squares"]
    assert ls_d(d_real, d_fake).item() == pytest.approx(0.5 * ((0.25 + 1.0) / 2 + (0.25 + 0.0625) / 2))
    assert ls_g(d_fake).item() == pytest.approx(0.5 * (2.25 + 0.5625) / 2)
    hinge_d, hinge_g = ADVERSARIAL["hinge"]
    assert hinge_d(d_real, d_fake).item() == pytest.approx((0.5 + 0.0) / 2 + (0.5 + 1.25) / 2)
    assert hinge_g(d_fake).item() == pytest.approx(0.125)
    w_d, w_g = ADVERSARIAL["wasserstein"]
    assert w_d(d_real, d_fake).item() == pytest.approx(-0.125 - 1.25)  # E[f(fake)] - E[f(real)]
    assert w_g(d_fake).item() == pytest.approx(0.125)


def test_losses_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for value in (d_bce_loss(big, big), g_minimax_loss(big), g_nonsaturating_loss(big)):
        assert torch.isfinite(value)


def test_minimax_saturates_where_nonsaturating_does_not():
    # D confidently rejects the fakes: the minimax gradient vanishes, the non-saturating one does not.
    d_fake = torch.tensor([-8.0], requires_grad=True)
    (grad_mm,) = torch.autograd.grad(g_minimax_loss(d_fake), d_fake)
    (grad_ns,) = torch.autograd.grad(g_nonsaturating_loss(d_fake), d_fake)
    assert abs(grad_mm.item()) < 1e-3 < abs(grad_ns.item())


def test_info_loss_weights_and_bound():
    nll = {"c1": torch.tensor(0.5), "c2": torch.tensor(2.0)}
    assert info_loss(nll, {"c1": 1.0, "c2": 0.1}).item() == pytest.approx(0.7)
    assert mi_lower_bound(torch.tensor(0.5), math.log(10)).item() == pytest.approx(math.log(10) - 0.5)


def test_gaussian_nll_matches_torch_distributions():
    x, mean, log_std = torch.randn(10), torch.randn(10), torch.randn(10) * 0.5
    ref = -torch.distributions.Normal(mean, log_std.exp()).log_prob(x)
    assert torch.allclose(gaussian_nll(x, mean, log_std), ref, atol=1e-6)


def test_clipping_bounds_every_parameter():
    from infogan.losses.penalties import clip_weights

    net = torch.nn.Linear(4, 3)
    torch.nn.init.normal_(net.weight, std=5.0)
    clip_weights(net.parameters(), 0.01)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())
    assert (net.weight.abs() == 0.01).any()


def test_gradient_penalty_by_hand_for_a_linear_critic():
    from infogan.losses.penalties import gradient_penalty

    # f(x) = w . x has gradient w everywhere: the penalty is (||w|| - 1)^2 whatever the interpolates.
    w = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)
    critic = lambda x: (x * w).flatten(1).sum(dim=1)  # noqa: E731
    real, fake = torch.randn(5, 2, 1, 1), torch.randn(5, 2, 1, 1)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(16.0, rel=1e-5)


def test_gradient_penalty_is_finite_with_a_finite_gradient_where_the_critic_is_flat():
    from infogan.losses.penalties import gradient_penalty

    scale = torch.zeros(1, requires_grad=True)
    critic = lambda x: scale * x.flatten(1).sum(dim=1)  # noqa: E731  (zero gradient in x at scale 0)
    gp = gradient_penalty(critic, torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    gp.backward()
    assert gp.item() == pytest.approx(1.0, rel=1e-5) and torch.isfinite(scale.grad).all()
