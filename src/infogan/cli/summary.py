"""The human-readable summary of an evaluation (eval.json) that `train` and `eval` print."""

from __future__ import annotations

from infogan.evaluation.record import (
    Baselines,
    CodeEntry,
    Disentanglement,
    EvalRecord,
    SampleQuality,
    UntrainedBaseline,
    quality_figures,
)


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
