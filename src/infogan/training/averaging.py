"""Averaging a run's checkpoints: the uniform mean of the weights saved along one training trajectory.

A GAN's weights keep moving in the last thousands of updates, and what a code means drifts with them: on the MNIST
sample c1's accuracy swings by several points between checkpoints 500 updates apart (docs/mnist.md). The mean of
those checkpoints smooths the drift, as in stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407) and
in the parameter averages of Yazici et al. 2019 (arXiv:1806.04498). Batch-norm statistics are not averaged but
recomputed for the averaged weights, as SWA does, by running the forward passes of training steps over real
training images (`GenerativeModel.calibration_step`), so that every layer sees what it saw in training.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from infogan.errors import ConfigError
from infogan.models import GenerativeModel
from infogan.training.checkpoint import load_checkpoint


@torch.no_grad()
def average_weights(model: GenerativeModel, checkpoints: list[Path]) -> None:
    """Load into `model` the mean of the checkpoints' floating-point tensors.

    Args:
        model: a model of the checkpoints' config; each checkpoint is checked as `load_checkpoint` does.
        checkpoints: checkpoint folders, oldest first. Integer buffers (batch norm's update counters) are the
            last one's.
    """
    total: dict[str, Tensor] = {}
    for path in checkpoints:
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
def recompute_norm_statistics(model: GenerativeModel, images: Tensor, batch_size: int) -> int:
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
        for i in range(0, n, batch_size):
            model.calibration_step(images[i : i + batch_size])
    except BaseException:
        for m, state in zip(norms, saved, strict=True):
            m.load_state_dict(state)
        raise
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.train(mode)
    return len(norms)
