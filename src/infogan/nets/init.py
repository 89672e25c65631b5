"""Weight initialisation of the official InfoGAN code (openai/InfoGAN, prettytensor's defaults as it uses them).

Convolution and linear weights ~ N(0, 0.02) (truncated at two standard deviations for convolutions and, unlike the
official code, up-convolutions: docs/paper-differences.md), biases 0, batch-norm scale ~ N(1, 0.02) and shift 0. PyTorch's default (Kaiming-uniform weights) is infogan's default; this
is the `model.init: normal` option. A spectrally normalised layer (`backbone: dsprites`) gets the same draw for the
weight it normalises, and its spectral-norm estimate is then taken afresh for that weight.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

STD = 0.02


@torch.no_grad()
def official_init(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """Re-initialise every convolution, linear and batch-norm layer inside `module` in place."""
    for m in list(module.modules()):
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear) and parametrize.is_parametrized(
            m, "weight"
        ):
            _reinit_spectral(m, generator)  # the weight and bias as below, then normalised afresh
            continue
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.trunc_normal_(m.weight, 0.0, STD, -2 * STD, 2 * STD, generator=generator)
        elif isinstance(m, nn.Linear):
            m.weight.normal_(0.0, STD, generator=generator)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            m.weight.normal_(1.0, STD, generator=generator)
        else:
            continue
        if m.bias is not None:
            m.bias.zero_()


def _reinit_spectral(layer: nn.Module, generator: torch.Generator | None) -> None:
    """Draw a spectrally normalised layer's own weight as `official_init` draws a plain one's, then normalise it
    afresh: the parametrisation is removed, the weight drawn, and spectral norm applied again with the same
    settings, so its power-iteration vectors start from the new weight rather than the one drawn before."""
    norm: Any = layer.parametrizations["weight"][0]  # type: ignore[index]
    if type(norm).__name__ != "_SpectralNorm":
        raise TypeError(
            f"cannot re-initialise {type(layer).__name__}: its weight is parametrised by {norm!r}"
        )
    settings = {"n_power_iterations": norm.n_power_iterations, "eps": norm.eps, "dim": norm.dim}
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    official_init(layer, generator)
    spectral_norm(layer, **settings)
