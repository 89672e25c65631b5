"""Runs side by side: one row of key figures per run, read from its eval.json, config.yaml and metrics.jsonl, and
mean, std, min and median over the runs of one setup (runs whose configs differ only in seed and bookkeeping).
Used by `infogan compare` and `infogan sweep`."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from infogan.config import BOOKKEEPING_KEYS
from infogan.evaluation.record import Disentanglement, EvalRecord, quality_figures
from infogan.runs.directory import RunDir

# Config keys that do not define a setup: runs that differ only in these (their seed, their bookkeeping, how they
# are evaluated) are seeds of one setup.
_NOT_THE_SETUP = sorted({*BOOKKEEPING_KEYS, "train.seed", "eval"})


def run_row(run_dir: Path) -> dict[str, Any]:
    """One run's key figures: accuracy and L_I per code, sample quality, what each continuous code controls (the
    property with the largest |rho|, and the best |rho| of slant and of width), updates and training time."""
    files = RunDir(run_dir)
    evaluation = EvalRecord.load(files.eval)
    config = yaml.safe_load(files.config.read_text()) if files.config.is_file() else {}
    codes = evaluation.codes
    row: dict[str, Any] = {
        "run": run_dir.name,
        "preset": config.get("preset"),
        "seed": config.get("train", {}).get("seed"),
        "step": evaluation.step,
        "accuracy": {name: c.accuracy for name, c in codes.items() if c.accuracy is not None},
        "fidelity": {name: c.fidelity for name, c in codes.items() if c.fidelity is not None},
        "mi": {name: c.mi_lower_bound for name, c in codes.items()},
    }
    figures = quality_figures(evaluation)
    row.update({k: figures[k] for k in ("fid", "kid", "precision", "recall") if k in figures})
    row.update(own_figures(evaluation))
    semantics = evaluation.code_semantics
    if semantics:
        row["controls"] = {
            name: {"property": e.property, "spearman": e.spearman} for name, e in semantics.items()
        }
        row.update(slant_and_width({name: e.table for name, e in semantics.items()}))
    minutes = _training_minutes(run_dir)
    if minutes is not None:
        row["train_minutes"] = minutes
    return row


def own_figures(evaluation: EvalRecord) -> dict[str, float]:
    """The figures of a model's own kind that an eval.json holds, by column: a VAE's held-out ELBO and active
    units, a conditional GAN's conditional accuracy, and the disentanglement scores of a run on data with known
    factors."""
    held_out = evaluation.held_out_figures()
    scores = evaluation.disentanglement or Disentanglement()
    figures = {
        "elbo": held_out.get("elbo"),
        "active_units": held_out.get("active_units"),
        "conditional_accuracy": evaluation.conditional_accuracy,
        "mig": scores.mig,
        "dci": scores.dci_disentanglement,
        "sap": scores.sap,
        "factorvae": scores.factorvae,
    }
    return {
        column: float(value)
        for column, value in figures.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _training_minutes(run_dir: Path) -> float | None:
    rows = RunDir(run_dir).logged()
    elapsed = rows[-1].get("elapsed_s") if rows else None
    return round(elapsed / 60, 1) if isinstance(elapsed, int | float) else None


def slant_and_width(tables: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """The pair of different continuous codes (a, b) maximising min(|rho(a, slant)|, |rho(b, width)|): how well
    one code reads as slant and another as width, the paper's Fig. 2 (c, d) finding. Empty with fewer than two
    continuous codes.

    Args:
        tables: each continuous code's rho per image property (eval.json's code_semantics, each code's table).
    """
    names = list(tables)
    pairs = [(a, b) for a in names for b in names if a != b]
    if not pairs:
        return {}

    def rho(code: str, prop: str) -> float:
        value = tables[code].get(prop)
        return abs(value) if value is not None and math.isfinite(value) else 0.0

    a, b = max(pairs, key=lambda p: min(rho(p[0], "slant"), rho(p[1], "width")))
    return {"slant": {"code": a, "rho": rho(a, "slant")}, "width": {"code": b, "rho": rho(b, "width")}}


def numeric_leaves(row: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The figures of a row, by dotted key (e.g. ``accuracy.c1``, ``slant.rho``); not its seed or step."""
    out: dict[str, float] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(numeric_leaves(value, f"{prefix}{key}."))
        elif isinstance(value, int | float) and not isinstance(value, bool) and key not in ("seed", "step"):
            out[f"{prefix}{key}"] = float(value)
    return out


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, standard deviation (n - 1), min, median and max of every figure the rows share."""
    leaves = [numeric_leaves(r) for r in rows]
    keys = [k for k in leaves[0] if all(k in leaf for leaf in leaves)] if leaves else []
    out = {}
    for key in keys:
        values = [leaf[key] for leaf in leaves]
        out[key] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "median": statistics.median(values),
            "max": max(values),
        }
    return out


def setup_of(run_dir: Path) -> str:
    """A short fingerprint of the run's config without seed and bookkeeping: equal for seeds of one setup."""
    files = RunDir(run_dir)
    config = yaml.safe_load(files.config.read_text()) if files.config.is_file() else {}
    for dotted in _NOT_THE_SETUP:
        *parents, last = dotted.split(".")
        node = config
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(last, None)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    return f"{config.get('preset', '?')}-{digest}"


def compare(run_dirs: Sequence[Path]) -> dict[str, Any]:
    """The rows of the runs and, per setup with two runs or more, the aggregate of its runs."""
    rows = [{**run_row(run), "setup": setup_of(run), "run_dir": str(run)} for run in run_dirs]
    setups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        setups.setdefault(row["setup"], []).append(row)
    groups = [
        {"setup": setup, "runs": [r["run"] for r in members], "summary": aggregate(members)}
        for setup, members in setups.items()
        if len(members) > 1
    ]
    return {"runs": rows, "setups": groups}


# Decimals shown per column of the runs' values (and their mean, min and median); every other figure
# (accuracies, L_I, rho, precision, recall) and every std is shown to 4, so a small spread does not print as 0.
_DECIMALS = {"fid": 2, "train_minutes": 1, "elbo": 2, "active_units": 1}


def _cell(value: float, column: str, width: int, stat: str = "") -> str:
    decimals = 4 if stat == "std" else _DECIMALS.get(column, 4)
    return f"{value:>{width}.{decimals}f}"


def shown_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The figures worth a column: those of any row, but not the per-code property names, nor KID (kept in
    --json; the table's FID ranks the same runs)."""
    keys = list(dict.fromkeys(k for row in rows for k in numeric_leaves(row)))
    return [k for k in keys if not k.startswith(("controls.", "kid"))]


def runs_table(
    rows: Sequence[dict[str, Any]],
    *,
    label: Callable[[dict[str, Any]], str],
    heading: str = "run",
    summary: dict[str, dict[str, float]] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """Text lines: one per run (its label, its figures, the `extra` keys, what each code controls), then the
    mean, std, min and median of `summary` if given."""
    columns = [c for c in shown_columns(rows) if c not in extra]
    width = max(9, *(len(c) for c in columns))
    lead = max(6, len(heading), *(len(label(r)) + 1 for r in rows))
    extra = [e for e in extra if any(e in r for r in rows)]
    lines = [f"{heading:<{lead}} " + " ".join(f"{c:>{width}s}" for c in [*columns, *extra]) + "  controls"]
    for row in rows:
        leaves = numeric_leaves(row)
        cells = [
            _cell(leaves[c], c, width) if c in leaves else f"{'-':>{width}s}" for c in [*columns, *extra]
        ]
        controls = ", ".join(
            f"{name} {e['property']} ({e['spearman']:+.2f})" for name, e in row.get("controls", {}).items()
        )
        lines.append(f"{label(row):<{lead}} " + " ".join(cells) + f"  {controls}")
    for stat in ("mean", "std", "min", "median") if summary else ():
        assert summary is not None
        cells = [
            _cell(summary[c][stat], c, width, stat) if c in summary else f"{'':>{width}s}" for c in columns
        ]
        lines.append(f"{stat:<{lead}} " + " ".join(cells))
    return lines
