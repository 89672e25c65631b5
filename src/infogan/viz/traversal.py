"""Latent traversals in the layout of arXiv:1606.03657 Fig. 2: one code varies left to right, everything else is
held fixed along a row; rows are the values of a categorical code or independent draws of the other inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from matplotlib.figure import Figure
from torch import Tensor

from infogan.models.base import GenerativeModel
from infogan.viz.grids import image_grid

ALL_CODES = "all"  # as a code name: one row per continuous code (`traverse_codes`)


@dataclass(frozen=True)
class Traversal:
    """Images of a traversal and what they show.

    Attributes:
        images: (rows * columns, C, H, W) in [-1, 1], row-major.
        code: the swept code.
        values: (columns,) the swept values.
        row_labels: one label per row.
    """

    images: Tensor
    code: str
    values: Tensor
    row_labels: list[str]
    # One label per column when the values are categories (with the digit each was matched to), else None.
    column_labels: list[str] | None = None


def traverse(
    model: GenerativeModel,
    code: str,
    *,
    value_range: tuple[float, float] = (-2.0, 2.0),
    steps: int = 10,
    rows: int = 10,
    rows_by: str | None = "auto",
    generator: torch.Generator | None = None,
    matched: Mapping[str, Sequence[int]] | None = None,
) -> Traversal:
    """Generate a traversal of `code`.

    Args:
        model: a model with a latent spec.
        code: the code to sweep; categorical codes sweep all their values, continuous ones `steps` values evenly
            spaced over `value_range` (which may extend past the prior's support, as in the paper's -2..2).
        rows: number of rows when rows are independent draws.
        rows_by: a categorical code giving one row per value; "auto" picks the first categorical code other than
            `code` (rows are noise draws if there is none); None always uses independent draws.
        generator: randomness of the fixed inputs, on the model's device.
        matched: for categorical codes, the label each category was matched to on real images (eval.json's
            `mapping`), shown beside the category: ``c1=3 (7)``.
    """
    spec = model.latent
    swept = spec.code(code)
    if rows_by == "auto":
        rows_by = next((c.name for c in spec.categorical if c.name != code), None)
    values = (
        torch.arange(swept.k, dtype=torch.float32)
        if swept.is_categorical
        else torch.linspace(value_range[0], value_range[1], steps)
    )
    latent = spec.traversal(
        code, values, rows=rows, rows_by=rows_by, generator=generator, device=model.device
    )
    if rows_by is not None:
        labels = [category_label(rows_by, i, matched) for i in range(spec.code(rows_by).k)]
    else:
        labels = [f"draw {i + 1}" for i in range(rows)]
    columns = [category_label(code, i, matched) for i in range(swept.k)] if swept.is_categorical else None
    return Traversal(model.generate(latent), code, values, labels, columns)


def category_label(code: str, category: int, matched: Mapping[str, Sequence[int]] | None) -> str:
    """``c1=3``, or ``c1=3 (7)`` when category 3 of c1 was matched to label 7."""
    label = (matched or {}).get(code)
    if label is None or category >= len(label) or label[category] < 0:
        return f"{code}={category}"
    return f"{code}={category} ({label[category]})"


def traverse_codes(
    model: GenerativeModel,
    *,
    value_range: tuple[float, float] = (-2.0, 2.0),
    steps: int = 10,
    generator: torch.Generator | None = None,
) -> Traversal:
    """One row per continuous code, each sweeping its code over `value_range` from one shared draw of the noise
    and the other codes (the layout of the disentanglement literature's traversal figures)."""
    values = torch.linspace(value_range[0], value_range[1], steps)
    latent = model.latent.code_rows(values, generator=generator, device=model.device)
    labels = [c.name for c in model.latent.continuous]
    return Traversal(model.generate(latent), "value of each row's code", values, labels)


def traversal_figure(t: Traversal) -> Figure:
    """A labelled figure: column values along x, row labels along y."""
    n_cols = t.values.numel()
    grid = image_grid(t.images, nrow=n_cols)  # (C, H', W') in [0, 1]
    _, h, w = t.images.shape[1:]
    cell_h, cell_w = h + 2, w + 2
    # A pyplot-free Figure: no global backend state, safe in servers and threads.
    fig = Figure(figsize=(1.2 + 0.75 * n_cols, 0.8 + 0.75 * len(t.row_labels)), dpi=100)
    ax = fig.subplots()
    image = grid.permute(1, 2, 0).numpy()
    # nearest: an 8x8 or 28x28 image drawn over many screen pixels stays sharp instead of blurring
    ax.imshow(
        image if image.shape[2] == 3 else image[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest"
    )
    ax.set_xticks([2 + cell_w * (i + 0.5) - 1 for i in range(n_cols)])
    columns = t.column_labels or [f"{v:.2f}".rstrip("0").rstrip(".") for v in t.values.tolist()]
    ax.set_xticklabels(columns, fontsize=9, rotation=45 if t.column_labels else 0)
    ax.set_yticks([2 + cell_h * (i + 0.5) - 1 for i in range(len(t.row_labels))])
    ax.set_yticklabels(t.row_labels, fontsize=9)
    ax.set_xlabel(f"{t.code}")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    return fig
