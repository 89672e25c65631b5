"""Which image property each continuous code controls (arXiv:1606.03657, Sec. 5.1, Fig. 2), measured with the
eval config's draws, sweep and seed (the method is metrics/code_semantics.py's)."""

from __future__ import annotations

from typing import Any

import torch

from infogan.config import EvalConfig
from infogan.metrics.code_semantics import code_semantics
from infogan.models import GenerativeModel


def evaluate_semantics(model: GenerativeModel, cfg: EvalConfig) -> dict[str, Any]:
    """``{code name: {"property", "spearman", "table"}}`` for each continuous code of `model`."""
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
