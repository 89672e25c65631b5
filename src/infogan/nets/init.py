"""Weight initialisation of the official InfoGAN code (openai/InfoGAN, prettytensor's defaults as it uses them).

Convolution and linear weights ~ N(0, 0.02) (truncated at two standard deviations for convolutions), biases 0,
batch-norm scale ~ N(1, 0.02) and shift 0. PyTorch's default (Kaiming-uniform weights) is infogan's default; this
is the `model.init: normal` option.
"""

from __future__ import annotations

import torch
from torch import nn

STD = 0.02


@torch.no_grad()
def official_init(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """Re-initialise every convolution, linear and batch-norm layer inside `module` in place."""
    for m in module.modules():
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
