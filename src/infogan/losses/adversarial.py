"""Adversarial losses on D's raw outputs (logits, or critic scores for the Wasserstein loss).

- minimax / non-saturating (Goodfellow et al. 2014, arXiv:1406.2661): D maximises log D(x) + log(1 - D(G(z)));
  G minimises log(1 - D(G(z))) or, non-saturating, maximises log D(G(z)) (InfoGAN's official code). With
  D(x) = sigmoid(l): -log D = softplus(-l) and -log(1 - D) = softplus(l), finite for any logit.
- least-squares (Mao et al. 2017, arXiv:1611.04076): D regresses real to 1 and fake to 0, G pushes fakes to 1.
- hinge (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018): D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))];
  G: -E[D(G(z))].
- wasserstein (Arjovsky et al. 2017, arXiv:1701.07875): the critic maximises E[f(x)] - E[f(G(z))], G maximises
  E[f(G(z))]. It needs a Lipschitz constraint: weight clipping or a gradient penalty (penalties.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

AdversarialLoss = Literal["minimax", "non-saturating", "least-squares", "hinge", "wasserstein"]


def d_bce_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """D's loss -E[log D(x)] - E[log(1 - D(G(z)))] from logits (B,) for real and fake images."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def g_minimax_loss(d_fake: Tensor) -> Tensor:
    """G's minimax loss E[log(1 - D(G(z)))]; saturates when D rejects fakes confidently."""
    return -F.softplus(d_fake).mean()


def g_nonsaturating_loss(d_fake: Tensor) -> Tensor:
    """G's non-saturating loss -E[log D(G(z))]."""
    return F.softplus(-d_fake).mean()


def d_least_squares_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """D's least-squares loss 0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]."""
    return 0.5 * ((d_real - 1).pow(2).mean() + d_fake.pow(2).mean())


def g_least_squares_loss(d_fake: Tensor) -> Tensor:
    """G's least-squares loss 0.5 E[(D(G(z)) - 1)^2]."""
    return 0.5 * (d_fake - 1).pow(2).mean()


def d_hinge_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """D's hinge loss E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def d_wasserstein_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """The critic's loss E[f(G(z))] - E[f(x)]: minus the Wasserstein estimate it maximises."""
    return d_fake.mean() - d_real.mean()


def g_critic_score_loss(d_fake: Tensor) -> Tensor:
    """G's loss -E[f(G(z))], for the hinge and Wasserstein games."""
    return -d_fake.mean()


ADVERSARIAL: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "minimax": (d_bce_loss, g_minimax_loss),
    "non-saturating": (d_bce_loss, g_nonsaturating_loss),
    "least-squares": (d_least_squares_loss, g_least_squares_loss),
    "hinge": (d_hinge_loss, g_critic_score_loss),
    "wasserstein": (d_wasserstein_loss, g_critic_score_loss),
}
