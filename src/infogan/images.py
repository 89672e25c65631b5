"""Images as every layer passes them: one tensor (N, C, H, W), or, for a dataset too large to hold (dSprites'
737,280 images), `LazyImages` that are made only when indexed. Imports nothing of infogan."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


class LazyImages:
    """Images made only when indexed: `make` maps row indices (B,) long on the CPU to images (B, C, H, W).

    Indexing with an int, a slice or an index tensor gives a tensor, as indexing a tensor of all the images
    would, on `device`; `map` composes a function applied to every batch made (e.g. the [0, 1] -> [-1, 1] map).
    """

    ndim = 4

    def __init__(
        self,
        n: int,
        make: Callable[[Tensor], Tensor],
        shape: tuple[int, int, int],
        device: torch.device | str = "cpu",
    ) -> None:
        self.n, self.make, self.image_shape, self.device = n, make, shape, torch.device(device)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((self.n, *self.image_shape))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int | slice | Tensor) -> Tensor:
        if isinstance(index, int):
            return self[torch.tensor([index])][0]
        rows = torch.arange(self.n)[index] if isinstance(index, slice) else index.to("cpu").long()
        if rows.numel() and (rows.min() < -self.n or rows.max() >= self.n):
            raise IndexError(f"index out of range for {self.n} images")
        return self.make(rows % self.n).to(self.device)

    def to(self, device: torch.device | str) -> LazyImages:
        return LazyImages(self.n, self.make, self.image_shape, device)

    def take(self, rows: Tensor) -> LazyImages:
        """The images at `rows` (M,) long, still made only when indexed."""
        make, rows = self.make, rows.to("cpu").long()
        return LazyImages(rows.shape[0], lambda index: make(rows[index]), self.image_shape, self.device)

    def map(self, fn: Callable[[Tensor], Tensor], shape: tuple[int, int, int] | None = None) -> LazyImages:
        """These images with `fn` applied to every batch (of image shape `shape`, if it changes it)."""
        make = self.make
        return LazyImages(self.n, lambda rows: fn(make(rows)), shape or self.image_shape, self.device)


Images = Tensor | LazyImages


def unreadable_reason(exc: BaseException) -> str:
    """Why Pillow could not read an image, in words about the file. An unidentified file's own message names
    Pillow's in-memory buffer or a path the user never typed, so it is replaced; any other error says why itself."""
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not in any image format Pillow reads (PNG, JPEG, ...)"
    return str(exc)
