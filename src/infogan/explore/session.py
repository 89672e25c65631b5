"""One trained run as the explorer sees it: its dials (built from the latent spec), the figures measured for it
(eval.json), and the three things the page asks of it: an image for a setting of the dials, a traversal grid, and
the codes Q (or a VAE's encoder) reads off an image.

No web here: `explore.server` turns requests into these calls. Everything runs under `torch.inference_mode`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from infogan.errors import ConfigError, InfoganError
from infogan.evaluation.record import EvalRecord, quality_figures
from infogan.latent import Latent
from infogan.models import GenerativeModel
from infogan.runs.loaded import Run
from infogan.viz.traversal import category_label

# Sliders beyond these are not shown: a VAE with 20 latent dimensions gets sliders over its first dimensions.
MAX_SLIDERS = 10
# A traversal grid is at most this many images on a side.
MAX_GRID = 32
# Codes are set within [-CODE_LIMIT, CODE_LIMIT] (the priors live within about [-3, 3]).
CODE_LIMIT = 10.0
SEED_LIMIT = 2**31 - 1


@dataclass
class Session:
    """A loaded run and what the page needs of it."""

    name: str
    run: Run

    @property
    def model(self) -> GenerativeModel:
        return self.run.model

    # --- what the page shows -------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The run's dials and facts: model, image shape, every code (name, kind, K or prior range, what it was
        measured to control) and the key figures of its eval.json."""
        facts = self.facts()
        codes = []
        sliders = 0
        for code in self.model.latent.codes:
            entry: dict[str, Any] = {"name": code.name, "kind": code.kind}
            if code.is_categorical:
                entry["k"] = code.k
                entry["labels"] = facts.get("mapping", {}).get(code.name)
                if code.name == self.model.conditional_code:
                    entry["role"] = "label"
            else:
                sliders += 1
                if sliders > MAX_SLIDERS:
                    continue
                entry["prior"] = [-1.0, 1.0] if code.kind == "uniform" else [-2.0, 2.0]
            entry.update(facts.get("codes", {}).get(code.name, {}))
            codes.append(entry)
        return {
            "name": self.name,
            "model": self.run.config.model.name,
            "dataset": self.run.config.data.name,
            "where": self.run.where,
            "image_shape": list(self.model.image_shape),
            "noise": self.model.latent.noise,
            "codes": codes,
            "hidden_codes": max(0, sliders - MAX_SLIDERS),
            "can_infer": self.can_infer,
            "facts": facts.get("summary", {}),
        }

    def facts(self) -> dict[str, Any]:
        """What eval.json measured: per code L_I against H(c), accuracy and generation fidelity, the property a
        continuous code controls with its rho; the label each category maps to; FID and recall."""
        try:
            evaluation = EvalRecord.load(self.run.dir.eval)
        except InfoganError:  # not evaluated, or a torn file: the page shows the dials without figures
            return {"codes": {}, "mapping": {}, "summary": {}}
        codes: dict[str, dict[str, Any]] = {}
        for name, entry in evaluation.codes.items():
            figures = {
                "mi_lower_bound": entry.mi_lower_bound,
                "entropy": entry.entropy,
                "accuracy": entry.accuracy,
                "fidelity": entry.fidelity,
            }
            codes[name] = {k: v for k, v in figures.items() if v is not None}
        for name, effect in evaluation.code_semantics.items():
            codes.setdefault(name, {}).update(controls=effect.property, rho=effect.spearman)
        quality = quality_figures(evaluation)
        summary: dict[str, Any] = {k: quality[k] for k in ("fid", "precision", "recall") if k in quality}
        if evaluation.to_dict():
            summary["evaluated at"] = evaluation.step
        return {"codes": codes, "mapping": evaluation.matched_labels(), "summary": summary}

    @property
    def can_infer(self) -> bool:
        return self.model.encodes_images

    # --- generation ----------------------------------------------------------------------------------------------
    def latent(self, seed: int, codes: dict[str, float], n: int = 1) -> Latent:
        """n draws of the prior from `seed`, with the named codes fixed (a one-line ConfigError for a bad one)."""
        generator = torch.Generator(self.model.device).manual_seed(seed)
        latent = self.model.latent.sample(n, generator=generator, device=self.model.device)
        return self.model.latent.with_codes(latent, codes) if codes else latent

    @torch.inference_mode()
    def image(self, seed: int, codes: dict[str, float]) -> Tensor:
        """One image (C, H, W) in [-1, 1] for the noise of `seed` and the codes given."""
        return self.model.generate(self.latent(seed, codes))[0].cpu()

    @torch.inference_mode()
    def grid(
        self,
        code: str,
        *,
        seed: int,
        codes: dict[str, float],
        columns: int,
        rows: int,
        value_range: tuple[float, float],
        rows_by: str | None,
    ) -> tuple[Tensor, list[str], list[str]]:
        """The paper's Fig. 2 view: `code` swept left to right (all its values if categorical), rows the values of
        `rows_by` (a categorical code) or independent noise draws from `seed`; the other codes as `codes` sets them.

        Returns:
            (images (rows * columns, C, H, W) in [-1, 1], a label per row, a label per column: the swept value, or
            a category with the digit it was matched to).
        """
        spec = self.model.latent
        swept = spec.code(code)
        values = (
            torch.arange(swept.k, dtype=torch.float32)
            if swept.is_categorical
            else torch.linspace(value_range[0], value_range[1], columns)
        )
        generator = torch.Generator(self.model.device).manual_seed(seed)
        latent = spec.traversal(
            code, values, rows=rows, rows_by=rows_by, generator=generator, device=self.model.device
        )
        fixed = {k: v for k, v in codes.items() if k not in (code, rows_by)}
        if fixed:
            latent = spec.with_codes(latent, fixed)
        matched = self.run.matched_labels()
        if rows_by is not None:
            row_labels = [category_label(rows_by, i, matched) for i in range(spec.code(rows_by).k)]
        else:
            row_labels = [f"draw {i + 1}" for i in range(rows)]
        if swept.is_categorical:
            column_labels = [category_label(code, i, matched) for i in range(swept.k)]
        else:
            column_labels = [f"{v:.2f}".rstrip("0").rstrip(".") for v in values.tolist()]
        return self.model.generate(latent).cpu(), row_labels, column_labels

    # --- inference -----------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def infer(self, x: Tensor, seed: int) -> dict[str, Any]:
        """What Q (or the VAE's encoder) reads off one image x (C, H, W) in [-1, 1], and G's rendering of it: the
        read codes with the noise of `seed`.

        Returns:
            ``{"codes": {name: {"probabilities": [...], "category", "label"} or {"value"}}, "values": {name: v},
            "rendering": (C, H, W) tensor}``.
        """
        if not self.can_infer:
            raise ConfigError(
                f"a {self.run.config.model.name} has no Q network or encoder to read an image with"
            )
        batch = x.unsqueeze(0).to(self.model.device)
        mapping = self.facts()["mapping"]
        read: dict[str, Any] = {}
        values: dict[str, float] = {}
        for name, post in self.model.infer_codes(batch).items():
            if "logits" in post:
                p = post["logits"].softmax(1)[0]
                category = int(p.argmax())
                labels = mapping.get(name)
                read[name] = {
                    "probabilities": [round(float(v), 4) for v in p],
                    "category": category,
                    "label": labels[category] if labels and labels[category] >= 0 else None,
                }
                values[name] = category
            else:  # a continuous code, or one latent dimension of a VAE: the posterior mean
                value = float(post["mean"][0])
                read[name] = {"value": value}
                values[name] = value
        clipped = {k: max(-CODE_LIMIT, min(CODE_LIMIT, v)) for k, v in values.items() if math.isfinite(v)}
        rendering = self.model.generate(self.latent(seed, clipped))[0].cpu()
        return {"codes": read, "values": clipped, "rendering": rendering}


def same_dials(a: Session, b: Session) -> str | None:
    """None when one setting of the dials means the same input to both runs' generators; otherwise why not."""
    spec_a, spec_b = a.model.latent, b.model.latent
    if spec_a.noise != spec_b.noise or [(c.name, c.kind, c.k) for c in spec_a.codes] != [
        (c.name, c.kind, c.k) for c in spec_b.codes
    ]:
        return (
            f"{b.name}'s latent input differs from {a.name}'s "
            f"(noise {spec_b.noise} vs {spec_a.noise}, codes {len(spec_b.codes)} vs {len(spec_a.codes)}): "
            "the dials drive the first run only"
        )
    if a.model.image_shape != b.model.image_shape:
        return f"{b.name} makes images of another shape: the dials drive the first run only"
    return None


def load_sessions(paths: list[Path], device: str) -> list[Session]:
    """The runs named on the command line, each loaded once."""
    from infogan.runs.loaded import load_run

    sessions = []
    for path in paths:
        run = load_run(path, device=device)
        sessions.append(Session(name=path.resolve().name, run=run))
    return sessions
