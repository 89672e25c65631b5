"""Which image property each continuous code controls (InfoGAN, arXiv:1606.03657, Sec. 5.1 and Fig. 2).

The paper reads off its MNIST traversals that one continuous code rotates (slants) the digit and another changes its
width. Each continuous code is swept with every other input fixed (evaluation/semantics.py generates the sweeps),
simple properties are measured on the generated images from their moments (slant, rotation, width, height, ink
mass, stroke thickness, brightness, centroid), and the code is named after the property with the largest
draw-centred Spearman correlation (`code_effect`).
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import Tensor

PROPERTIES = (
    "slant",
    "rotation",
    "width",
    "height",
    "mass",
    "thickness",
    "brightness",
    "centroid_x",
    "centroid_y",
)
# Below this total ink an image is treated as empty: its properties are NaN, and NaNs are dropped before ranking.
_EMPTY_MASS = 1e-6
# Guards denominators of images with ink but no extent along an axis (one pixel, one horizontal line).
_EPS = 1e-8


class CodeEffect(TypedDict):
    """What one continuous code controls.

    Attributes:
        property: name of the property with the largest |rho| (None if no property could be ranked).
        spearman: signed draw-centred Spearman rho of that property with the code value, in [-1, 1].
        table: rho for every property in `PROPERTIES` (NaN where it is undefined, e.g. a constant property).
    """

    property: str | None
    spearman: float
    table: dict[str, float]


def _central_moments(ink: Tensor) -> tuple[Tensor, ...]:
    """Mass, centroid and second central moments of ink (N, H, W), in pixels with the origin at the image
    centre, x to the right and y *up* (so a positive shear dx/dy leans right, like italics).

    Returns:
        mass, cx, cy, mu20, mu02, mu11, each (N,); the moments are normalised by the mass (variances).
    """
    _, h, w = ink.shape
    xs = torch.arange(w, dtype=ink.dtype, device=ink.device) - (w - 1) / 2
    ys = (h - 1) / 2 - torch.arange(h, dtype=ink.dtype, device=ink.device)
    mass = ink.sum(dim=(1, 2))
    m = mass.clamp_min(_EMPTY_MASS)
    cx = (ink.sum(dim=1) * xs).sum(dim=1) / m  # column sums (N, W)
    cy = (ink.sum(dim=2) * ys).sum(dim=1) / m  # row sums (N, H)
    dx = xs.view(1, 1, w) - cx.view(-1, 1, 1)  # (N, 1, W)
    dy = ys.view(1, h, 1) - cy.view(-1, 1, 1)  # (N, H, 1)
    mu20 = (ink * dx * dx).sum(dim=(1, 2)) / m
    mu02 = (ink * dy * dy).sum(dim=(1, 2)) / m
    mu11 = (ink * dx * dy).sum(dim=(1, 2)) / m
    return mass, cx, cy, mu20, mu02, mu11


def _total_variation(ink: Tensor) -> Tensor:
    """Isotropic total variation (N,) of ink (N, H, W) with a zero border: the perimeter of a binary shape in
    pixels (diagonal edges counted at their true length), and blur-invariant for soft edges (co-area formula)."""
    p = torch.nn.functional.pad(ink, (1, 1, 1, 1))  # (N, H + 2, W + 2)
    gx = p[:, :-1, 1:] - p[:, :-1, :-1]  # forward differences, (N, H + 1, W + 1)
    gy = p[:, 1:, :-1] - p[:, :-1, :-1]
    return torch.sqrt(gx * gx + gy * gy).sum(dim=(1, 2))


def image_properties(images: Tensor, *, ink_threshold: float = 0.05) -> dict[str, Tensor]:
    """Moment-based properties of each image, computed for the whole batch at once.

    The ink of a pixel is its intensity (x + 1) / 2, averaged over channels, where that is above `ink_threshold`
    and 0 elsewhere (a generator's tanh never reaches -1 exactly, and a faint haze over the background would
    pull every moment towards the frame's). Coordinates are in pixels, origin at the image centre, y up.

    - ``slant``: shear dx/dy = mu11 / mu02, the standard deskew measure; > 0 leans right.
    - ``rotation``: angle of the ink's major axis from vertical, 0.5 * atan2(2 mu11, mu02 - mu20), in radians in
      (-pi/2, pi/2]; > 0 is clockwise (leans right). Ill-defined for round blobs, and wraps for near-horizontal
      shapes.
    - ``width``: sqrt(12 (mu20 - mu11^2 / mu02)), the horizontal second moment of the deskewed ink (the shear that
      removes the slant leaves exactly this variance), as the width of a uniform bar with that variance. So a
      slanted digit is not wider than the same digit upright.
    - ``height``: sqrt(12 mu02), likewise vertically.
    - ``mass``: total ink, in pixels of full intensity.
    - ``thickness``: 2 * mass / perimeter, the perimeter being the isotropic total variation of the ink. A stroke
      of length L and width t gives t * L / (L + t): about t for long strokes.
    - ``brightness``: ink-weighted mean intensity sum(ink^2) / sum(ink), in [0, 1]; 1 for pure white ink.
    - ``centroid_x``, ``centroid_y``: centre of mass.

    Args:
        images: (N, C, H, W) in [-1, 1].
        ink_threshold: intensities (in [0, 1]) at or below this are background.

    Returns:
        ``{name: (N,) float tensor}`` for every name in `PROPERTIES`. Images with no ink give NaN for every
        property (and never raise); `_spearman_table` drops NaNs.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    intensity = ((images.float() + 1) / 2).mean(dim=1).clamp(0, 1)  # (N, H, W)
    ink = torch.where(intensity > ink_threshold, intensity, torch.zeros_like(intensity))
    mass, cx, cy, mu20, mu02, mu11 = _central_moments(ink)
    m = mass.clamp_min(_EMPTY_MASS)
    mu02_safe = mu02.clamp_min(_EPS)
    props = {
        "slant": mu11 / mu02_safe,
        "rotation": 0.5 * torch.atan2(2 * mu11, mu02 - mu20),
        "width": torch.sqrt(12 * (mu20 - mu11 * mu11 / mu02_safe).clamp_min(0)),
        "height": torch.sqrt(12 * mu02),
        "mass": mass,
        "thickness": 2 * mass / _total_variation(ink).clamp_min(_EPS),
        "brightness": (ink * ink).sum(dim=(1, 2)) / m,
        "centroid_x": cx,
        "centroid_y": cy,
    }
    empty = mass <= _EMPTY_MASS
    return {name: value.masked_fill(empty, math.nan) for name, value in props.items()}


def _spearman_table(code_values: np.ndarray, properties: dict[str, np.ndarray]) -> dict[str, float]:
    """Spearman rho of each property with the code value, over the pairs where both are finite.

    Args:
        code_values: (N,) code values.
        properties: ``{name: (N,)}`` property values, NaN where undefined.

    Returns:
        ``{name: rho}``; NaN when fewer than 3 pairs remain or either side is constant (rho is undefined).
    """
    table: dict[str, float] = {}
    for name, values in properties.items():
        keep = np.isfinite(code_values) & np.isfinite(values)
        x, y = code_values[keep], values[keep]
        if keep.sum() < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            table[name] = math.nan
        else:
            table[name] = float(spearmanr(x, y).statistic)
    return table


def _best_property(table: dict[str, float]) -> tuple[str | None, float]:
    """The property with the largest |rho| and its signed rho; (None, NaN) if every rho is NaN."""
    finite = {name: rho for name, rho in table.items() if math.isfinite(rho)}
    if not finite:
        return None, math.nan
    best = max(finite, key=lambda name: abs(finite[name]))
    return best, finite[best]


def _centre_per_draw(values: np.ndarray) -> np.ndarray:
    """(D, S) values minus each row's mean over its finite entries; NaNs stay NaN."""
    finite = np.isfinite(values)
    sums = np.where(finite, values, 0.0).sum(axis=1, keepdims=True)
    return values - sums / np.maximum(finite.sum(axis=1, keepdims=True), 1)


def code_effect(code_values: np.ndarray, properties: dict[str, np.ndarray]) -> CodeEffect:
    """The property a code controls, from sweeps of it: draws (D) of everything else, each swept over the same
    code values (S).

    The correlation is pooled over all draws after subtracting each draw's mean property. A plain pooled
    Spearman counts the differences between draws (one digit is slanted, another upright, whatever the code)
    as noise and understates what the code does; centring keeps only the change along each sweep. Averaging a
    rank correlation per draw would remove those differences too, but it is +-1 for every property the code
    moves monotonically in every draw, by however different amounts; the pooled ranks score a property the code
    moves alike in every draw above one it moves a lot in some draws and hardly in others, and an empty image
    costs one pair rather than a point of an 11-point correlation. Because the code values repeat across
    draws, a perfect effect scores about sqrt(1 - 1 / S^2) (0.996 at 11 steps), not 1.

    `property` is only the argmax: read the table for near-ties, which mean the code moves both properties
    alike (slant and rotation are near-synonyms; a digit that widens may also gain ink). The score says that a
    code moves a property consistently, not that training made it do so: an untrained MNIST generator, nearly
    linear in its input, already scores |rho| ~ 0.7, so compare with a baseline (e.g. the paper's lambda = 0 GAN).

    Args:
        code_values: (S,) the swept values of the code.
        properties: ``{name: (D, S)}``, e.g. `image_properties` of the swept images; row d holds draw d, column
            s the code value code_values[s]; NaN where undefined.

    Returns:
        ``{"property": str | None, "spearman": float, "table": {property: rho}}``; see `CodeEffect`.
    """
    pooled_values = np.tile(code_values, next(iter(properties.values())).shape[0])  # row-major, like (D, S)
    centred = {name: _centre_per_draw(v).ravel() for name, v in properties.items()}
    table = _spearman_table(pooled_values, centred)
    best, rho = _best_property(table)
    return CodeEffect(property=best, spearman=rho, table=table)
