"""The run directory: one folder holding everything a run wrote and everything needed to use it.

``runs/<name>/``: config.yaml (resolved), metrics.jsonl, TensorBoard events, samples/, checkpoints/step-<N>/,
eval.json, traversal-<code>.png.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infogan.errors import CheckpointError
from infogan.training.checkpoint import list_checkpoints, read_manifest


@dataclass(frozen=True)
class RunDir:
    """Paths inside a run directory."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def eval(self) -> Path:
        return self.path / "eval.json"

    def traversal(self, code: str) -> Path:
        return self.path / f"traversal-{code}.png"

    def latest_checkpoint(self) -> Path | None:
        found = list_checkpoints(self.checkpoints)
        return found[-1] if found else None


def locate(path: Path) -> tuple[RunDir, Path]:
    """Find the run directory and checkpoint for a path given by a user: a run dir (its newest checkpoint) or a
    checkpoint folder inside one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"run directory {path} does not exist")
    if read_manifest(path) is not None and path.parent.name == "checkpoints":
        return RunDir(path.parent.parent), path
    run = RunDir(path)
    if not run.config.is_file():
        raise CheckpointError(
            f"{path} is not a run directory (no config.yaml) nor a checkpoint folder inside one"
        )
    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        raise CheckpointError(f"run directory {path} has no complete checkpoint yet")
    return run, checkpoint
