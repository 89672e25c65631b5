"""InfoGAN's information term (arXiv:1606.03657, Eq. 4-5).

L_I(G, Q) = E_{c~P(c), x~G(z,c)}[log Q(c|x)] + H(c) <= I(c; G(z, c)). Per code, L_I = H(c) - NLL, where NLL is Q's
negative log-likelihood of the code that generated x. Minimising the weighted NLLs maximises the bound.

`paired_assignment_mi` is IIC's objective (Ji et al. 2019, arXiv:1807.06653, Eq. 3): the mutual information between
the categorical assignments of two views of the same images, used on real images (models/infogan.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def gaussian_nll(x: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """Elementwise -log N(x; mean, exp(log_std)^2)."""
    return log_std + 0.5 * ((x - mean) * torch.exp(-log_std)) ** 2 + _HALF_LOG_2PI


def info_loss(nll: Mapping[str, Tensor], weights: Mapping[str, float]) -> Tensor:
    """The weighted Q loss sum_c lambda_c * NLL_c, i.e. -sum_c lambda_c * L_I(c) up to the constants H(c)."""
    return torch.stack([weights[name] * value for name, value in nll.items()]).sum()


def mi_lower_bound(nll: Tensor, entropy: float) -> Tensor:
    """L_I for one code: H(c) - NLL (nats). It cannot exceed H(c) for a categorical code."""
    return entropy - nll


def paired_assignment_mi(p: Tensor, p_view: Tensor) -> Tensor:
    """I(y; y') in nats, where y and y' are the categories of two views of the same image, from their
    probabilities p and p_view (B, K): at most ln K, reached when the views always agree and every category is
    used equally often; 0 when the assignments are independent, as when every image gets the same category.

    The joint P(y, y') is the batch mean of the outer products, symmetrised (IIC, arXiv:1807.06653, Eq. 3).
    """
    joint = (p.unsqueeze(2) * p_view.unsqueeze(1)).mean(0)  # (K, K)
    # The floor keeps log finite for categories no image uses; it changes the value by at most K^2 * 1e-12.
    joint = ((joint + joint.T) / 2).clamp_min(1e-12)
    marginal = joint.sum(1)  # symmetric, so both marginals are this one
    return (joint * (joint.log() - marginal.log().unsqueeze(1) - marginal.log().unsqueeze(0))).sum()
