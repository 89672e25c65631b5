"""Monte-Carlo estimate of InfoGAN's lower bound L_I per code (arXiv:1606.03657, Eq. 4-5).

L_I(c) = H(c) + E_{c~P(c), x~G(z,c)}[log Q(c|x)], averaged over many generated samples with G, D and Q in eval mode.
"""

from __future__ import annotations

import torch

from infogan.models.infogan import InfoGAN


@torch.no_grad()
def mi_lower_bounds(
    model: InfoGAN,
    n_samples: int,
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
    batch_stats: bool = False,
) -> dict[str, float]:
    """L_I in nats for each code of `model`, from `n_samples` draws of the prior.

    With `batch_stats`, Q's batch norm uses each batch's statistics (as during training) instead of its running
    averages: the running averages mix D's real and fake passes and can misstate Q on fakes when those differ.

    Returns:
        ``{code name: L_I}``; for a categorical code L_I <= H(c) = ln K.
    """
    totals = {c.name: 0.0 for c in model.latent.codes}
    done = 0
    while done < n_samples:
        n = min(batch_size, n_samples - done)
        latent = model.latent.sample(n, generator=generator, device=model.device)
        for name, nll in model.code_nll(latent, batch_stats=batch_stats).items():
            totals[name] += float(nll) * n
        done += n
    return {c.name: c.entropy - totals[c.name] / n_samples for c in model.latent.codes}
