"""Training and evaluation plots of a run: loss curves, L_I per code against its ceiling H(c) (arXiv:1606.03657,
Sec. 5.1, Fig. 1) and the confusion matrix of a categorical code. Each function returns a matplotlib Figure."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

Series = tuple[Sequence[float], Sequence[float]]
"""(steps, values) of one logged quantity."""


@dataclass(frozen=True)
class CodeCurve:
    """What the L_I plot shows for one code.

    Attributes:
        name: the code, e.g. ``c1``.
        label: a short description, e.g. ``categorical, K=10``.
        ceiling: H(c) in nats for a categorical code; None for a continuous code, whose I(c; G) has no finite bound.
        training: L_I estimated on each logged minibatch, or None if not logged.
        final: (step, L_I) of the evaluation, or None.
    """

    name: str
    label: str
    ceiling: float | None
    training: Series | None = None
    final: tuple[float, float] | None = None


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _compact(value: float, _: int) -> str:
    """A step count as a tick label short enough not to collide with its neighbours: 900, 1.5k, 12k."""
    if abs(value) < 1000:
        return f"{value:g}"
    return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"


def _style(ax: Axes, xlabel: str = "step") -> None:
    ax.set_xlabel(xlabel)
    # whole steps, also in a 6-step run; at most five ticks, so that small multiples' labels do not run together
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_compact))
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _plot(ax: Axes, series: Series, **kwargs: Any) -> None:
    steps, values = series
    # Markers make a run with only a few log steps readable; a long run gets a plain line.
    ax.plot(steps, values, marker="o" if len(steps) <= 20 else None, markersize=3, **kwargs)


def loss_figure(losses: Mapping[str, Series]) -> Figure:
    """The training losses on one axes.

    Args:
        losses: log name (``d_loss``, ``g_loss``, ``info_loss``, ...) -> (steps, values).
    """
    # A pyplot-free Figure: no global backend state, safe in servers and threads.
    fig = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = fig.subplots()
    for name, series in losses.items():
        _plot(ax, series, label=name)
    ax.set_ylabel("loss")
    ax.set_title("Training losses")
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
    return fig


def scalars_figure(scalars: Mapping[str, Series], columns: int = 3) -> Figure:
    """Small multiples: one axes per logged quantity (penalties, throughput, ...)."""
    columns = min(columns, len(scalars))
    rows = math.ceil(len(scalars) / columns)
    fig = Figure(figsize=(3.0 * columns, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, (name, series) in zip(axes, scalars.items(), strict=False):
        _plot(ax, series)
        ax.set_title(name, fontsize=9)
        _style(ax)
    for ax in axes[len(scalars) :]:
        ax.set_visible(False)
    return fig


def runs_figure(curves: Mapping[str, Mapping[str, Series]], columns: int = 2) -> Figure:
    """The same logged quantities of several runs overlaid: one axes per quantity, one line per run.

    Args:
        curves: quantity (``d_fake``, ``g_grad``, ...) -> run label -> (steps, values).
    """
    columns = min(columns, len(curves))
    rows = math.ceil(len(curves) / columns)
    fig = Figure(figsize=(3.8 * columns, 2.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, (name, runs) in zip(axes, curves.items(), strict=False):
        for label, series in runs.items():
            _plot(ax, series, label=label)
        ax.set_title(name, fontsize=9)
        ax.legend(frameon=False, fontsize=7)
        _style(ax)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    return fig


def mi_figure(curves: Sequence[CodeCurve], columns: int = 3) -> Figure:
    """L_I of each code over training against its ceiling H(c), with the evaluation's value marked.

    Categorical codes show H(c) = ln K as a dashed line: L_I reaching it means the code is fully recoverable from
    the image. Continuous codes have no finite ceiling, so their L_I is plotted alone and the title says so.
    """
    columns = min(columns, len(curves))
    rows = math.ceil(len(curves) / columns)
    fig = Figure(figsize=(3.4 * columns, 2.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, curve in zip(axes, curves, strict=False):
        if curve.training is not None:
            _plot(ax, curve.training, color="tab:blue", label="L_I, training minibatches")
        if curve.final is not None:
            ax.plot(*curve.final, marker="*", markersize=12, color="tab:red", linestyle="", label="L_I, eval")
        if curve.ceiling is not None:
            ax.axhline(
                curve.ceiling, color="black", linestyle="--", linewidth=1, label=f"H(c) = {curve.ceiling:.3f}"
            )
            title = f"{curve.name} ({curve.label})"
        else:
            title = f"{curve.name} ({curve.label}): no finite ceiling"
        ax.axhline(0.0, color="gray", linewidth=0.6)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("nats")
        ax.legend(frameon=False, fontsize=7)
        _style(ax)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    return fig


def confusion_figure(confusion: Sequence[Sequence[int]], mapping: Sequence[int] | None, code: str) -> Figure:
    """A heatmap of counts: rows are true labels, columns are the code's categories.

    Args:
        confusion: (n_labels, K) counts; row = true label, column = predicted category.
        mapping: mapping[category] = the label it was matched to (-1 if unmatched); if given, columns are
            reordered so each matched category sits under its label and a perfect code is diagonal.
        code: the code's name, for the axis label.
    """
    counts = np.asarray(confusion, dtype=np.int64)  # (n_labels, K)
    order = list(range(counts.shape[1]))
    if mapping is not None and len(mapping) == counts.shape[1]:
        # Unmatched categories (-1) go last, in their own order.
        order = sorted(order, key=lambda k: (mapping[k] < 0, mapping[k] if mapping[k] >= 0 else k))
    counts = counts[:, order]
    size = 1.0 + 0.34 * max(counts.shape)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="images")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        if value:
            color = "white" if value > threshold else "black"
            ax.text(col, row, str(value), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(len(order)), [str(k) for k in order], fontsize=8)
    ax.set_yticks(range(counts.shape[0]), [str(i) for i in range(counts.shape[0])], fontsize=8)
    ax.set_xlabel(f"{code} category (matched order)" if mapping is not None else f"{code} category")
    ax.set_ylabel("true label")
    return fig
