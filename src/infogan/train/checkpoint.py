"""Checkpoints: ``checkpoints/step-<N>/`` with weights as safetensors, optimiser/RNG/loop state, and a manifest.

A checkpoint is written under a temporary name, each file flushed and fsynced, the manifest written last, and then
the folder renamed into place, so a folder called ``step-<N>`` with a manifest is always complete. Non-weight state
is read back with ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from infogan.errors import CheckpointError
from infogan.models.base import GenerativeModel

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
STATE = "state.pt"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never a torn one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(model: GenerativeModel, step: int, folder: Path, loop_state: dict[str, Any]) -> Path:
    """Write a complete checkpoint of `model` at `step` into ``folder/step-<step>`` and return its path.

    Args:
        model: the model; its weights, buffers, optimisers and training generator are saved.
        step: number of completed updates.
        folder: the run's ``checkpoints`` folder.
        loop_state: the loop's own state (tensors, numbers, strings), restored by `load_checkpoint`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step}"
    tmp = folder / f".step-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / WEIGHTS))
    state = {
        "optimizers": {name: opt.state_dict() for name, opt in model.optimizers.items()},
        "rng": {"model": model.rng.get_state(), "torch": torch.get_rng_state()},
        "loop": loop_state,
    }
    torch.save(state, tmp / STATE)
    files = {name: _sha256(tmp / name) for name in (WEIGHTS, STATE)}
    for name in files:
        _fsync(tmp / name)
    manifest = {"format_version": FORMAT_VERSION, "step": step, "files": files, "torch": torch.__version__}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    _fsync(tmp / MANIFEST)
    _fsync(tmp)
    if final.exists():  # a checkpoint of the same step from a run that was resumed before it
        shutil.rmtree(final)
    tmp.rename(final)
    _fsync(folder)
    return final


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a checkpoint folder, or None if the folder is incomplete or not a checkpoint."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and "step" in manifest else None


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [
        (m["step"], p) for p in folder.glob("step-*") if p.is_dir() and (m := read_manifest(p)) is not None
    ]
    return [p for _, p in sorted(found)]


def prune_checkpoints(folder: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` complete checkpoints, and leftovers of interrupted saves."""
    for path in list_checkpoints(folder)[:-keep_last]:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in folder.glob(".step-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


def load_checkpoint(
    path: Path, model: GenerativeModel, *, with_state: bool = True
) -> tuple[int, dict[str, Any]]:
    """Restore `model` (and, with `with_state`, its optimisers and generators) from a checkpoint folder.

    Returns:
        (step, loop_state); loop_state is empty when `with_state` is False.
    """
    manifest = read_manifest(path)
    if manifest is None:
        raise CheckpointError(f"{path} is not a complete checkpoint (no readable {MANIFEST})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {manifest.get('format_version')}, "
            f"this version of infogan reads format {FORMAT_VERSION}"
        )
    for name, digest in manifest.get("files", {}).items():
        if not (path / name).is_file() or _sha256(path / name) != digest:
            raise CheckpointError(f"{path / name} is missing or does not match its manifest (corrupted?)")
    try:
        weights = load_file(str(path / WEIGHTS), device=str(model.device))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"cannot read weights {path / WEIGHTS}: {exc}") from exc
    _load_weights(model, weights, path)
    if not with_state:
        return int(manifest["step"]), {}
    try:
        state = torch.load(path / STATE, map_location=model.device, weights_only=True)
    except Exception as exc:  # unpickling errors have no common base class
        raise CheckpointError(f"cannot read {path / STATE}: {str(exc).splitlines()[0]}") from exc
    for name, opt in model.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    model.rng.set_state(state["rng"]["model"].cpu())
    torch.set_rng_state(state["rng"]["torch"].cpu())
    return int(manifest["step"]), state["loop"]


def _load_weights(model: GenerativeModel, weights: dict[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path / WEIGHTS} does not match this model: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    for key, value in weights.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(
                f"{path / WEIGHTS} does not match this model: {key} has shape "
                f"{tuple(value.shape)} in the checkpoint, {tuple(expected[key].shape)} here"
            )
    model.load_state_dict(weights)
