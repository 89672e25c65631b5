"""The evaluation of a model (docs/evaluation.md): every metric group of the eval config that applies to the model
and data, timed, on every rank of a data-parallel run, then the model's own held-out figures and the baselines."""

from __future__ import annotations

from typing import Any

from infogan.config import EvalConfig
from infogan.errors import ConfigError
from infogan.evaluation.baselines import evaluate_baselines
from infogan.evaluation.data import EvalData
from infogan.evaluation.features import inception_weights_file
from infogan.evaluation.groups import METRIC_GROUPS, Evaluation, Timer
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.world import World


def evaluate_model(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    *,
    baselines: bool = False,
    progress: ProgressFn = lambda _: None,
    world: World = World(),
) -> dict[str, Any]:
    """Every metric group of `cfg.metrics` (see `METRIC_GROUPS`) that applies to `model` and `data`.

    In a data-parallel run every rank calls this with its `world`: the sharded groups (L_I, sample quality) split
    their generated samples over the ranks and give rank 0 what one process would have computed; the rest run
    on rank 0. Rank 0 gets the result, the other ranks an empty dict.

    Args:
        model: a trained model; what it can do (`has_mi_lower_bound`, `encodes_images`, ...) decides which
            groups apply.
        data: the real data to compare with.
        cfg: which groups, sample counts and seeds.
        baselines: also score the held-out real images (the floor of the quality metrics) and an untrained
            generator of the same config (their ceiling, and the code semantics of a generator that learnt nothing).
        progress: receives one line per stage.

    Returns:
        One JSON-ready dict; keys are listed in docs/evaluation.md. "timings" holds seconds per group and "notes"
        says why a requested group was not computed.
    """
    if data.held_out.shape != model.image_shape:
        raise ConfigError(
            f"dataset {data.held_out.name} has images of shape {data.held_out.shape}, the model makes "
            f"{model.image_shape}"
        )
    if "quality" in cfg.metrics and cfg.features == "inception":
        # a missing file fails now, not after the groups before it
        inception_weights_file(cfg.inception_weights)
    ev = Evaluation(model, data, cfg, progress, Timer(), [], world)
    out: dict[str, Any] = {}
    for name, group in METRIC_GROUPS.items():
        if name not in cfg.metrics or not (world.is_main or group.sharded):
            continue
        reason = group.skip(model, data)
        if reason is not None:
            ev.notes.append(f"{name}: {reason}")
        else:
            out.update(group.run(ev))
    if not world.is_main:
        return {}
    if model.has_held_out_metrics:
        out["held_out"] = ev.timer.run(
            "held_out", lambda: model.held_out_metrics(data.held_out.images, cfg.batch_size)
        )
    if baselines:
        out["baselines"] = ev.timer.run(
            "baselines", lambda: evaluate_baselines(model, data, cfg, out, ev.reference, progress)
        )
    out["timings"] = ev.timer.seconds
    if ev.notes:
        out["notes"] = ev.notes
    return out
