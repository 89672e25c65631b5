"""Lipschitz constraints for Wasserstein critics: weight clipping (WGAN, Arjovsky et al. 2017, arXiv:1701.07875)
and the gradient penalty on interpolates (WGAN-GP, Gulrajani et al. 2017, arXiv:1704.00028)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn


@torch.no_grad()
def clip_weights(params: Iterable[nn.Parameter], bound: float) -> None:
    """Clamp every parameter to [-bound, bound] in place (WGAN uses bound 0.01)."""
    for p in params:
        p.clamp_(-bound, bound)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    x_real: Tensor,
    x_fake: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """E[(||grad_x f(x_hat)||_2 - 1)^2] on random interpolates x_hat = e x_real + (1 - e) x_fake, e ~ U(0, 1).

    The penalty is differentiable in the critic's parameters (create_graph). The norm is computed as
    sqrt(sum g^2 + eps) so its gradient stays finite where the critic's gradient is exactly zero.

    Args:
        critic: images (B, C, H, W) -> scores (B,).
        x_real, x_fake: (B, C, H, W) batches of the same shape; x_fake should be detached from G.
        generator: source of the interpolation weights.

    Returns:
        The 0-d penalty (multiply by lambda, 10 in the paper).
    """
    eps = torch.rand(x_real.shape[0], 1, 1, 1, generator=generator, device=x_real.device, dtype=x_real.dtype)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norm = torch.sqrt(grad.flatten(1).pow(2).sum(dim=1) + 1e-12)
    return (norm - 1).pow(2).mean()
