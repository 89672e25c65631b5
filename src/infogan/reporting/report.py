"""One self-contained HTML page for a run: config, training curves, L_I per code against its ceiling H(c)
(arXiv:1606.03657), sample grids, traversals and every metric in eval.json.

Images are inlined as PNG data URIs and the page's Content-Security-Policy forbids loading anything else, so the
file can be mailed or archived on its own and a browser reports any reference that would leave it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from infogan.evaluation.record import QUALITY_FIGURES, EvalRecord, quality_figures
from infogan.images import unreadable_reason
from infogan.progress import format_duration
from infogan.reporting.html import figure, flatten, fmt, page, png_img, table
from infogan.runs.record import RunRecord, code_entries, code_label, lookup, metric_series, read_run
from infogan.viz.plots import (
    CodeCurve,
    confusion_figure,
    figure_png,
    loss_figure,
    mi_figure,
    scalars_figure,
)

# eval.json's keys the sample-quality section shows (the rest of the file gets generic sections).
_QUALITY_KEYS = (*QUALITY_FIGURES, "features")
_SECTION_TITLES = {
    "code_semantics": "What each continuous code controls",
    "disentanglement": "Disentanglement",
    "code_factor_mi": "What each code reads (I(code; factor) / H(factor))",
    "timings": "Evaluation timings",
}


def build_report(run_dir: Path) -> str:
    """The HTML report of a run directory (or of the run holding a checkpoint folder).

    Raises:
        CheckpointError: `run_dir` is not a run directory.
    """
    return render_report(read_run(Path(run_dir)))


# --- formatting ------------------------------------------------------------------------------------------------


def _kv_table(data: Mapping[str, Any]) -> str:
    return table(["name", "value"], flatten(data).items())


def _dict_table(data: Mapping[str, Any], first: str) -> str:
    """A table of any mapping: one row per entry of a mapping of mappings (columns: their keys), else name/value."""
    if not data or not all(isinstance(v, Mapping) for v in data.values()):
        return _kv_table(data)
    flat = {name: flatten(entry) for name, entry in data.items()}
    columns = list(dict.fromkeys(key for entry in flat.values() for key in entry))
    labels = [c.rsplit(".", 1)[-1] for c in columns]
    if len(set(labels)) < len(labels):  # short names would collide: keep the full paths
        labels = columns
    return table([first, *labels], ([name, *(entry.get(c) for c in columns)] for name, entry in flat.items()))


def _fig_img(fig: Figure, alt: str) -> str:
    return png_img(figure_png(fig), alt)


def _file_figure(path: Path, caption: str, *, pixels: bool) -> str:
    try:  # figures (not pixel grids) at most half the page wide, so two sit side by side
        return figure(png_img(path.read_bytes(), caption, pixels=pixels, max_width=520), caption)
    except (OSError, ValueError) as exc:  # ValueError: Pillow's error for a file that is not an image
        why = unreadable_reason(exc)
        return f'<p class="note">{html.escape(f"{path.name} could not be read: {why}")}</p>\n'


# --- sections: each returns (title, body) or None when the run has no data for it -------------------------------

Section = tuple[str, str]


def _header(record: RunRecord) -> str:
    cfg = record.config
    ev = record.evaluation
    steps = lookup(cfg, "train", "steps")
    reached = (
        "n/a"
        if record.step is None
        else f"{record.step:,}" + (f" of {steps:,}" if isinstance(steps, int) else "")
    )
    latent = lookup(cfg, "model", "latent") or {}
    rows = [
        ("run directory", str(record.run.path.resolve())),
        ("model", lookup(cfg, "model", "name")),
        ("dataset", lookup(cfg, "data", "name")),
        ("preset", cfg.get("preset")),
        ("latent", f"noise {latent.get('noise')}, codes {fmt(latent.get('codes'))}" if latent else None),
        ("step reached", reached),
    ]
    if record.metrics and isinstance(record.metrics[-1].get("elapsed_s"), int | float):
        rows.append(("training time", format_duration(record.metrics[-1]["elapsed_s"])))
    if ev is not None and ev.to_dict():
        rows.append(("evaluated", f"step {fmt(ev.step)} on {ev.split} split of {ev.dataset}"))
    return table(None, rows)


def _training(record: RunRecord) -> Section | None:
    series = metric_series(record.metrics)
    losses = {k: v for k, v in series.items() if k.endswith("loss")}
    others = {
        k: v for k, v in series.items() if k not in losses and not k.startswith("mi_") and k != "elapsed_s"
    }
    if not losses and not others:
        return None
    body = '<p class="hint">From metrics.jsonl: one point per log step.</p>\n'
    if losses:
        body += figure(_fig_img(loss_figure(losses), "training losses"), "Losses per log step.")
    if others:
        body += figure(_fig_img(scalars_figure(others), "other logged values"), "Other logged values.")
    return "Training", body


def _code_curves(record: RunRecord, entries: Mapping[str, Mapping[str, Any]]) -> list[CodeCurve]:
    series = metric_series(record.metrics)
    eval_step = record.evaluation.step if record.evaluation is not None else None
    curves = []
    for name, entry in entries.items():
        final, ceiling = entry.get("mi_lower_bound"), entry.get("entropy")
        point = None
        if isinstance(final, int | float) and isinstance(eval_step, int | float):
            point = (float(eval_step), float(final))
        if entry.get("type") != "categorical" or not isinstance(ceiling, int | float):
            ceiling = None
        if f"mi_{name}" in series or point is not None:
            curves.append(CodeCurve(name, code_label(entry), ceiling, series.get(f"mi_{name}"), point))
    return curves


def _codes_table(entries: Mapping[str, Mapping[str, Any]]) -> str:
    known = {
        "type",
        "k",
        "prior",
        "entropy",
        "mi_lower_bound",
        "accuracy",
        "fidelity",
        "fidelity_samples",
        "confusion",
        "mapping",
        "usage_entropy",
    }
    scalar = (k for e in entries.values() for k, v in e.items() if not isinstance(v, list | Mapping))
    extra = [k for k in dict.fromkeys(scalar) if k not in known]  # keys a newer eval.json may add
    rows = []
    for name, e in entries.items():
        li, h = e.get("mi_lower_bound"), e.get("entropy")
        ratio = li / h if e.get("type") == "categorical" and isinstance(li, int | float) and h else None
        kind = e.get("k", e.get("prior"))
        rows.append(
            [
                name,
                e.get("type"),
                kind,
                h,
                li,
                ratio,
                e.get("accuracy"),
                e.get("fidelity"),
                *(e.get(k) for k in extra),
            ]
        )
    headers = [
        "code",
        "type",
        "K / prior",
        "H(c) [nats]",
        "L_I eval [nats]",
        "L_I / H(c)",
        "accuracy",
        "fidelity",
    ]
    return table([*headers, *extra], rows) + (
        '<p class="hint">L_I is the paper\'s lower bound on the mutual information I(c; G(z, c)) (Eq. 5). For a '
        "categorical code H(c) = ln K is its ceiling; for a continuous code H(c) is a differential entropy and "
        "I(c; G(z, c)) has no finite ceiling, so only L_I is shown. Accuracy: Q's categories of the held-out real "
        "images matched to their labels; fidelity: the share of G's images for each category that the dataset's "
        "classifier reads as the category's matched label, averaged over categories.</p>\n"
    )


def _confusions(record: RunRecord, entries: Mapping[str, Mapping[str, Any]]) -> str:
    body = ""
    n_eval = fmt(record.evaluation.n_eval if record.evaluation is not None else None)
    for name, e in entries.items():
        if not isinstance(e.get("confusion"), list) or not e["confusion"]:
            continue
        mapping = e.get("mapping") if isinstance(e.get("mapping"), list) else None
        caption = f"{name}: held-out labels against categories ({n_eval} images)"
        acc = e.get("accuracy")
        if isinstance(acc, int | float):
            caption += f", accuracy {acc:.4g} (error {100 * (1 - acc):.3g}%)"
        fig = confusion_figure(e["confusion"], mapping, name)
        body += figure(_fig_img(fig, f"confusion matrix of {name}"), caption)
    return body


def _usage_table(entries: Mapping[str, Mapping[str, Any]]) -> str:
    rows = [
        [name, " ".join(f"{share:.3f}" for share in e["usage"]), e.get("usage_entropy"), e.get("entropy")]
        for name, e in entries.items()
        if isinstance(e.get("usage"), list) and all(isinstance(v, int | float) for v in e["usage"])
    ]
    if not rows:
        return ""
    headers = ["code", "share of held-out real images per category", "usage entropy [nats]", "H(c) [nats]"]
    return table(headers, rows) + (
        '<p class="hint">Where Q puts held-out real images, no labels needed: an even split has usage entropy '
        "H(c) = ln K; a merged or unused category lowers it.</p>\n"
    )


def _codes(record: RunRecord) -> Section | None:
    entries = code_entries(record)
    if not entries:
        return None
    body = _codes_table(entries) + _usage_table(entries)
    curves = _code_curves(record, entries)
    if curves:
        caption = "L_I per code over training (minibatch estimates); the star is the evaluation."
        body += figure(_fig_img(mi_figure(curves), "L_I per code"), caption)
    return "Latent codes", body + _confusions(record, entries)


def _samples(record: RunRecord) -> Section | None:
    if not record.samples:
        return None
    shown = [record.samples[0], record.samples[-1]] if len(record.samples) > 1 else record.samples
    body = '<p class="hint">Grids written during training from a fixed latent batch.</p>\n'
    for path in shown:
        step = path.stem.removeprefix("step-")
        caption = f"step {step}" if step.isdigit() else path.name
        body += _file_figure(
            path, caption + (" (newest)" if path == record.samples[-1] else " (first)"), pixels=True
        )
    return "Samples", body


def _traversals(record: RunRecord) -> Section | None:
    if not record.traversals:
        return None
    entries = code_entries(record)
    body = '<p class="hint">One code varies left to right, everything else is fixed along a row (paper Fig. 2).</p>\n'
    for code, path in record.traversals.items():
        caption = f"{code} ({code_label(entries[code])})" if code in entries else code
        body += _file_figure(path, caption, pixels=False)
    return "Traversals", body


def _evaluation(record: RunRecord) -> Section:
    ev = record.evaluation
    if ev is None:
        run = html.escape(str(record.run.path))
        text = (
            "no eval.json in this run"
            if record.eval_problem == "missing"
            else f"eval.json is {record.eval_problem}"
        )
        body = (
            f'<p class="note">{html.escape(text)}: evaluate the run with <code>infogan eval {run}</code> '
            f"(<code>infogan eval {run} --json &gt; {run}/eval.json</code> keeps the result), or run "
            f"<code>infogan report {run} --evaluate</code>.</p>\n"
        )
        return "Evaluation", body
    handled = {"codes", "code_semantics", "disentanglement", "timings", *_QUALITY_KEYS}
    summary = {k: v for k, v in ev.to_dict().items() if k not in handled and not isinstance(v, Mapping)}
    body = _kv_table(summary) if summary else ""
    if ev.step is not None and record.step is not None and ev.step < record.step:
        body += (
            f'<p class="note">eval.json is from step {ev.step:,}; the run has reached step {record.step:,}. '
            "Evaluate it again for current numbers.</p>\n"
        )
    return "Evaluation", body


# What each sample-quality figure is, for a reader who does not know the abbreviations.
_QUALITY_MEANING = {
    "fid": "Frechet distance between real and generated features: lower is better, 0 = the same statistics",
    "kid": "kernel (MMD) distance between the same features, unbiased: lower is better, about 0 = alike",
    "kid_std": "KID's standard deviation over subsets",
    "precision": "share of generated images that fall among real ones: higher is better (fidelity)",
    "recall": "share of real images that generated ones come near: higher is better (variety)",
}


def _quality(evaluation: EvalRecord) -> Section | None:
    scores = quality_figures(evaluation)
    features = evaluation.features
    if not scores and features is None:
        return None
    real = evaluation.baselines.held_out if evaluation.baselines is not None else None
    floor = quality_figures(real) if real is not None else {}
    rows = [[name, value, floor.get(name), _QUALITY_MEANING.get(name, "")] for name, value in scores.items()]
    hint = (
        "held-out real images scored the same way (<code>--baselines</code>): the best a generator could do"
        if floor
        else "run <code>infogan eval RUN --baselines</code> for the real-data floor"
    )
    body = (
        table(["metric", "value", "real images (the floor)", "what it means"], rows)
        + f'<p class="hint">In the features of the network below. Floor: {hint}.</p>\n'
        if scores
        else ""
    )
    if features is not None:
        body += "<h3>Feature network</h3>\n" + _kv_table(features.to_dict())
    return "Sample quality", body


def _eval_sections(record: RunRecord) -> list[Section]:
    """The evaluation's own sections; an unknown key holding a mapping gets a section of its own."""
    sections = [_evaluation(record)]
    if record.evaluation is None:
        return sections
    quality = _quality(record.evaluation)
    if quality:
        sections.append(quality)
    every = record.evaluation.to_dict()  # declared or not: a newer group's keys get a section too
    for key, value in sorted(every.items(), key=lambda item: item[0] == "timings"):  # timings last
        if isinstance(value, Mapping) and value and key not in ("codes", *_QUALITY_KEYS):
            title = _SECTION_TITLES.get(key, key.replace("_", " ").capitalize())
            if key == "timings":
                shown = table(["part", "seconds"], flatten(value).items())
            else:
                shown = _dict_table(value, "code" if key == "code_semantics" else "name")
            sections.append((title, shown))
    return sections


def _config(record: RunRecord) -> Section:
    hint = f'<p class="hint">{html.escape(record.run.config.name)}: the resolved config the run was trained with.</p>'
    return "Config", f"{hint}\n<pre>{html.escape(record.config_text)}</pre>\n"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def render_report(record: RunRecord) -> str:
    """The HTML page of a run: header, then one section per kind of data the run holds."""
    evaluation, *more = _eval_sections(record)
    parts = [_training(record), evaluation, _codes(record), _samples(record), _traversals(record), *more]
    parts.append(_config(record))
    sections = [s for s in parts if s is not None]
    model = lookup(record.config, "model", "name") or "run"
    title = f"Run report: {record.run.path.resolve().name} ({model})"
    nav = "".join(f'<a href="#{_anchor(t)}">{html.escape(t)}</a>' for t, _ in sections)
    body = "".join(
        f'<section id="{_anchor(t)}">\n<h2>{html.escape(t)}</h2>\n{b}</section>\n' for t, b in sections
    )
    return page(title, f"<h1>{html.escape(title)}</h1>\n{_header(record)}<nav>{nav}</nav>\n{body}")
