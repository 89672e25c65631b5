"""Which image property each continuous code controls (arXiv:1606.03657, Sec. 5.1, Fig. 2): each code is swept
with every other input of the generator fixed, and metrics/code_semantics.py names the property the sweep moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from infogan.config import EvalConfig
from infogan.latent import Latent
from infogan.metrics.code_semantics import PROPERTIES, CodeEffect, code_effect, image_properties
from infogan.models import GenerativeModel


@torch.no_grad()
def _sweep_properties(
    model: GenerativeModel,
    code: str,
    values: Tensor,
    *,
    n_draws: int,
    generator: torch.Generator | None,
    batch_size: int,
) -> dict[str, np.ndarray]:
    """Properties of images whose `code` sweeps `values` (S,) while noise and the other codes are one draw per row.

    Returns:
        ``{name: (n_draws, S)}``; row d holds draw d, column s the code value values[s].
    """
    grid = model.latent.traversal(code, values, rows=n_draws, generator=generator, device=model.device)
    chunks: list[dict[str, Tensor]] = []
    for start in range(0, len(grid), batch_size):
        part = Latent(*(t[start : start + batch_size] for t in (grid.z, grid.c_cat, grid.c_cont)))
        chunks.append(image_properties(model.generate(part)))
    steps = values.numel()
    return {
        name: torch.cat([c[name] for c in chunks]).view(n_draws, steps).cpu().double().numpy()
        for name in PROPERTIES
    }


def code_semantics(
    model: GenerativeModel,
    *,
    n_draws: int = 200,
    steps: int = 11,
    value_range: tuple[float, float] = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    batch_size: int = 500,
) -> dict[str, CodeEffect]:
    """Name the image property each continuous code of `model` controls.

    Each continuous code is swept over `steps` evenly spaced values in `value_range` for `n_draws` independent
    draws of the noise and of the other codes, which stay fixed along each sweep; `code_effect` reads the
    property off the sweeps. The default range is the U(-1, 1) prior's support (+-1 std for a normal code): the
    codes' effect where the model was trained, not the extrapolation past the prior that traversal figures show.

    Args:
        model: any generative model with `latent` codes and `generate` (e.g. a trained `InfoGAN`).
        n_draws: independent draws of everything but the swept code.
        steps: code values per sweep (>= 2).
        value_range: (low, high) of the sweep.
        generator: a `torch.Generator` on the model's device for repeatable draws.
        batch_size: images generated at once.

    Returns:
        ``{code name: {"property": str | None, "spearman": float, "table": {property: rho}}}`` for each
        continuous code, in the spec's order (empty if the model has none); see `CodeEffect`.
    """
    if steps < 2 or n_draws < 1:
        raise ValueError(f"need steps >= 2 and n_draws >= 1, got steps={steps}, n_draws={n_draws}")
    values = torch.linspace(value_range[0], value_range[1], steps)
    return {
        code.name: code_effect(
            values.double().numpy(),
            _sweep_properties(
                model, code.name, values, n_draws=n_draws, generator=generator, batch_size=batch_size
            ),
        )
        for code in model.latent.continuous
    }


def evaluate_semantics(model: GenerativeModel, cfg: EvalConfig) -> dict[str, Any]:
    """`code_semantics` with the eval config's draws, sweep and seed: ``{code name: {"property", "spearman",
    "table"}}`` for each continuous code of `model`."""
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    return dict(
        code_semantics(
            model,
            n_draws=cfg.semantics_draws,
            steps=cfg.semantics_steps,
            value_range=cfg.semantics_range,
            generator=generator,
            batch_size=cfg.batch_size,
        )
    )
