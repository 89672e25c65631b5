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
    assert set(ADVERSARIAL) == {"minimax", "non-saturating"}


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
