"""Image grids of samples (torchvision's make_grid)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from infogan.latent import Latent, LatentSpec


def to_unit(images: Tensor) -> Tensor:
    """Map images from [-1, 1] to [0, 1] for display."""
    return (images.clamp(-1, 1) + 1) / 2


def image_grid(images: Tensor, nrow: int, padding: int = 2) -> Tensor:
    """Tile (B, C, H, W) images in [-1, 1] into one (C, H', W') image in [0, 1], `nrow` images per row."""
    from torchvision.utils import make_grid  # torchvision takes seconds to import; pay only when drawing

    return make_grid(to_unit(images.detach().cpu()), nrow=nrow, padding=padding, pad_value=1.0)


def save_grid(images: Tensor, path: Path, nrow: int) -> None:
    """Write a grid of (B, C, H, W) images in [-1, 1] to a PNG file."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(to_unit(images.detach().cpu()), str(path), nrow=nrow, padding=2, pad_value=1.0)


def preview_latent(
    spec: LatentSpec, seed: int, rows: int = 10, device: torch.device | str = "cpu"
) -> tuple[Latent, int]:
    """A fixed latent batch for watching training: with a categorical code, one column per category and one row
    per noise draw (paper Fig. 2a); otherwise a rows x rows grid of prior draws.

    Returns:
        (latent, images per row).
    """
    generator = torch.Generator(device).manual_seed(seed)
    if spec.categorical:
        code = spec.categorical[0]
        return spec.traversal(
            code.name, torch.arange(code.k), rows=rows, generator=generator, device=device
        ), code.k
    return spec.sample(rows * rows, generator=generator, device=device), rows
