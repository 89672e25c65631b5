"""Averaging a run's checkpoints: the uniform mean of the weights saved along one training trajectory.

A GAN's weights keep moving in the last thousands of updates, and what a code means drifts with them: on the
MNIST sample c1's accuracy swings by several points between checkpoints 500 updates apart. The mean of those
checkpoints is a better model than any one of them, as for stochastic weight averaging (Izmailov et al. 2018,
arXiv:1803.05407) and for the generator averages of Yazici et al. 2019 (arXiv:1806.04498). Batch-norm statistics
are not averaged but recomputed for the averaged weights, as SWA prescribes: over real training images for the
nets that read images (D's trunk, and Q's head on it) and over prior draws for G (`GenerativeModel.norm_calibration`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch.optim.swa_utils import update_bn

from infogan.models import GenerativeModel
from infogan.train.checkpoint import load_checkpoint


@torch.no_grad()
def average_weights(model: GenerativeModel, checkpoints: list[Path]) -> None:
    """Load into `model` the mean of the checkpoints' floating-point tensors (the other buffers, e.g. batch
    norm's update counters, are the last checkpoint's). Each checkpoint is checked as `load_checkpoint` does."""
    total: dict[str, Tensor] = {}
    for path in checkpoints:
        load_checkpoint(path, model, with_state=False)
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                total[key] = total[key] + value if key in total else value.clone()
    model.load_state_dict({key: value / len(checkpoints) for key, value in total.items()}, strict=False)


@torch.no_grad()
def recompute_norm_statistics(model: GenerativeModel, images: Tensor, batch_size: int, seed: int = 0) -> bool:
    """Recompute the batch-norm statistics of `model.norm_calibration()`'s nets as a cumulative mean over the
    real `images` (N, C, H, W) and as many prior draws, in batches of `batch_size`, as in training.

    Returns:
        False when the model names no nets to recompute (its statistics then stay as they are).
    """
    g_net, d_net = model.norm_calibration()
    device = model.device
    if d_net is not None:
        update_bn([images[i : i + batch_size] for i in range(0, len(images), batch_size)], d_net, device)
    if g_net is not None:
        generator = torch.Generator(device).manual_seed(seed)
        inputs = [
            model.latent.to_input(
                model.latent.sample(min(batch_size, len(images) - i), generator=generator, device=device)
            )
            for i in range(0, len(images), batch_size)
        ]
        update_bn(inputs, g_net, device)
    return g_net is not None or d_net is not None
