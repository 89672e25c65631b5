"""An evaluation split across the ranks of a data-parallel run (a `World`): each rank generates and scores its
share of the generated batches, and the shares are combined into what one process would have computed.

Every rank draws every batch's latents from the same generator, in the same order (drawing latents is cheap), and
runs the networks only on its own batches: batch b belongs to rank b mod N. The combined result is therefore the
single-process result, not another Monte-Carlo draw of it: the same samples, in the same batches.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.distributed as dist
from torch import Tensor

from infogan.world import World


def owns(world: World, batch: int) -> bool:
    """Whether batch number `batch` (0, 1, ...) is this rank's to run."""
    return batch % world.size == world.rank


def gather_batches(world: World, mine: Mapping[int, Tensor]) -> Tensor | None:
    """Every rank's batches (by batch number) concatenated in batch order, on rank 0; None on the other ranks.
    A collective: every rank calls it."""
    if not world.distributed:
        return torch.cat([mine[b] for b in sorted(mine)]) if mine else None
    parts: list[dict[int, Tensor] | None] = [None] * world.size
    dist.gather_object({b: t.cpu() for b, t in mine.items()}, parts if world.is_main else None, dst=0)
    if not world.is_main:
        return None
    every = {b: t for part in parts if part is not None for b, t in part.items()}
    return torch.cat([every[b] for b in sorted(every)])


def sum_over_ranks(world: World, values: Tensor, device: torch.device) -> Tensor:
    """The sum over the ranks of a CPU tensor of partial sums, on every rank (a collective). It travels on
    `device`, the model's: NCCL moves only CUDA tensors."""
    if not world.distributed:
        return values
    on_device = values.to(device)
    dist.all_reduce(on_device)
    return on_device.cpu()
