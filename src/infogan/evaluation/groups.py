"""The metric groups `infogan eval --metrics` names, one row each in `METRIC_GROUPS`: what the group computes, when
it applies, and the function that computes it. A group's function reads the `Evaluation` in progress and returns
the keys it adds to eval.json (evaluation/record.py types them; keys it does not declare are kept).

Adding a group is its function and its row here, plus its name in `metric_groups.MetricGroup`: the config validates
`eval.metrics` and sits below this package, so the names it accepts live there (a test checks the two agree).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infogan.config import EvalConfig
from infogan.evaluation.codes import add_generation_fidelity, evaluate_codes
from infogan.evaluation.data import EvalData
from infogan.evaluation.disentanglement import code_factor_mi, evaluate_disentanglement
from infogan.evaluation.features import FeatureClassifier
from infogan.evaluation.quality import Reference, conditional_accuracy, evaluate_quality, reference_features
from infogan.evaluation.semantics import evaluate_semantics
from infogan.metric_groups import MetricGroup as MetricGroupName
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.world import World

# Fewer generated images than this get a note that the sample-quality figures are unreliable.
FEW_SAMPLES = 1000


class Timer:
    """Seconds each named part of an evaluation took (eval.json's "timings"), to two decimals."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        """fn(), timed as `name`."""
        start = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - start, 2)
        return out


@dataclass
class Evaluation:
    """One evaluation in progress: what the metric groups read, and what they leave for the later ones (the
    quality group's feature network and reference features, which the baselines reuse)."""

    model: GenerativeModel
    data: EvalData
    cfg: EvalConfig
    progress: ProgressFn
    timer: Timer
    notes: list[str]
    world: World = field(default_factory=World)
    reference: Reference | None = None


@dataclass(frozen=True)
class MetricGroup:
    """A group of metrics `infogan eval --metrics` names.

    Attributes:
        what: one line for help texts.
        skip: why the group does not apply to this model and data, or None when it does.
        run: computes the group; returns the keys it adds to the result.
    """

    what: str
    skip: Callable[[GenerativeModel, EvalData], str | None]
    run: Callable[[Evaluation], dict[str, Any]]
    # Whether the group splits its work over the ranks of a data-parallel run (every rank runs it); the others
    # run on rank 0 alone.
    sharded: bool = False


def _codes(ev: Evaluation) -> dict[str, Any]:
    model, data, cfg = ev.model, ev.data, ev.cfg
    labelled = data.held_out.labels is not None and bool(model.latent.categorical)
    accuracy = f", accuracy on {len(data.held_out)} labelled images" if labelled else ""
    ev.progress(f"eval: L_I from {cfg.mi_samples} generated samples{accuracy}")
    out = dict(
        ev.timer.run("codes", lambda: evaluate_codes(model, data.held_out, cfg, ev.progress, ev.world))
    )
    if ev.world.is_main and model.latent.categorical:
        note = ev.timer.run(
            "fidelity", lambda: add_generation_fidelity(model, data, cfg, out["codes"], ev.progress)
        )
        if note is not None:
            ev.notes.append(note)
    return out


def _quality(ev: Evaluation) -> dict[str, Any]:
    model, data, cfg = ev.model, ev.data, ev.cfg
    ev.reference = reference = ev.timer.run(
        "features", lambda: reference_features(data, cfg, ev.progress, ev.world)
    )
    if reference is None:
        ev.notes.append(
            f"quality: {data.held_out.name} has no labels for a feature classifier; use inception"
        )
        return {}
    out = dict(
        ev.timer.run("quality", lambda: evaluate_quality(model, reference, data, cfg, ev.progress, ev.world))
    )
    if cfg.fid_samples < FEW_SAMPLES:
        ev.notes.append(
            f"quality: {cfg.fid_samples} generated images are too few for FID, KID, precision and recall to mean "
            f"much (FID's bias grows as 1/n; k-nearest-neighbour radii on a few points cover everything): use "
            f"{FEW_SAMPLES:,} or more, 10,000 by default"
        )
    if not ev.world.is_main:
        return {}
    if model.is_conditional and isinstance(reference.extract.net, FeatureClassifier):
        classifier = reference.extract.net
        out["conditional_accuracy"] = ev.timer.run(
            "conditional", lambda: conditional_accuracy(model, classifier, data, cfg)
        )
    return out


def _semantics(ev: Evaluation) -> dict[str, Any]:
    cfg = ev.cfg
    ev.progress(f"eval: code semantics ({cfg.semantics_draws} draws x {cfg.semantics_steps} values per code)")
    return {"code_semantics": ev.timer.run("semantics", lambda: evaluate_semantics(ev.model, cfg))}


def _disentanglement(ev: Evaluation) -> dict[str, Any]:
    truth = ev.data.ground_truth
    assert truth is not None
    scores, codes, factors = ev.timer.run(
        "disentanglement", lambda: evaluate_disentanglement(ev.model, truth, ev.cfg, ev.progress)
    )
    ev.progress("eval: disentanglement - what each code dimension reads")
    reads = ev.timer.run("code_factor_mi", lambda: code_factor_mi(ev.model, truth, codes, factors))
    return {"disentanglement": scores, "code_factor_mi": reads}


def _no_encoder(model: GenerativeModel, data: EvalData) -> str | None:
    if data.ground_truth is None:
        return f"{data.held_out.name} has no known factors (use the shapes or dsprites dataset)"
    if not model.encodes_images:
        return "this model has no encoder or Q network to read codes from"
    return None


# The groups by the names metric_groups.MetricGroup allows, in the order they run and appear in eval.json.
METRIC_GROUPS: dict[MetricGroupName, MetricGroup] = {
    "codes": MetricGroup(
        "L_I per code against H(c); categorical accuracy on labelled held-out images and generation fidelity",
        lambda model, data: (
            None if model.has_mi_lower_bound else "L_I and categorical accuracy apply to InfoGAN models only"
        ),
        _codes,
        sharded=True,
    ),
    "quality": MetricGroup(
        "FID, KID, precision and recall (and a conditional GAN's conditional accuracy)",
        lambda model, data: None,
        _quality,
        sharded=True,
    ),
    "semantics": MetricGroup(
        "which image property each continuous code controls",
        lambda model, data: None if model.latent.continuous else "the model has no continuous code to sweep",
        _semantics,
    ),
    "disentanglement": MetricGroup(
        "MIG, DCI, SAP and the FactorVAE score on data with known factors",
        _no_encoder,
        _disentanglement,
    ),
}
