"""dSprites (Matthey et al. 2017, the dataset of beta-VAE and of the disentanglement literature): every combination
of shape 3 (square, ellipse, heart), scale 6 (0.5 .. 1), orientation 40 (0 .. 2 pi, both ends included, so the first
and last orientation are the same angle, as in dSprites' file), position x
32 and position y 32, once each - 737,280 binary 64x64 images.

The images come from dSprites' own file, `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`, when it is in
`--data-root` (or its `dsprites/` folder); otherwise the project renders them with the `shapes` geometry and no
anti-aliasing (a pixel is ink when its centre is inside the sprite), each only when a batch asks for it, so
nothing large is stored. Where the rendering can differ from the file: the heart's outline (dSprites drew its
own; ours is the curve (x^2 + y^2 - 1)^3 = x^2 y^3), the sprites' size in pixels and the margin their positions
keep from the border (ours: a sprite of scale 1 fits a disc of 0.2 of the side, centres 0.2 .. 0.8 of it), the
direction of position y and of orientation, and which pixels on an edge count as ink.

Splits: dSprites has none. `train` is the whole factorial in a fixed random order (row i is combination
`order[i]`, the same for every run); `test` is 5,000 combinations drawn uniformly with a fixed seed. The label is
the shape index.
"""

from __future__ import annotations

import math
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from infogan.data.base import ImageSource, Split, resize01
from infogan.data.shapes import FACTOR_SIZES, NATIVE_SIZE, SHAPE_NAMES, Shapes, row_keys
from infogan.errors import DataUnavailableError
from infogan.images import LazyImages

FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
COMBINATIONS = math.prod(FACTOR_SIZES)  # 737,280
ORDER_SEED = 0
TEST_IMAGES, TEST_SEED = 5_000, 1


def factor_rows(index: Tensor) -> Tensor:
    """(n, 5) long factor rows of combinations (n,) numbered as dSprites' file orders them (`shapes.row_keys`)."""
    rows = torch.empty(index.shape[0], len(FACTOR_SIZES), dtype=torch.long)
    rest = index.long()
    for j in reversed(range(len(FACTOR_SIZES))):
        rows[:, j] = rest % FACTOR_SIZES[j]
        rest = rest // FACTOR_SIZES[j]
    return rows


@cache
def read_file(path: Path) -> np.ndarray:
    """dSprites' images, (737,280, 64, 64) uint8 of 0 and 1, read once per process (2.9 GB in memory)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            images = npz["imgs"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise DataUnavailableError(f"dataset dsprites: cannot read {path}: {exc}") from exc
    if images.shape != (COMBINATIONS, NATIVE_SIZE, NATIVE_SIZE):
        raise DataUnavailableError(
            f"dataset dsprites: {path} holds images of shape {images.shape}, "
            f"not ({COMBINATIONS}, {NATIVE_SIZE}, {NATIVE_SIZE})"
        )
    return images


class DSprites(Shapes):
    """The ground truth of dSprites (see `GroundTruthData`): binary sprites rendered by the project, or looked up
    in dSprites' own file when `path` names it.

    Args:
        image_size: side of the images in pixels (64 natively; other sizes are resized as a dataset resizes).
        path: dSprites' npz file, or None to render.
    """

    supersample = 1

    def __init__(self, image_size: int = NATIVE_SIZE, path: Path | None = None) -> None:
        super().__init__(image_size)
        self.path = path

    def render(self, factors: Tensor, size: int | None = None) -> Tensor:
        size = self.image_size if size is None else size
        if self.path is None:
            return super().render(factors, size)
        factors = self.checked(factors)
        looked_up = read_file(self.path)[row_keys(factors).numpy()]
        return resize01(torch.from_numpy(looked_up).float().unsqueeze(1), size)


class DSpritesSource(ImageSource):
    name = "dsprites"
    description = (
        "dSprites: 737,280 binary 64x64 sprites, every combination of shape, scale, orientation, x, y; "
        f"from {FILE} when --data-root holds it, otherwise rendered as used"
    )
    how_to_get = (
        f"rendered by infogan (nothing to download); for the published images put {FILE} in --data-root"
    )
    channels = 1
    image_size = NATIVE_SIZE
    num_classes = len(SHAPE_NAMES)

    def available(self, root: Path | None) -> bool:
        return True

    def file(self, root: Path | None) -> Path | None:
        """dSprites' own file under `root` (or `root/dsprites`), or None to render."""
        if root is None:
            return None
        return next((p for p in (root / FILE, root / "dsprites" / FILE) if p.is_file()), None)

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor | LazyImages, Tensor]:
        truth = self.ground_truth(root=root)
        if split == "test":
            factors = truth.sample_factors(TEST_IMAGES, torch.Generator().manual_seed(TEST_SEED))
            return truth.render(factors), factors[:, 0].clone()
        order = torch.randperm(COMBINATIONS, generator=torch.Generator().manual_seed(ORDER_SEED))

        def make(rows: Tensor) -> Tensor:
            return truth.render(factor_rows(order[rows]))

        return LazyImages(COMBINATIONS, make, (1, NATIVE_SIZE, NATIVE_SIZE)), factor_rows(order)[:, 0]

    def ground_truth(self, image_size: int | None = None, root: Path | None = None) -> DSprites:
        """The ground-truth interface that disentanglement metrics sample from, rendering at `image_size`."""
        if root is not None and not root.exists():
            raise DataUnavailableError(f"dataset dsprites: data root {root} does not exist")
        return DSprites(image_size or NATIVE_SIZE, self.file(root))


SOURCE = DSpritesSource()
