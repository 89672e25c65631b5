"""Networks that work on pixels in [0, 1] inside a project whose images are in [-1, 1] (`model.unit_range`).

Some reference code (the official InfoGAN code on MNIST, InfoGAN-CR's on dSprites) feeds its networks pixels in
[0, 1] and ends G with a sigmoid. With `unit_range` our networks do the same inside: G draws 2 sigmoid(a) - 1 and D
reads (x + 1) / 2, while the images outside the networks stay in [-1, 1]. This is more than a change of scale: D's
zero padding is the background's value on [0, 1] and not on [-1, 1], and the first layer sees inputs half as far
apart.
"""

from __future__ import annotations

import torch
from torch import Tensor


def image_from_logits(logits: Tensor, unit_range: bool) -> Tensor:
    """G's last pre-activation -> images in [-1, 1]: tanh, or with `unit_range` a sigmoid on [0, 1] mapped to [-1, 1]
    (tanh(a) = 2 sigmoid(2a) - 1: the same family of functions, its input scaled by two)."""
    return 2 * torch.sigmoid(logits) - 1 if unit_range else torch.tanh(logits)


def network_input(x: Tensor, unit_range: bool) -> Tensor:
    """Images in [-1, 1] as D's first layer reads them: unchanged, or on [0, 1] with `unit_range`."""
    return (x + 1) / 2 if unit_range else x
