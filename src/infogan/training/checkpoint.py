"""Checkpoints: ``checkpoints/step-<N>/`` with weights as safetensors, optimiser/RNG/loop state, and a manifest.

A checkpoint is written under a temporary name, each file flushed and fsynced, the manifest written last, and then
the folder renamed into place, so a folder called ``step-<N>`` with a manifest is always complete. The manifest
records the format version, the model's config and image shape, and a SHA-256 of every file; loading checks all
of them before anything is restored. Weights are safetensors; the rest of the state (optimisers, every RNG, the
loop's counters) is read back with ``torch.load(weights_only=True)``, which refuses pickled code, and only on a
torch recent enough for that restriction to hold (`MIN_TORCH`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from infogan.config import config_differences
from infogan.errors import CheckpointError
from infogan.models.base import GenerativeModel

# 2 added the model config and image shape to the manifest and the numpy, Python and CUDA RNG states; format 1
# checkpoints are still read (without the config check).
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
# torch.load(weights_only=True) refuses arbitrary pickles from 2.6 on (earlier versions had a bypass,
# CVE-2025-32434), and 2.6 made it the default.
MIN_TORCH = (2, 6)
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
STATE = "state.pt"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rng_states() -> dict[str, Any]:
    """Every process-wide random generator's state, as tensors and numbers (loadable with weights_only=True):
    torch's CPU (and CUDA, when initialised) generators, numpy's global generator and Python's `random`."""
    _, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    assert isinstance(keys, np.ndarray)  # the legacy form is a tuple of (name, keys, pos, has_gauss, gauss)
    version, internal, gauss_next = random.getstate()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "gauss": gauss,
        },
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss": gauss_next,
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what `rng_states` captured (states missing from older checkpoints are left alone)."""
    torch.set_rng_state(states["torch"].cpu())
    if "numpy" in states:
        n = states["numpy"]
        keys = n["keys"].cpu().numpy().astype(np.uint32)
        np.random.set_state(("MT19937", keys, int(n["pos"]), int(n["has_gauss"]), float(n["gauss"])))
    if "python" in states:
        py = states["python"]
        random.setstate((int(py["version"]), tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states["cuda"]])


def nonfinite_tensors(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors holding a NaN or an infinity."""
    return [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def model_identity(model: GenerativeModel) -> dict[str, Any]:
    """What a checkpoint must agree with to be loaded into `model`: its config and image shape."""
    return {"model": model.cfg.model_dump(mode="json"), "image_shape": list(model.image_shape)}


def _with_defaults(saved: Any, model: GenerativeModel) -> Any:
    """The checkpoint's model config with each key added since it was written set to its default, so that a
    checkpoint from an older version of infogan still loads and a real difference is the only one named.
    Validated where it is a valid config of the model's kind, so that values read back as this version writes them."""
    filled = _fill(saved, type(model.cfg)(name=model.cfg.name).model_dump(mode="json"))
    try:
        return type(model.cfg).model_validate(filled).model_dump(mode="json")
    except ValidationError:
        return filled


def _fill(saved: Any, defaults: Any) -> Any:
    if not isinstance(saved, dict) or not isinstance(defaults, dict):
        return saved
    return {**defaults, **{k: _fill(v, defaults.get(k)) for k, v in saved.items()}}


def save_checkpoint(
    model: GenerativeModel,
    step: int,
    folder: Path,
    loop_state: dict[str, Any],
    *,
    name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete checkpoint of `model` at `step` into ``folder/step-<step>`` and return its path.

    Args:
        model: the model; its weights, buffers, optimisers and training generator are saved.
        step: number of completed updates.
        folder: the run's ``checkpoints`` folder.
        loop_state: the loop's own state (tensors, numbers, strings), restored by `load_checkpoint`.
        name: the folder's name instead of ``step-<step>``; only ``step-*`` folders are resumed from and pruned.
        extra: more JSON-ready entries for the manifest.

    Raises:
        CheckpointError: the weights hold a NaN or an infinity (nothing is written), or the disk refused the
            write (full, read-only, ...): the message names the path, the partial write is removed and the
            previous checkpoints are untouched.
    """
    clash = {"format_version", "step", "files", "torch", "model", "image_shape"} & set(extra or {})
    if clash:
        raise ValueError(f"extra manifest entries may not replace {sorted(clash)}")
    weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    bad = nonfinite_tensors(weights)
    if bad:
        raise CheckpointError(
            f"refusing to write a checkpoint at step {step}: non-finite values in {', '.join(bad[:3])}"
        )
    folder_name = name or f"step-{step}"
    final = folder / folder_name
    tmp = folder / f".{folder_name}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file(weights, str(tmp / WEIGHTS))
        state = {
            "optimizers": {name: opt.state_dict() for name, opt in model.optimizers.items()},
            "rng": {"model": model.rng.get_state(), **rng_states()},
            "loop": loop_state,
        }
        torch.save(state, tmp / STATE)
        files = {file: _sha256(tmp / file) for file in (WEIGHTS, STATE)}
        for file in files:
            _fsync(tmp / file)
        manifest = {
            "format_version": FORMAT_VERSION,
            "step": step,
            "files": files,
            "torch": torch.__version__,
            **model_identity(model),
            **(extra or {}),
        }
        with (tmp / MANIFEST).open("w") as fh:
            fh.write(json.dumps(manifest, indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        _fsync(tmp)
        if (
            final.exists()
        ):  # a same-step checkpoint whose state failed to load: move it aside, then replace it
            old = folder / f".{folder_name}.old"
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
        _fsync(folder)
    except (OSError, SafetensorError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            reason = "no space left on device"
        raise CheckpointError(
            f"cannot write checkpoint {final}: {reason}; the previous checkpoints are intact"
        ) from exc
    return final


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a checkpoint folder, or None if the folder is incomplete or not a checkpoint."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and "step" in manifest else None


def checkpoints_by_step(folder: Path) -> dict[int, Path]:
    """Complete checkpoints in `folder` by the step their manifest records, oldest first.

    A ``.step-<N>.old`` folder is the previous checkpoint of a step being replaced (see `save_checkpoint`); it
    counts only while no ``step-<N>`` exists, i.e. after a crash in the middle of the replacement.
    """
    if not folder.is_dir():
        return {}
    found: dict[int, Path] = {}
    for pattern in (".step-*.old", "step-*"):  # a step-<N> folder wins over an .old of the same step
        for p in folder.glob(pattern):
            if p.is_dir() and (m := read_manifest(p)) is not None:
                found[int(m["step"])] = p
    return {step: found[step] for step in sorted(found)}


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in `folder`, oldest first (see `checkpoints_by_step`)."""
    return list(checkpoints_by_step(folder).values())


def prune_checkpoints(folder: Path, keep_last: int) -> None:
    """Delete all but the newest `keep_last` complete checkpoints, and leftovers of interrupted saves. Called
    after a save has committed, so the newest checkpoint is never among those deleted."""
    kept = list_checkpoints(folder)[-keep_last:]
    for path in [*folder.glob("step-*"), *folder.glob(".step-*.old"), *folder.glob(".step-*.tmp")]:
        if path not in kept:
            shutil.rmtree(path, ignore_errors=True)


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def load_checkpoint(
    path: Path, model: GenerativeModel, *, with_state: bool = True
) -> tuple[int, dict[str, Any]]:
    """Restore `model` (and, with `with_state`, its optimisers and every RNG) from a checkpoint folder.

    Everything is checked before anything is restored: the manifest and its format version, each file's hash,
    the model config and image shape, tensor shapes, and that every tensor is finite. Any failure raises a
    `CheckpointError` with one line naming what differs; the model is then left as it was.

    Returns:
        (step, loop_state); loop_state is empty when `with_state` is False.
    """
    manifest = _verified_manifest(path)
    if "model" in manifest:
        saved = {
            "model": _with_defaults(manifest["model"], model),
            "image_shape": manifest.get("image_shape"),
        }
        diffs = config_differences(saved, model_identity(model))
        if diffs:
            # another kind of model differs in many keys; its name is the one to report
            shown = [d for d in diffs if d[0] == "model.name"] or diffs[:3]
            what = "; ".join(f"{key} {was!r} in the checkpoint, {now!r} here" for key, was, now in shown)
            raise CheckpointError(f"{path} was trained with a different model: {what}")
    weights = _read_weights(path, model)
    _check_weights(model, weights, path)
    state = _read_state(path, model) if with_state else {}
    model.load_state_dict(weights)
    if not with_state:
        return int(manifest["step"]), {}
    for name, opt in model.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    _restore_generators(model, state)
    return int(manifest["step"]), state["loop"]


def branch_from_checkpoint(path: Path, model: GenerativeModel) -> tuple[int, list[str]]:
    """Start `model`, the model of a new run, from another run's checkpoint: its weights, optimiser states,
    training generator, every process-wide RNG and its step, so that the new run continues exactly where the other
    stood. The model's config may differ from the checkpoint's (that is the point: another model from the same
    start), but every tensor and optimiser the checkpoint holds must exist here with the same shape; networks and
    optimisers this model has and the checkpoint lacks keep their fresh initialisation. Each optimiser keeps this
    model's hyperparameters (learning rates, betas) and takes only the checkpoint's moments and step counts.

    Returns:
        (step, the names of the networks and optimisers that start fresh).
    """
    manifest = _verified_manifest(path)
    weights = _read_weights(path, model)
    _check_weights(model, weights, path, allow_missing=True)
    state = _read_state(path, model)
    unknown = sorted(set(state["optimizers"]) - set(model.optimizers))
    if unknown:
        raise CheckpointError(f"{path} holds optimisers this model does not have: {', '.join(unknown)}")
    model.load_state_dict(weights, strict=False)
    for name, opt in model.optimizers.items():
        if name not in state["optimizers"]:
            continue
        hyper = [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]
        try:
            opt.load_state_dict(state["optimizers"][name])
        except ValueError as exc:
            raise CheckpointError(f"{path}: optimiser {name} does not fit this model ({exc})") from exc
        for group, own in zip(opt.param_groups, hyper, strict=True):
            group.update(own)
    _restore_generators(model, state)
    fresh_modules = sorted({key.split(".")[0] for key in set(model.state_dict()) - set(weights)})
    fresh_optimizers = sorted(set(model.optimizers) - set(state["optimizers"]))
    return int(manifest["step"]), [*fresh_modules, *(f"optimiser {n}" for n in fresh_optimizers)]


def _restore_generators(model: GenerativeModel, state: dict[str, Any]) -> None:
    """The model's training generator and every process-wide RNG, as the checkpoint's state holds them.

    A checkpoint saved on another kind of device (a CUDA run resumed on a CPU, or the reverse) holds the state of
    another kind of generator, which this one cannot take: the two draw differently anyway. The generator then
    starts from a seed derived from the saved state, so every resume of that checkpoint draws the same latents."""
    saved = state["rng"]["model"].cpu()
    if saved.numel() == model.rng.get_state().numel():
        model.rng.set_state(saved)
    else:
        model.rng.manual_seed(int.from_bytes(hashlib.sha256(saved.numpy().tobytes()).digest()[:8], "little"))
    set_rng_states(state["rng"])


def _verified_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a complete checkpoint whose files match their hashes, read by a torch that loads safely."""
    if _torch_version() < MIN_TORCH:
        raise CheckpointError(
            f"loading checkpoints needs torch >= {'.'.join(map(str, MIN_TORCH))} "
            f"(safe weights_only loading); this is torch {torch.__version__}"
        )
    manifest = read_manifest(path)
    if manifest is None:
        raise CheckpointError(f"{path} is not a complete checkpoint (no readable {MANIFEST})")
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise CheckpointError(
            f"{path} has checkpoint format {manifest.get('format_version')}, "
            f"this version of infogan reads formats {', '.join(map(str, READABLE_FORMATS))}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {WEIGHTS, STATE}:
        raise CheckpointError(f"{path / MANIFEST} does not list the checkpoint's files ({WEIGHTS}, {STATE})")
    for name, digest in files.items():
        if not (path / name).is_file() or _sha256(path / name) != digest:
            raise CheckpointError(
                f"{path / name} is missing or does not match its manifest (truncated or corrupted)"
            )
    return manifest


def _read_weights(path: Path, model: GenerativeModel) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path / WEIGHTS), device=str(model.device))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"cannot read weights {path / WEIGHTS}: {exc}") from exc


def _read_state(path: Path, model: GenerativeModel) -> dict[str, Any]:
    """The optimiser, RNG and loop state of a checkpoint, checked to be an infogan training state, finite."""
    try:
        state = torch.load(path / STATE, map_location=model.device, weights_only=True)
    except Exception as exc:  # unpickling errors have no common base class
        raise CheckpointError(f"cannot read {path / STATE}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(state, dict) or not {"optimizers", "rng", "loop"} <= set(state):
        raise CheckpointError(f"{path / STATE} is not an infogan training state")
    bad = [
        f"optimizer {name}"
        for name, opt_state in state["optimizers"].items()
        if any(nonfinite_tensors(s) for s in opt_state.get("state", {}).values())
    ]
    if bad:
        raise CheckpointError(f"{path / STATE} holds non-finite values in {', '.join(bad)}")
    return state


def _check_weights(
    model: GenerativeModel, weights: dict[str, torch.Tensor], path: Path, *, allow_missing: bool = False
) -> None:
    expected = model.state_dict()
    missing = [] if allow_missing else sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        what = [
            f"{label} {keys[:3]}"
            for label, keys in (("missing", missing), ("unexpected", unexpected))
            if keys
        ]
        raise CheckpointError(f"{path / WEIGHTS} does not match this model: {', '.join(what)}")
    for key, value in weights.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(
                f"{path / WEIGHTS} does not match this model: {key} has shape "
                f"{tuple(value.shape)} in the checkpoint, {tuple(expected[key].shape)} here"
            )
    bad = nonfinite_tensors(weights)
    if bad:
        raise CheckpointError(f"{path / WEIGHTS} holds non-finite values in {', '.join(bad[:3])}")
