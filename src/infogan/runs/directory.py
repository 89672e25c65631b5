"""The run directory: one folder holding everything a run wrote and everything needed to use it.

``runs/<name>/``: config.yaml (resolved), metrics.jsonl, TensorBoard events, samples/, checkpoints/step-<N>/,
eval.json, traversal-<code>.png.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infogan.config import RESUMABLE_KEYS, ROUNDING_KEYS, RunConfig, config_differences, load_config_file
from infogan.errors import CheckpointError, ConfigError
from infogan.files import read_log
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.training.checkpoint import checkpoints_by_step, list_checkpoints, load_checkpoint, read_manifest
from infogan.training.setup import resolve_device


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

    def logged(self) -> list[dict[str, Any]]:
        """The rows of metrics.jsonl, in order (torn lines left out: `read_log`)."""
        return read_log(self.metrics)

    def latest_checkpoint(self) -> Path | None:
        found = list_checkpoints(self.checkpoints)
        return found[-1] if found else None


def locate(path: Path) -> tuple[RunDir, Path]:
    """Find the run directory and checkpoint for a path given by a user: a run dir (its newest checkpoint) or a
    checkpoint folder inside one."""
    path = Path(path)
    # Decided on the absolute path, so that `step-3` given from inside a run's checkpoints folder is seen as one.
    folder = path.absolute().parent
    complete = read_manifest(path) is not None
    if not complete and folder.name == "checkpoints" and (folder.parent / "config.yaml").is_file():
        state = (
            "is incomplete (no readable manifest.json: a save that was interrupted, or a damaged file)"
            if path.exists()
            else "does not exist"
        )
        kept = ", ".join(p.name for p in list_checkpoints(folder)) or "none yet"
        raise CheckpointError(f"checkpoint {path} {state}; the run's complete checkpoints are {kept}")
    if not path.exists():
        raise CheckpointError(f"run directory {path} does not exist")
    if complete and folder.name == "checkpoints":
        return RunDir(Path(os.path.normpath(path / os.pardir / os.pardir))), path
    run = RunDir(path)
    if not run.config.is_file():
        raise CheckpointError(
            f"{path} is not a run directory (no config.yaml) nor a checkpoint folder inside one"
        )
    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        broken = sorted(p.name for p in run.checkpoints.glob("step-*") if p.is_dir())
        if broken:
            raise CheckpointError(
                f"run directory {path} has no complete checkpoint: {', '.join(broken)} in {run.checkpoints} "
                f"{'has' if len(broken) == 1 else 'have'} no readable manifest.json (a save that was interrupted, "
                "or a damaged file)"
            )
        raise CheckpointError(f"run directory {path} has no checkpoint yet")
    return run, checkpoint


def intact_alternative(
    run: RunDir, damaged: Path, model: GenerativeModel, error: CheckpointError
) -> CheckpointError:
    """`error` (raised loading the checkpoint `damaged`), extended with the newest older checkpoint that passes
    every check of `load_checkpoint` (loaded into `model` to find out) and how to use it."""
    found = checkpoints_by_step(run.checkpoints)
    older = [
        path for step, path in sorted(found.items(), reverse=True) if path != damaged and step < max(found)
    ]
    for path in older:
        try:
            load_checkpoint(path, model, with_state=False)
        except CheckpointError:
            continue
        return CheckpointError(
            f"{error}; the newest intact checkpoint is {path}: give that folder to the commands that load a model, "
            f"or move {damaged.name} out of {run.checkpoints} to make it the newest (also for --resume)"
        )
    return error


def check_run_dir(run: RunDir, resume: bool) -> None:
    """Refuse a run directory that cannot be used, with one line: a new run needs a new or empty folder (never
    one holding a run or other files, which it could overwrite), a resumed run an existing one; both must be
    writable. Probed by creating and removing a file, which also catches read-only file systems."""
    path = run.path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"cannot use {path} as the run directory: it is a file")
    if not resume and run.config.exists():
        raise ConfigError(
            f"{path} already holds a run; continue it with --resume or choose another --run-dir"
        )
    if not resume and path.is_dir() and any(path.iterdir()):
        raise ConfigError(f"{path} is not empty and holds no run; choose a new or empty folder for --run-dir")
    probe_in = path
    while not probe_in.exists():
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        raise ConfigError(f"cannot create the run directory {path}: {probe_in} is a file")
    try:
        fd, probe = tempfile.mkstemp(prefix=".infogan-write-test-", dir=probe_in)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write the run directory {path}: {exc.strerror} ({probe_in})") from exc


def saved_config(run: RunDir) -> RunConfig:
    """The config a run was started with, or one line saying the folder holds no run to resume."""
    if not run.config.is_file():
        raise CheckpointError(f"cannot resume: {run.path} holds no run (no config.yaml)")
    return load_config_file(run.config)


def resume_point(run: RunDir, cfg: RunConfig, progress: ProgressFn) -> Path | None:
    """The checkpoint a run resumes from (None: it has none yet and starts from step 0), after checking that
    `cfg` has the run's own values everywhere but the keys a resumed run may change (`RESUMABLE_KEYS`) and that
    its step budget is not behind the checkpoint."""
    saved = saved_config(run)
    differences = config_differences(saved.model_dump(mode="json"), cfg.model_dump(mode="json"))
    changed = [
        (key, was, now)
        for key, was, now in differences
        if key not in RESUMABLE_KEYS and key.split(".")[0] in ("preset", "model", "data", "train")
    ]
    if changed:
        what = ", ".join(f"{key} {was!r}, this command gives {now!r}" for key, was, now in changed[:3])
        raise ConfigError(
            f"cannot resume {run.path}: it was started with {what}; a resumed run keeps its config "
            "(the step budget, the logging and checkpoint schedule, threads, device and where the data is may change)"
        )
    checkpoint = run.latest_checkpoint()
    manifest = read_manifest(checkpoint) if checkpoint else None
    done = int(manifest["step"]) if manifest else 0
    if cfg.train.steps < done:
        raise ConfigError(f"{run.path} is already at step {done}; --steps must be at least that to resume")
    start = f"from {cfg.train.branch_from} (train.branch_from)" if cfg.train.branch_from else "from step 0"
    progress(
        f"resuming {run.path} from {checkpoint.name}"
        if checkpoint
        else f"{run.path} has no complete checkpoint; starting it {start}"
    )
    for key, was, now in differences:
        if key == "train.device" and _device_kind(was) == _device_kind(now):
            continue  # `auto` names the device it resolves to
        if key in ROUNDING_KEYS and checkpoint is not None:
            progress(
                f"note: {key} was {was!r} and is now {now!r}: floating-point sums round differently, so the run "
                "continues as it would have, but not bit for bit"
            )
    return checkpoint


def _device_kind(name: Any) -> Any:
    """The device a `train.device` value trains on: `auto` resolved as training resolves it."""
    if name == "auto":
        return resolve_device(name).type
    return name


def branch_point(cfg: RunConfig) -> Path:
    """The checkpoint a new run starts from (`train.branch_from`: a checkpoint folder, or a run directory for its
    newest), checked before any work: it exists, is complete, and lies before the run's step budget."""
    assert cfg.train.branch_from is not None
    try:
        _, checkpoint = locate(Path(cfg.train.branch_from))
    except CheckpointError as exc:
        raise ConfigError(f"cannot branch from {cfg.train.branch_from}: {exc}") from exc
    manifest = read_manifest(checkpoint)
    assert manifest is not None  # locate returns complete checkpoints only
    if int(manifest["step"]) >= cfg.train.steps:
        raise ConfigError(
            f"cannot branch from {checkpoint}: it is at step {manifest['step']}, and this run's train.steps is "
            f"{cfg.train.steps}, so it would not train; raise --steps"
        )
    return checkpoint
