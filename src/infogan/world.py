"""This process's place among the ranks of a data-parallel run: training and evaluation both split their work by
it. Kept apart from training/distributed.py (which starts the process group) so that metrics/ and evaluation/ can
take a `World` without importing the training layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class World:
    """This process's place among the data-parallel ranks (training/distributed.py); a single process is rank 0
    of 1."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def barrier(self) -> None:
        """Wait until every rank gets here (nothing to wait for in a single process)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def broadcast_module(self, module: Any) -> None:
        """Give every rank rank 0's weights and buffers of the torch module (a collective; nothing to do in a
        single process)."""
        if self.distributed:
            import torch.distributed as dist

            for tensor in module.state_dict().values():
                dist.broadcast(tensor, 0)
