"""The VAE's objective (Kingma & Welling 2014, arXiv:1312.6114): the negative ELBO is a reconstruction term,
-E_q[log p(x|z)], plus KL(q(z|x) || N(0, I)); beta-VAE (Higgins et al. 2017) weights the KL by beta.

All terms are per image (summed over pixels or latent dimensions), in nats.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from infogan.losses.info import gaussian_nll as _elementwise_gaussian_nll


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in closed form (arXiv:1312.6114, Appendix B).

    Args:
        mu: (B, D) posterior means.
        logvar: (B, D) posterior log-variances.

    Returns:
        (B,) 0.5 * sum_d (mu^2 + exp(logvar) - logvar - 1), in nats, >= 0.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def bernoulli_nll(logits: Tensor, target01: Tensor) -> Tensor:
    """-log p(x|z) of independent Bernoulli pixels with the given logits, summed over pixels.

    Targets may lie anywhere in [0, 1] (grey-level MNIST is not binarised): the term is then the binary
    cross-entropy, as in most VAE code, not the log-likelihood of a normalised density. The continuous Bernoulli
    (Loaiza-Ganem & Cunningham 2019), which would normalise it, is not used.

    Args:
        logits: (B, ...) decoder outputs, any real values.
        target01: (B, ...) targets in [0, 1], the same shape.

    Returns:
        (B,) nats per image.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target01, reduction="none")
    return bce.flatten(1).sum(dim=1)


def gaussian_nll(mean: Tensor, target: Tensor, log_sigma: Tensor | float) -> Tensor:
    """-log N(target; mean, sigma^2 I) summed over pixels, including the 0.5 * log(2 pi) term of every pixel.

    Args:
        mean: (B, ...) decoder means.
        target: (B, ...) data, the same shape.
        log_sigma: the log standard deviation: a scalar (one sigma for every pixel) or a tensor broadcastable to
            `mean`.

    Returns:
        (B,) nats per image.
    """
    log_std = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    return _elementwise_gaussian_nll(target, mean, log_std).flatten(1).sum(dim=1)


def reparameterise(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A differentiable draw z ~ N(mu, diag(exp(logvar))): z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I).

    Args:
        mu: (B, D) means.
        logvar: (B, D) log-variances.
        generator: source of eps, on the tensors' device.

    Returns:
        (B, D) samples; gradients flow to `mu` and `logvar`.
    """
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
