"""Small helpers shared by the CLI commands."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from infogan.config import DATA_ROOT_ENV
from infogan.errors import ConfigError
from infogan.evaluation.record import (
    Baselines,
    CodeEntry,
    Disentanglement,
    EvalRecord,
    SampleQuality,
    UntrainedBaseline,
    quality_figures,
)


def data_root_option(help: str = "Folder holding the dataset's files.") -> Any:
    """`--data-root DIR`, read from the environment variable INFOGAN_DATA_ROOT when not given, so a machine's data
    folder can be set once for every command that starts from a preset."""
    return typer.Option(None, "--data-root", envvar=DATA_ROOT_ENV, show_envvar=True, help=help)


def scale_option() -> Any:
    """The --scale option of the commands that write image grids."""
    return typer.Option(
        None,
        "--scale",
        min=1,
        max=16,
        help="Enlarge each image this many times [default: small images to at least 64 pixels a side].",
    )


MAX_SEED = (
    2**32 - 1
)  # the seeds every library here accepts (numpy's limit); larger ones are almost always typos
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # sample grids (written by Pillow)
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # traversal figures (written by matplotlib)


def output_file(path: Path, suffixes: Sequence[str] = (), option: str = "-o") -> Path:
    """The file an output option names, checked before any work is done, so that a bad path costs seconds, not an
    evaluation: not a folder, in a folder that exists (or can be created) and is writable. A name without a suffix
    gets the first of `suffixes`; another suffix than those is refused. Returns the path that will be written."""
    if path.is_dir():
        example = path / f"out{suffixes[0] if suffixes else '.json'}"
        raise ConfigError(f"{option} {path} is a folder; give a file name, e.g. {option} {example}")
    if suffixes and not path.suffix:
        path = path.with_name(path.name + suffixes[0])
    elif suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} {path}: the file must end in {', '.join(suffixes)}")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: cannot write in {folder} (permission denied)")
    return path


def parse_codes(items: list[str] | None) -> dict[str, float]:
    """Parse repeated ``--code NAME=VALUE`` options into a mapping."""
    codes: dict[str, float] = {}
    given: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ConfigError(f"bad --code '{item}': expected NAME=VALUE, e.g. --code c1=3 or --code c2=0.5")
        if name in given:
            raise ConfigError(f"--code {name} is given twice ({given[name]} and {item}): give each code once")
        codes[name], given[name] = number, item
    return codes


def summary_lines(record: EvalRecord) -> list[str]:
    """A human-readable summary of an evaluation (eval.json)."""
    averaged = record.averaged_steps
    where = f"the average of steps {averaged[0]}-{averaged[-1]}" if averaged else f"step {record.step}"
    lines = [f"{where}, {record.dataset} ({record.split} split)"]
    for name, entry in record.codes.items():
        lines += _code_lines(name, entry)
    if record.fid is not None and record.features is not None:
        f = record.features
        lines.append(
            f"  FID {record.fid:.3f}  KID {record.kid:.4g} ± {record.kid_std:.2g}  precision {record.precision:.3f}  "
            f"recall {record.recall:.3f}  ({f.network} features, {f.n_fake} generated vs {f.n_real} real)"
        )
    for name, effect in record.code_semantics.items():
        lines.append(f"  {name} controls {effect.property} (Spearman {effect.spearman:+.3f})")
    if record.conditional_accuracy is not None:
        lines.append(
            f"  conditional accuracy {record.conditional_accuracy:.3f} (generated images of each requested label)"
        )
    for key, value in record.held_out_figures().items():
        lines.append(
            f"  held-out {key} {value:.3f}" if isinstance(value, float) else f"  held-out {key} {value}"
        )
    if record.disentanglement is not None:
        lines.append(_disentanglement_line(record.disentanglement))
    for name, reads in record.code_factor_mi.items():  # the two factors each code carries most of
        ranked = sorted(reads.items(), key=lambda item: -item[1])[:2]
        shares = ", then ".join(f"{factor} {share:.3f}" for factor, share in ranked)
        lines.append(f"  {name} reads {shares} (share of the factor's entropy)")
    lines += _baseline_lines(record.baselines or Baselines())
    lines += [f"  note: {n}" for n in record.notes]
    if record.timings:
        lines.append("  seconds: " + ", ".join(f"{k} {v}" for k, v in record.timings.items()))
    return lines


def _code_lines(name: str, entry: CodeEntry) -> list[str]:
    """A code's L_I (against its ceiling where it has one), accuracy and fidelity; how Q spreads real images."""
    line = f"  {name} ({entry.type}"
    line += f", K={entry.k})" if entry.k is not None else f", {entry.prior})"
    if entry.type == "categorical":
        line += f"  L_I {entry.mi_lower_bound:.4f} nats (ceiling H(c) {entry.entropy:.4f})"
    else:  # the prior's differential entropy is no ceiling: L_I grows as Q's predicted std shrinks
        line += f"  L_I {entry.mi_lower_bound:.4f} nats"
    if entry.mi_lower_bound_batch_stats is not None:
        line += f" [batch statistics: {entry.mi_lower_bound_batch_stats:.4f}]"
    if entry.accuracy is not None:
        line += f"  accuracy {entry.accuracy:.4f}"
    if entry.fidelity is not None:
        line += f"  generation fidelity {entry.fidelity:.4f}"
    if entry.usage is None or entry.usage_entropy is None:
        return [line]
    return [
        line,
        f"    real images per category: {min(entry.usage):.3f}-{max(entry.usage):.3f} "
        f"(usage entropy {max(entry.usage_entropy, 0.0):.4f} of {entry.entropy:.4f})",
    ]


def _disentanglement_line(d: Disentanglement) -> str:
    scores = {k: v for k, v in d.scores().items() if k != "factorvae_se"}
    line = "  " + "  ".join(f"{k} {v:.3f}" for k, v in scores.items())
    if d.factorvae_se is not None:
        line += f"  (factorvae ± {d.factorvae_se:.3f}, {d.factorvae_protocol or '?'} votes"
        line += f" {'/'.join(map(str, d.factorvae_votes or []))}; DCI by {d.dci_predictor or '?'})"
    return line


def _baseline_lines(baselines: Baselines) -> list[str]:
    """`eval --baselines`: the real-data floor, the model at the floor's image count, and an untrained model."""
    entries: dict[str, SampleQuality | None] = {
        "held-out real images (the floor)": baselines.held_out,
        "this model at that image count": baselines.model_at_held_out_count,
        "an untrained model (the ceiling)": baselines.untrained,
    }
    lines = ["  baselines:"] if baselines.to_dict() else []
    for label, entry in entries.items():
        if entry is None or not entry.to_dict():
            continue
        figures = quality_figures(entry)
        parts = [f"{k} {figures[k]:.4g}" for k in ("fid", "kid", "precision", "recall") if k in figures]
        if isinstance(entry, UntrainedBaseline):
            parts += [
                f"{name} controls {e.property} ({e.spearman:+.2f})"
                for name, e in entry.code_semantics.items()
            ]
            scores = entry.disentanglement.scores() if entry.disentanglement is not None else {}
            parts += [f"{k} {v:.3f}" for k, v in scores.items()]
        lines.append(f"    {label}: {', '.join(parts) or 'nothing to compare'}")
    return lines
