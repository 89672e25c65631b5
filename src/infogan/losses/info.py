"""InfoGAN's information term (arXiv:1606.03657, Eq. 4-5).

L_I(G, Q) = E_{c~P(c), x~G(z,c)}[log Q(c|x)] + H(c) <= I(c; G(z, c)). Per code, L_I = H(c) - NLL, where NLL is Q's
negative log-likelihood of the code that generated x. Minimising the weighted NLLs maximises the bound.
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
