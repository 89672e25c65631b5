"""Adversarial losses on logits (Goodfellow et al. 2014, arXiv:1406.2661).

D maximises log D(x) + log(1 - D(G(z))); G either minimises log(1 - D(G(z))) (the minimax game) or maximises
log D(G(z)) (the non-saturating variant, used by InfoGAN's official code). With D(x) = sigmoid(l):
-log D = softplus(-l) and -log(1 - D) = softplus(l), which stay finite for any logit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

AdversarialLoss = Literal["minimax", "non-saturating"]


def d_bce_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """D's loss -E[log D(x)] - E[log(1 - D(G(z)))] from logits (B,) for real and fake images."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def g_minimax_loss(d_fake: Tensor) -> Tensor:
    """G's minimax loss E[log(1 - D(G(z)))]; saturates when D rejects fakes confidently."""
    return -F.softplus(d_fake).mean()


def g_nonsaturating_loss(d_fake: Tensor) -> Tensor:
    """G's non-saturating loss -E[log D(G(z))]."""
    return F.softplus(-d_fake).mean()


ADVERSARIAL: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "minimax": (d_bce_loss, g_minimax_loss),
    "non-saturating": (d_bce_loss, g_nonsaturating_loss),
}
