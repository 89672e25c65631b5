"""General helpers at the bottom of the package: every layer may import them, they import nothing of infogan.

Progress callbacks, atomic text writes, reading a training log, durations for people, and the process's place among the ranks of a
data-parallel run (training and evaluation both split their work by it).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Receives one human-readable line per stage or log step (the CLI prints them to stderr).
ProgressFn = Callable[[str], None]

# The environment variable naming a data root: searched after --data-root, and read as --data-root when that is
# not given, so that a machine's data folder is set once.
DATA_ROOT_ENV = "INFOGAN_DATA_ROOT"


def progress_to_stderr(line: str) -> None:
    """Progress lines go to stderr, so stdout carries only a command's result (e.g. eval's JSON)."""
    print(line, file=sys.stderr, flush=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never a torn one. A
    missing parent folder is created (an output path was checked before the work, the folder is made only when
    there is something to write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines training log (a run's metrics.jsonl) that carry a step, in order. A torn line (a
    run killed mid-write) or a foreign one is left out, and a missing file has no rows."""
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int | float):
            rows.append(row)
    return rows


def format_duration(seconds: float) -> str:
    """``1h02m`` or ``3m05s``; ``?`` for an unknown (infinite or NaN) duration."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Eta:
    """Progress of a loop of known length: a line with what is done and the time left, at most one every `every`
    seconds (a loop that ends sooner prints nothing).

    Args:
        what: the line's start, e.g. ``eval: L_I``.
        total: the loop's length, in `unit`.
        progress: receives the lines.
    """

    def __init__(
        self, what: str, total: int, progress: ProgressFn, *, unit: str = "", every: float = 5.0
    ) -> None:
        self.what, self.total, self.progress, self.unit, self.every = what, total, progress, unit, every
        self.start = self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every or done <= 0:
            return
        self.last = now
        spent = now - self.start
        left = spent * (self.total - done) / done
        self.progress(
            f"{self.what}: {done:,}/{self.total:,}{self.unit} ({format_duration(spent)} so far, "
            f"about {format_duration(left)} left)"
        )


def _cpuinfo() -> dict[str, str] | None:
    """The first value of each key of /proc/cpuinfo (Linux: the first CPU's), or None where it cannot be read."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    fields: dict[str, str] = {}
    for key, sep, value in (line.partition(":") for line in info.splitlines()):
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> set[str]:
    """The CPU's feature flags (avx2, avx512_bf16, amx_bf16, ...); empty where /proc/cpuinfo is not available."""
    return set((_cpuinfo() or {}).get("flags", "").split())


def cpu_name() -> str:
    """The CPU's model name and its vector extensions that matter for speed (Linux; 'unknown' elsewhere)."""
    info = _cpuinfo()
    if info is None:
        return "unknown"
    flags = set(info.get("flags", "").split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return f"{info.get('model name', '?')} ({', '.join(f for f in wanted if f in flags) or 'no AVX2'})"


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
