"""Averaging a run's checkpoints: the uniform mean of the weights saved along one training trajectory.

A GAN's weights keep moving in the last thousands of updates, and what a code means drifts with them (the
measurements are in docs/mnist.md). The mean of
those checkpoints smooths the drift, as in stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407) and
in the parameter averages of Yazici et al. 2019 (arXiv:1806.04498). Batch-norm statistics are not averaged but
recomputed for the averaged weights, as SWA does, by running the forward passes of training steps over real
training images (`GenerativeModel.calibration_step`), so that every layer sees what it saw in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from infogan import data as datasets
from infogan.config import EvalConfig, RunConfig, load_config_file
from infogan.errors import CheckpointError, ConfigError
from infogan.latent import Code
from infogan.metrics.mutual_info import mi_lower_bounds
from infogan.models import GenerativeModel
from infogan.progress import Eta, ProgressFn
from infogan.runs.directory import RunDir, locate
from infogan.training.checkpoint import checkpoints_by_step, load_checkpoint, read_manifest, save_checkpoint
from infogan.training.setup import build_for_run, resolve_device

# How far averaging may lower a categorical code's L_I before `infogan average` warns. Near the ceiling H(c) the
# estimate on a few thousand shared draws moves by thousandths, while an average that blends categories loses a
# tenth of a nat or more (docs/mnist.md).
MI_DROP_WARNING = 0.05


@torch.no_grad()
def average_weights(
    model: GenerativeModel, checkpoints: list[Path], progress: ProgressFn | None = None
) -> None:
    """Load into `model` the mean of the checkpoints' floating-point tensors.

    Args:
        model: a model of the checkpoints' config; each checkpoint is checked as `load_checkpoint` does.
        checkpoints: checkpoint folders, oldest first. Integer buffers (batch norm's update counters) are the
            last one's.
    """
    total: dict[str, Tensor] = {}
    eta = Eta("averaging", len(checkpoints), progress or (lambda _: None), unit=" checkpoints")
    for i, path in enumerate(checkpoints, 1):
        eta(i - 1)
        load_checkpoint(path, model, with_state=False)
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                total[key] = total[key] + value if key in total else value.clone()
    model.load_state_dict({key: value / len(checkpoints) for key, value in total.items()}, strict=False)


def batch_norms(model: GenerativeModel) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch-norm layers of `model` that keep running statistics."""
    return [
        m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]


@torch.no_grad()
def recompute_norm_statistics(
    model: GenerativeModel, images: Tensor, batch_size: int, progress: ProgressFn | None = None
) -> int:
    """Recompute `model`'s batch-norm statistics as the mean over one `calibration_step` per full batch of `images`.

    Args:
        model: the model; its mode, and its statistics if anything fails, are as they were after the call.
        images: (N, C, H, W) real training images in [-1, 1]; a last partial batch is left out.
        batch_size: the training batch size (batch norm's statistics depend on it).

    Returns:
        The number of batch-norm layers recomputed: 0 when the model has none or does not define
        `calibration_step` (its statistics then stay as they are).

    Raises:
        ConfigError: fewer images than one batch.
    """
    norms = batch_norms(model)
    if not norms or not model.can_recalibrate:
        return 0
    n = len(images) // batch_size * batch_size
    if n == 0:
        raise ConfigError(
            f"recomputing batch-norm statistics takes at least one batch of {batch_size} images, got {len(images)}"
        )
    saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in norms]
    momenta, mode = [m.momentum for m in norms], model.training
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative mean over the batches
        model.train()
        eta = Eta("batch-norm statistics", n, progress or (lambda _: None), unit=" images")
        for i in range(0, n, batch_size):
            model.calibration_step(images[i : i + batch_size])
            eta(i + batch_size)
    except BaseException:
        for m, state in zip(norms, saved, strict=True):
            m.load_state_dict(state)
        raise
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.train(mode)
    return len(norms)


def information_check(
    newest: GenerativeModel, averaged: GenerativeModel, step: int, n_samples: int, cfg: EvalConfig
) -> list[str]:
    """L_I per code (models that `has_mi_lower_bound`) for the newest checkpoint averaged (at `step`) and for the
    average, on the same `n_samples` draws as `infogan eval` makes (its seed and batch size), as one line, then
    `mi_drop_warnings`' lines."""
    before, after = (
        mi_lower_bounds(
            m, n_samples, batch_size=cfg.batch_size, generator=torch.Generator(m.device).manual_seed(cfg.seed)
        )
        for m in (newest, averaged)
    )
    pairs = ", ".join(f"{name} {before[name]:.4f} -> {after[name]:.4f}" for name in before)
    return [
        f"L_I over {n_samples} samples, step {step} -> average: {pairs}",
        *mi_drop_warnings(averaged.latent.codes, before, after),
    ]


def mi_drop_warnings(
    codes: Sequence[Code], before: Mapping[str, float], after: Mapping[str, float]
) -> list[str]:
    """Warnings for the categorical codes whose L_I averaging lowered by more than `MI_DROP_WARNING` nats.

    A mean of weights taken while the categories moved can blend what a category draws. Continuous codes' L_I moves
    with Q's predicted spread from checkpoint to checkpoint, so their changes are reported, not judged.

    Args:
        codes: the model's latent codes.
        before: L_I by code name for the newest checkpoint averaged; must hold every categorical code.
        after: L_I by code name for the average, on the same draws; must hold every categorical code.

    Returns:
        One line per code that lost too much, empty when none did.
    """
    return [
        f"warning: averaging lowered L_I({code.name}) by {before[code.name] - after[code.name]:.3f} nats; its "
        f"categories moved within the range averaged and the average may blend them: check it with `infogan eval`, "
        f"or average a shorter range (--from, --to)"
        for code in codes
        if code.is_categorical and before[code.name] - after[code.name] > MI_DROP_WARNING
    ]


def averaged_steps(found: Mapping[int, Path], first: int | None, last: int | None, where: Path) -> list[int]:
    """The checkpoint steps from `first` (default: half the newest step) to `last` (default: the newest) of the
    complete checkpoints `found` in the folder `where`; at least two, or a CheckpointError saying what is there."""
    if first is not None and last is not None and first > last:
        raise ConfigError(f"--from {first} is after --to {last}")
    newest = max(found)
    lo, hi = newest // 2 if first is None else first, newest if last is None else last
    steps = sorted(s for s in found if lo <= s <= hi)
    if len(steps) < 2:
        raise CheckpointError(
            f"averaging needs at least two checkpoints from step {lo} to {hi}; {where} holds steps "
            f"{', '.join(map(str, sorted(found)))} (train with --checkpoint-every and train.keep_last to keep more)"
        )
    return steps


def calibration_images(cfg: RunConfig, n: int, device: torch.device) -> Tensor:
    """At most n real training images, in the run seed's fixed random order, to recompute batch norm with."""
    train_data = datasets.build(cfg.data, "train")
    order = torch.randperm(len(train_data), generator=torch.Generator().manual_seed(cfg.train.seed))
    images = train_data.images[order[:n]].to(device)
    if len(images) < cfg.train.batch_size:
        raise ConfigError(
            f"recomputing batch-norm statistics takes at least one batch of {cfg.train.batch_size} training "
            f"images; --calibration-images is {n} and the training split has {len(train_data)}"
        )
    return images


def average_run(
    path: Path,
    *,
    first: int | None,
    last: int | None,
    n_calibration: int,
    device: str,
    check_samples: int,
    progress: ProgressFn,
) -> tuple[RunDir, RunConfig, GenerativeModel, list[int]]:
    """Average the checkpoints of the run directory `path` (see `infogan.api.average` for the arguments), write
    the average as the checkpoint folder ``average-<A>-<B>``, and return the run, its config, the averaged model
    (in eval mode) and the steps averaged."""
    run, _ = locate(path)
    if read_manifest(path) is not None:
        raise ConfigError(f"{path} is a checkpoint folder; give the run directory that holds it")
    cfg = load_config_file(run.config)
    found = checkpoints_by_step(run.checkpoints)
    steps = averaged_steps(found, first, last, run.checkpoints)
    model = build_for_run(cfg, resolve_device(device))
    has_norms = bool(batch_norms(model))
    # read the data before the slow part, so a missing dataset fails first
    images = (
        calibration_images(cfg, n_calibration, model.device) if has_norms and model.can_recalibrate else None
    )
    progress(f"averaging {len(steps)} checkpoints, steps {steps[0]} to {steps[-1]}")
    average_weights(model, [found[s] for s in steps], progress)
    if images is not None:
        model.seed(cfg.train.seed)
        layers = recompute_norm_statistics(model, images, cfg.train.batch_size, progress)
        used = len(images) // cfg.train.batch_size * cfg.train.batch_size
        progress(f"batch-norm statistics of {layers} layers recomputed over {used} training images")
    elif has_norms:
        progress(
            f"batch-norm statistics averaged with the weights ({cfg.model.name} does not recompute them)"
        )
    name = f"average-{steps[0]}-{steps[-1]}"
    folder = save_checkpoint(
        model, steps[-1], run.checkpoints, {}, name=name, extra={"averaged_steps": steps}
    )
    progress(f"wrote {folder}")
    model.eval()
    if model.has_mi_lower_bound and check_samples > 0:
        last_model = build_for_run(cfg, model.device)
        load_checkpoint(found[steps[-1]], last_model, with_state=False)
        for line in information_check(last_model, model, steps[-1], check_samples, cfg.eval):
            progress(line)
    return run, cfg, model, steps
