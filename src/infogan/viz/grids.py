"""Image grids of samples (torchvision's make_grid)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


# The side, in pixels, a person needs to make out a small image: 8x8 and 28x28 images are enlarged to reach it.
READABLE_SIDE = 64


def readable_scale(side: int) -> int:
    """The whole enlargement that brings an image side of `side` pixels to at least `READABLE_SIDE` (1 for
    images already that large): 8 for 8x8 digits, 3 for MNIST's 28x28, 2 for 32x32."""
    return max(1, -(-READABLE_SIDE // max(side, 1)))


def grid_picture(
    images: Tensor,
    nrow: int,
    *,
    scale: int | None = None,
    caption: str | None = None,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
) -> Any:
    """A PIL image of a grid of (B, C, H, W) images in [-1, 1], `nrow` per row.

    Args:
        scale: each image enlarged this many times (nearest neighbour: pixels stay sharp); None enlarges small
            images to a readable size (`readable_scale`).
        caption: a line of text above the grid.
        row_labels: a label left of each row.
        column_labels: a label above each column (a swept value, a category and its digit).
    """
    from PIL import Image, ImageDraw, ImageFont

    scale = readable_scale(images.shape[-1]) if scale is None else scale
    if scale > 1:
        images = torch.nn.functional.interpolate(
            images.detach().cpu().float(), scale_factor=scale, mode="nearest"
        )
    grid = image_grid(images, nrow)  # (C, H', W') in [0, 1]
    pixels = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels.squeeze(2) if pixels.shape[2] == 1 else pixels).convert("RGB")
    if not (caption or row_labels or column_labels):
        return picture
    font = ImageFont.load_default()
    line = 14  # the default font's line height, with room
    left = 6 + max((int(font.getlength(label)) for label in row_labels or []), default=0) if row_labels else 0
    top = (line + 6 if caption else 0) + (line + 2 if column_labels else 0)
    width = max(picture.width + left, int(font.getlength(caption or "")) + 8)
    framed = Image.new("RGB", (width, picture.height + top), "white")
    framed.paste(picture, (left, top))
    draw = ImageDraw.Draw(framed)
    if caption:
        draw.text((4, 3), caption, fill="black", font=font)
    cell_h, cell_w = images.shape[-2] + 2, images.shape[-1] + 2  # make_grid's padding of 2 between images
    for i, label in enumerate(row_labels or []):
        draw.text((3, top + 2 + i * cell_h + cell_h // 2 - line // 2), label, fill="black", font=font)
    for j, label in enumerate(column_labels or []):
        x = left + 2 + j * cell_w + cell_w // 2 - int(font.getlength(label)) // 2
        draw.text((max(x, left), top - line), label, fill="black", font=font)
    return framed


def save_grid(
    images: Tensor,
    path: Path,
    nrow: int,
    *,
    scale: int | None = None,
    caption: str | None = None,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
) -> None:
    """Write a grid of (B, C, H, W) images in [-1, 1] to an image file (`grid_picture` says what each option
    does; small images are enlarged to a readable size unless `scale` says otherwise)."""
    picture = grid_picture(
        images, nrow, scale=scale, caption=caption, row_labels=row_labels, column_labels=column_labels
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)


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


class SampleGrids:
    """A training-loop callback (`infogan.training.loop.Callback`): the grid of a fixed latent batch
    (`preview_latent`, from the run's seed) written to ``samples/step-<N>.png`` every `sample_every` steps and at
    the last step, to watch training."""

    def on_fit_start(self, trainer: Any, step: int) -> None:
        self.trainer = trainer
        self.latent, self.cols = preview_latent(
            trainer.model.latent, trainer.cfg.seed, device=trainer.model.device
        )

    def log_values(self, step: int) -> dict[str, float]:
        return {}

    def on_log(self, step: int) -> None:
        pass

    def on_step_end(self, step: int, final: bool) -> None:
        if step % self.trainer.cfg.sample_every == 0 or final:
            model = self.trainer.model
            categorical = model.latent.categorical
            columns = [f"{categorical[0].name}={k}" for k in range(self.cols)] if categorical else None
            save_grid(
                model.generate(self.latent),
                self.trainer.run.samples / f"step-{step}.png",
                self.cols,
                column_labels=columns,
            )
