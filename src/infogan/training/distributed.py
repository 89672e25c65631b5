"""Data-parallel training over the processes `torchrun` starts (torch.distributed; gloo on CPU, NCCL on CUDA).

    torchrun --nproc-per-node N -m infogan train [options]

Each of the N ranks holds a full copy of the model and trains on its own share of every global batch (N x
`train.batch_size` images: `train.batch_size` is per rank) with latents from its own generator (seeded from the
run's seed and the rank; rank 0 keeps the run's seed). Before every optimiser step the gradients are averaged over
the ranks (one all-reduce per step of each optimiser, in `GenerativeModel.update`), so all ranks keep identical
weights and optimiser states, and the step is the one a single process would take on the global batch, but for
batch norm, which normalises by each rank's own share.

The gradients are averaged here rather than by wrapping the networks in `DistributedDataParallel`: a model's
update runs several forward and backward passes through shared networks (InfoGAN's G step backpropagates through a
frozen D, a WGAN critic steps n times per G step), which DDP's one-forward-one-backward reducer does not follow
(it reports "unused parameters" or averages the wrong pass). The averaging itself is the same all-reduce DDP
performs.

Only rank 0 writes the run directory: config.yaml, logs, sample grids, checkpoints (the same files as a
single-process run, with every rank's generator state) and, at the end, eval.json. Every rank takes part in the
per-step agreement (`StepFlags`), so a NaN on one rank, or SIGTERM, stops all of them at the same step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import Tensor

from infogan.errors import ConfigError
from infogan.world import World


def world_from_env(environ: Mapping[str, str]) -> World:
    """The world torchrun describes in an environment (RANK, WORLD_SIZE, LOCAL_RANK), or a single process."""
    try:
        size = int(environ.get("WORLD_SIZE", "1"))
        rank = int(environ.get("RANK", "0"))
        local = int(environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        raise ConfigError(
            f"cannot read the torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK): {exc}"
        ) from exc
    return World(rank, size, local) if size > 1 else World()


def init_world(world: World, device: torch.device) -> None:
    """Join the process group of a torchrun launch (once per process; torch reads its rendezvous from the
    environment torchrun sets); nothing for a single process."""
    if world.distributed and not dist.is_initialized():
        # Collectives time out after two hours, long enough for rank 0's evaluation at the end while the other
        # ranks wait; a rank that fails is stopped sooner, by torchrun, which then stops the others.
        dist.init_process_group(
            backend="nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=2)
        )


def leave_world() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(device: torch.device, world: World) -> torch.device:
    """The device of this rank: for CUDA, the GPU numbered by the rank's place on its machine."""
    if device.type == "cuda" and world.distributed:
        torch.cuda.set_device(world.local_rank)
        return torch.device("cuda", world.local_rank)
    return device


def rank_seed(seed: int, rank: int) -> int:
    """The training generator's seed on `rank`: the run's seed on rank 0, distinct seeds on the others."""
    return seed + 1_000_033 * rank


def gradient_averager(world: World) -> Callable[[torch.optim.Optimizer], None]:
    """The `GenerativeModel.sync_gradients` of a data-parallel run: average the gradients of an optimiser's
    parameters over the ranks, in one flat all-reduce."""

    def average(opt: torch.optim.Optimizer) -> None:
        grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= world.size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    return average


class StepFlags:
    """One all-reduce per step: which ranks saw a non-finite value, whether any rank was asked to stop, and
    whether any rank's clock says the time budget is spent."""

    def __init__(self, world: World, device: torch.device) -> None:
        self.world, self.device = world, device

    def agree(self, problem: bool, stop: bool, out_of_time: bool = False) -> tuple[list[int], bool, bool]:
        """(the ranks that reported a problem, whether any rank asked to stop, whether any rank is out of time),
        the same on every rank."""
        if not self.world.distributed:
            return ([0] if problem else []), stop, out_of_time
        flags = torch.zeros(self.world.size + 2, device=self.device)
        flags[self.world.rank] = float(problem)
        flags[-2], flags[-1] = float(stop), float(out_of_time)
        dist.all_reduce(flags)
        return [r for r in range(self.world.size) if flags[r] > 0], bool(flags[-2] > 0), bool(flags[-1] > 0)


def gather_generator_states(
    generator: torch.Generator, world: World, device: torch.device = torch.device("cpu")
) -> list[Tensor]:
    """Every rank's training-generator state, in rank order, on the CPU (collective: every rank must call it).
    The states travel on `device`, the model's: NCCL moves only CUDA tensors."""
    state = generator.get_state()
    if not world.distributed:
        return [state]
    out = [torch.empty_like(state, device=device) for _ in range(world.size)]
    dist.all_gather(out, state.to(device))
    return [s.cpu() for s in out]


def all_equal(values: Tensor, world: World) -> bool:
    """Whether every rank holds the same small tensor `values` (collective)."""
    if not world.distributed:
        return True
    low, high = values.clone(), values.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    return bool(torch.equal(low, high))
