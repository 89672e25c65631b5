"""Synthetic dSprites-like sprites with known factors (Matthey et al. 2017, the dSprites dataset used by
beta-VAE, arXiv:1804.03599), rendered by the project and deterministic from a seed.

Factors (values): shape 3 (square, ellipse, heart), scale 6 (0.5 .. 1), orientation 40 (0 .. 2 pi, both ends
included, as dSprites' file has them), position x 32 and position y 32 (0 .. 1 of the range where a sprite fits). A white sprite on black,
one channel, 64x64 natively or any size. Each pixel is the fraction of its 2x2 sub-pixel samples that fall inside
the sprite: the pixel grid is mapped into the sprite's frame and tested against an implicit shape function.
Position y grows downwards (image rows); orientation turns the sprite counter-clockwise as displayed.

Splits: 20,000 train images from seed 0 and 5,000 test images from seed 1; the label is the shape index.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor
from torch.nn import functional as F

from infogan.data.base import ImageSource, Split, resize01

FACTOR_NAMES = ("shape", "scale", "orientation", "position_x", "position_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
NATIVE_SIZE = 64
# Every canonical shape fits in the unit disc, so a sprite of scale 1 fits in a disc of this radius (in image
# widths) at any orientation; positions 0 .. 1 map to centres SPRITE_RADIUS .. 1 - SPRITE_RADIUS.
SPRITE_RADIUS = 0.2
SUPERSAMPLE = 2
# Sprites rendered at once: the (chunk, 128, 128) temporaries of a 64x64 chunk (4 MB each) stay in cache, which
# measured faster than larger chunks.
RENDER_CHUNK = 64
SPLITS: dict[str, tuple[int, int]] = {"train": (20_000, 0), "test": (5_000, 1)}  # split -> (images, seed)


def _square(u: Tensor, v: Tensor) -> Tensor:
    # Half-side 1/sqrt(2): the corners touch the unit circle.
    return torch.maximum(u.abs(), v.abs()) <= math.sqrt(0.5)


def _ellipse(u: Tensor, v: Tensor) -> Tensor:
    return u.square() + (2 * v).square() <= 1  # semi-axes 1 and 1/2, as the elongated dSprites ellipse


def _heart(u: Tensor, v: Tensor) -> Tensor:
    # The heart curve (x^2 + y^2 - 1)^3 = x^2 y^3 spans x in [-1.14, 1.14], y in [-1, 1.24]; around (0, 0.25)
    # its farthest point is at distance 1.25, so this shift and scale put it in the unit disc.
    x = 1.25 * u
    y = 1.25 * v + 0.25
    return (x.square() + y.square() - 1).pow(3) <= x.square() * y.pow(3)


_SHAPE_FUNCTIONS = (_square, _ellipse, _heart)


def _coverage(
    factors: Tensor, size: int, inside_fn: Callable[[Tensor, Tensor], Tensor], supersample: int = SUPERSAMPLE
) -> Tensor:
    """(n, size, size) fraction of each pixel's `supersample` x `supersample` sub-pixel samples inside the sprite,
    for one shape's rows (with 1, whether the pixel's centre is inside: a binary image)."""
    fine = size * supersample
    grid = (torch.arange(fine, dtype=torch.float32) + 0.5) / fine  # sub-pixel centres in [0, 1]
    radius = SPRITE_RADIUS * (0.5 + 0.5 * factors[:, 1].float() / (FACTOR_SIZES[1] - 1))  # scale 0.5 .. 1
    # dSprites' file: 40 orientations from 0 to 2 pi inclusive, so its first and last are the same angle
    theta = factors[:, 2].float() * (2 * math.pi / (FACTOR_SIZES[2] - 1))
    free = 1 - 2 * SPRITE_RADIUS
    cx = SPRITE_RADIUS + free * factors[:, 3].float() / (FACTOR_SIZES[3] - 1)
    cy = SPRITE_RADIUS + free * factors[:, 4].float() / (FACTOR_SIZES[4] - 1)
    # Offsets divided by the radius, so the shape functions work in the canonical unit-disc frame.
    dx = ((grid - cx[:, None]) / radius[:, None])[:, None, :]  # (n, 1, fine): varies along columns
    dy = ((grid - cy[:, None]) / radius[:, None])[:, :, None]  # (n, fine, 1): varies along rows
    cos, sin = theta.cos()[:, None, None], theta.sin()[:, None, None]
    # Rotating the image point by -theta (with y flipped to point up) undoes the sprite's rotation.
    u = cos * dx - sin * dy  # (n, fine, fine)
    v = -sin * dx - cos * dy
    inside = inside_fn(u, v).float().unsqueeze(1)  # (n, 1, fine, fine)
    return F.avg_pool2d(inside, supersample).squeeze(1)


class Shapes:
    """Ground-truth interface to the sprites: sample factor rows, render them (see `GroundTruthData`).

    Args:
        image_size: side of rendered images in pixels (64 natively; e.g. 32 for a model trained at 32x32).
    """

    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES
    supersample: int = SUPERSAMPLE  # sub-pixel samples per side: 2 anti-aliases, 1 gives binary images

    def __init__(self, image_size: int = NATIVE_SIZE) -> None:
        if image_size < 1:
            raise ValueError(f"image_size must be positive, got {image_size}")
        self.image_size = image_size

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """(n, 5) long factor rows, each factor uniform over its values."""
        sizes = torch.tensor(self.factor_sizes, dtype=torch.float64)
        # Uniform draws floored to each factor's range: torch.randint takes only one upper bound per call.
        return (torch.rand(n, self.num_factors, generator=generator, dtype=torch.float64) * sizes).long()

    def render(self, factors: Tensor, size: int | None = None) -> Tensor:
        """Render factor rows as images.

        Args:
            factors: (n, 5) integer factor rows (shape, scale, orientation, position x, position y).
            size: image side in pixels; defaults to `self.image_size`.

        Returns:
            (n, 1, size, size) float32 in [0, 1]: the sprite's coverage of each pixel. Other sizes than the
            native 64 are rendered at 64 and resized exactly as a dataset resizes its images (`resize01`), so the
            images a model is evaluated on match the ones it was trained on.
        """
        size = self.image_size if size is None else size
        if size != NATIVE_SIZE:
            return resize01(self.render(factors, NATIVE_SIZE), size)
        factors = self.checked(factors)
        images = torch.empty(factors.shape[0], 1, size, size)
        # One shape at a time, so each implicit function runs only on its own sprites.
        for shape, inside_fn in enumerate(_SHAPE_FUNCTIONS):
            rows = torch.nonzero(factors[:, 0] == shape).flatten()
            for chunk in rows.split(RENDER_CHUNK):
                images[chunk, 0] = _coverage(factors[chunk], size, inside_fn, self.supersample)
        return images

    def checked(self, factors: Tensor) -> Tensor:
        """`factors` as a long tensor, or a ValueError unless they are (n, 5) rows of values in range."""
        factors = torch.as_tensor(factors).long()
        if factors.ndim != 2 or factors.shape[1] != self.num_factors:
            raise ValueError(f"factors must be (n, {self.num_factors}), got shape {tuple(factors.shape)}")
        limits = torch.tensor(self.factor_sizes)
        if factors.numel() and ((factors < 0).any() or (factors >= limits).any()):
            raise ValueError(f"factor values must lie in [0, size) for sizes {self.factor_sizes}")
        return factors

    def sample(
        self, n: int, generator: torch.Generator | None = None, size: int | None = None
    ) -> tuple[Tensor, Tensor]:
        """Factor rows (n, 5) long and their images (n, 1, size, size) in [0, 1]."""
        factors = self.sample_factors(n, generator)
        return factors, self.render(factors, size)


def row_keys(factors: Tensor) -> Tensor:
    """One integer per factor row: the mixed-radix index of the combination, which is also its row in dSprites'
    own file (shape slowest, position y fastest)."""
    key = torch.zeros(factors.shape[0], dtype=torch.long)
    for j, size in enumerate(FACTOR_SIZES):
        key = key * size + factors[:, j]
    return key


class ShapesSource(ImageSource):
    name = "shapes"
    description = "synthetic sprites with known factors (shape, scale, orientation, x, y), 64x64, generated"
    how_to_get = "generated by infogan, deterministic from a seed (nothing to download)"
    channels = 1
    image_size = NATIVE_SIZE
    num_classes = len(SHAPE_NAMES)

    def available(self, root: Path | None) -> bool:
        return True

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        factors = self.split_factors(split)
        return Shapes().render(factors), factors[:, 0].clone()

    def split_factors(self, split: Split) -> Tensor:
        """The fixed (N, 5) long factor rows of a split; row i is the factors of image i of `load`."""
        n, seed = SPLITS[split]
        rows = Shapes().sample_factors(n if split == "train" else 2 * n, torch.Generator().manual_seed(seed))
        if split == "train":
            return rows
        # Held-out sprites are factor combinations the training split does not contain.
        train_keys = set(row_keys(self.split_factors("train")).tolist())
        keep = torch.tensor([key not in train_keys for key in row_keys(rows).tolist()])
        return rows[keep][:n]

    def ground_truth(self, image_size: int | None = None, root: Path | None = None) -> Shapes:
        """The ground-truth interface that disentanglement metrics sample from, rendering at `image_size` (the
        sprites are generated, so `root` is not read)."""
        return Shapes(image_size or NATIVE_SIZE)


SOURCE = ShapesSource()
