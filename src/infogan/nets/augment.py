"""Differentiable augmentation for the discriminator (DiffAugment; Zhao et al. 2020, arXiv:2006.10738).

On a small dataset D memorises the real images and G's samples collapse towards them. DiffAugment applies the same
random transform T to every image D sees, real and fake, in D's step and in G's: D learns to tell T(x) from T(G(z)),
and G's gradient flows back through T, so the generated images themselves are never pushed to look transformed.

Transforms act per image, on images in [-1, 1]:

- ``translation``: an integer shift of up to `TRANSLATION` of the image side in each direction; the pixels shifted
  in repeat the edge (MNIST's black border stays black).
- ``cutout``: a square of `CUTOUT` of the side, at a random place, set to 0 (mid-grey).
- ``affine``: a rotation, shear and zoom per image (`random_affine`, sizes `AFFINE_*`): with it Q can read a
  categorical code only from what survives a change of slant, so G cannot encode the code in the slant.

The random draws come from the generator passed in (the model's training generator), so a resumed run repeats them.

`random_affine` (a small rotation, shear, shift and zoom per image) and `random_thickness` (thicker or thinner bright
strokes) are not DiffAugment's transforms: they make the second view of a real image for InfoGAN's real-image
consistency term (models/infogan.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Augmentation = Literal["translation", "cutout", "affine"]

TRANSLATION = 0.125  # DiffAugment's ratios
CUTOUT = 0.5
# `affine`: not one of DiffAugment's transforms; a small rotation, shear and zoom, as in ADA's geometric ones
# (arXiv:2006.06676), of the size that MNIST's own slant varies by (std 0.26).
AFFINE_DEGREES, AFFINE_SHEAR, AFFINE_SCALE = 15.0, 0.3, 0.1


def diff_augment(x: Tensor, policy: Sequence[Augmentation], generator: torch.Generator) -> Tensor:
    """Apply each transform of `policy`, in order, to the batch x (B, C, H, W); differentiable in x."""
    for name in policy:
        if name == "translation":
            x = translate(x, generator)
        elif name == "cutout":
            x = cutout(x, generator)
        else:
            x = random_affine(
                x, generator, degrees=AFFINE_DEGREES, shift=0.0, scale=AFFINE_SCALE, shear=AFFINE_SHEAR
            )
    return x


def translate(x: Tensor, generator: torch.Generator, ratio: float = TRANSLATION) -> Tensor:
    """Shift each image by its own (dy, dx), each uniform in [-s, s] pixels with s = round(ratio * side)."""
    b, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sy == 0 and sx == 0:
        return x
    padded = F.pad(x, (sx, sx, sy, sy), mode="replicate")
    dy = torch.randint(0, 2 * sy + 1, (b, 1, 1), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * sx + 1, (b, 1, 1), generator=generator, device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy  # (B, H, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx  # (B, 1, W)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    # Advanced indices around a sliced channel dim put the broadcast (B, H, W) first: (B, H, W, C).
    return padded[batch, :, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, generator: torch.Generator, ratio: float = CUTOUT) -> Tensor:
    """Set a square of side round(ratio * side) to 0 in each image, centred anywhere (clipped at the border)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h, (b, 1, 1), generator=generator, device=x.device) - ch // 2
    left = torch.randint(0, w, (b, 1, 1), generator=generator, device=x.device) - cw // 2
    i = torch.arange(h, device=x.device).view(1, h, 1)
    j = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (i >= top) & (i < top + ch) & (j >= left) & (j < left + cw)  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def random_affine(
    x: Tensor, generator: torch.Generator, *, degrees: float, shift: float, scale: float, shear: float = 0.0
) -> Tensor:
    """Rotate, shear, shift and zoom each image of x (B, C, H, W) by its own random amounts, each uniform in
    [-degrees, degrees], [-shear, shear] (horizontal shear: x moves by shear * y, a change of slant), [-shift, shift]
    of the side and [1 - scale, 1 + scale]; pixels brought in from outside repeat the edge. Bilinear,
    differentiable in x."""
    b = x.shape[0]
    u = torch.rand(b, 4, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1  # (B, 4) in [-1, 1]
    # drawn only when used, so that runs without shear repeat the draws of those made before it existed
    slope = (
        shear * (torch.rand(b, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1) if shear else 0
    )
    angle = u[:, 0] * math.radians(degrees)
    zoom = 1 + u[:, 1] * scale
    # theta maps output coordinates to input ones, both in [-1, 1] across the image: a shift of f of the side is 2f.
    # Its linear part is rotation @ [[1, slope], [0, 1]] / zoom.
    cos, sin = angle.cos() / zoom, angle.sin() / zoom
    theta = torch.stack(
        [
            torch.stack([cos, cos * slope - sin, 2 * shift * u[:, 2]], 1),
            torch.stack([sin, sin * slope + cos, 2 * shift * u[:, 3]], 1),
        ],
        1,
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_thickness(x: Tensor, generator: torch.Generator, amount: float) -> Tensor:
    """Make the bright strokes of each image of x (B, C, H, W) thicker or thinner by its own random amount t,
    uniform in [-amount, amount] (amount <= 1): x + t (dilate(x) - x) for t > 0 and x + |t| (erode(x) - x) for
    t < 0, where dilate and erode are the grey-level maximum and minimum over each pixel's 3 x 3 neighbourhood, so
    t = 1 adds (or removes) about one pixel of ink around every stroke. Differentiable in x."""
    t = amount * (
        torch.rand(x.shape[0], 1, 1, 1, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
    )
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
    return x + t.clamp(min=0) * (dilated - x) + (-t).clamp(min=0) * (eroded - x)
