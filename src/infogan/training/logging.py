"""Training logs: one JSON object per log step in metrics.jsonl, TensorBoard scalars, and a progress line."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

from infogan.files import write_text_atomic
from infogan.progress import format_duration


class MetricsLog:
    """Appends log rows to ``metrics.jsonl`` and TensorBoard; on resume, drops rows past the resumed step so the
    continued run writes them again exactly once."""

    def __init__(self, run_path: Path, *, resume_step: int | None = None) -> None:
        self.path = run_path / "metrics.jsonl"
        if resume_step is not None and self.path.exists():
            kept = [line for line in self.path.read_text().splitlines() if _step_of(line) <= resume_step]
            write_text_atomic(self.path, "".join(line + "\n" for line in kept))
        elif resume_step is None:
            self.path.write_text("")
        if (
            resume_step is None
        ):  # a run starting from step 0: the event files of an earlier start would duplicate it
            for stale in run_path.glob("events.out.tfevents.*"):
                stale.unlink()
        self._file = self.path.open("a")
        from torch.utils.tensorboard import SummaryWriter  # imports TensorBoard: only when a run starts

        purge = None if resume_step is None else resume_step + 1
        self._tb = SummaryWriter(str(run_path), purge_step=purge)

    def write(self, step: int, values: Mapping[str, float]) -> None:
        row = {"step": step, **values}
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        for key, value in values.items():
            self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        self._file.close()
        self._tb.close()


def _step_of(line: str) -> float:
    """The step of a metrics.jsonl row; a torn or foreign line counts as after every step (dropped on resume)."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


def progress_line(
    step: int,
    total: int,
    values: Mapping[str, float],
    images_per_s: float,
    eta_s: float,
    ceilings: Mapping[str, float],
) -> str:
    """One human-readable line: step, throughput, losses, L_I per code against its ceiling H(c), ETA."""
    parts = [f"step {step}/{total}", f"{images_per_s:.0f} img/s"]
    for key, value in values.items():
        text = f"{key} {value:.3f}"
        if key in ceilings:
            text += f"/{ceilings[key]:.2f}"
        parts.append(text)
    parts.append(f"ETA {format_duration(eta_s)}")
    return " | ".join(parts)
