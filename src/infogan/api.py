"""The Python API: train a run, load it back, sample, traverse and evaluate — the same steps the CLI takes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from infogan import data as datasets
from infogan.config import (
    RESUMABLE_TRAIN_KEYS,
    DataConfig,
    RunConfig,
    config_differences,
    dump_config,
    load_config_file,
)
from infogan.data.base import Split
from infogan.errors import CheckpointError, ConfigError
from infogan.helpers import ProgressFn, progress_to_stderr, write_text_atomic
from infogan.metrics.evaluate import EvalData, evaluate_model, summary_lines
from infogan.models import GenerativeModel, build_model
from infogan.models.infogan import InfoGAN
from infogan.training.averaging import (
    average_weights,
    batch_norms,
    information_check,
    recompute_norm_statistics,
)
from infogan.training.checkpoint import (
    checkpoints_by_step,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
)
from infogan.training.loop import Trainer
from infogan.training.run_dir import RunDir, locate
from infogan.viz.traversal import Traversal, traversal_figure, traverse


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when available, else CPU)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    kind, _, index = name.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise ConfigError(f"device '{name}' is not supported (use cpu, cuda, cuda:N or auto)")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise ConfigError(f"device is '{name}' but this machine has no CUDA device; use cpu or auto")
    if index and int(index) >= count:
        raise ConfigError(
            f"device is '{name}' but this machine has {count} CUDA device(s): cuda:0..cuda:{count - 1}"
        )
    return torch.device(name)


@dataclass
class Run:
    """A trained (or training) run loaded from its directory."""

    dir: RunDir
    config: RunConfig
    model: GenerativeModel
    step: int
    # The steps whose weights were averaged into this checkpoint (`average`), or None for a training checkpoint.
    averaged_steps: list[int] | None = None

    def sample(self, n: int, *, codes: Mapping[str, float] | None = None, seed: int = 0) -> Tensor:
        """n images (n, C, H, W) in [-1, 1], repeatable for a seed, with the named codes fixed if given."""
        generator = torch.Generator(self.model.device).manual_seed(seed)
        return self.model.sample(n, codes=codes, generator=generator)

    def traverse(
        self,
        code: str,
        *,
        value_range: tuple[float, float] | None = None,
        steps: int | None = None,
        rows: int = 10,
        rows_by: str | None = "auto",
        seed: int = 0,
    ) -> Traversal:
        """A traversal of `code` (see `infogan.viz.traversal.traverse`); defaults come from the run's eval config."""
        generator = torch.Generator(self.model.device).manual_seed(seed)
        return traverse(
            self.model,
            code,
            value_range=value_range or self.config.eval.traverse_range,
            steps=steps or self.config.eval.traverse_steps,
            rows=rows,
            rows_by=rows_by,
            generator=generator,
        )

    def reconstruct(self, n: int = 32) -> tuple[Tensor, Tensor]:
        """The first n held-out images of the run's dataset and the model's reconstructions of them, each
        (n, C, H, W) in [-1, 1]; for models with an encoder (the VAE)."""
        data = datasets.build(self.config.data, self.config.eval.split)
        x = data.images[:n].to(self.model.device)
        recon = self.model.reconstruct(x)
        if recon is None:
            raise ConfigError(
                f"this {self.config.model.name} run has no encoder to reconstruct with; reconstruct applies to vae runs"
            )
        return x, recon

    def evaluate(
        self,
        dataset: str | None = None,
        data_root: str | None = None,
        *,
        baselines: bool = False,
        progress: ProgressFn = lambda _: None,
    ) -> dict[str, Any]:
        """Evaluate with the run's eval config (see `infogan.metrics.evaluate.evaluate_model`), against the run's
        dataset or `dataset` (which must have the same image shape)."""
        data_cfg = self.config.data
        if dataset is not None or data_root is not None:
            data_cfg = data_cfg.model_copy(
                update={
                    "name": dataset or data_cfg.name,
                    "fallback": None,
                    "root": data_root if data_root is not None else data_cfg.root,
                    # another dataset is read at its own size: a shape mismatch is an error, not a resize
                    "image_size": data_cfg.image_size if dataset in (None, data_cfg.name) else None,
                }
            )
        need_reference = "quality" in self.config.eval.metrics
        data = _eval_data(data_cfg, self.config.eval.split, self.model.device, need_reference)
        if data.held_out.shape != self.model.image_shape:
            raise ConfigError(
                f"dataset {data_cfg.name} has images of shape {data.held_out.shape}, the model makes "
                f"{self.model.image_shape}"
            )
        result = evaluate_model(self.model, data, self.config.eval, baselines=baselines, progress=progress)
        averaged = {} if self.averaged_steps is None else {"averaged_steps": self.averaged_steps}
        return {
            "step": self.step,
            **averaged,
            "dataset": data_cfg.name,
            "split": self.config.eval.split,
            **result,
        }


def _eval_data(cfg: DataConfig, split: Split, device: torch.device, need_reference: bool) -> EvalData:
    """The held-out split, and the training split only where the quality metrics need it as their reference."""
    src = datasets.source(cfg.name, cfg)
    ground_truth = getattr(src, "ground_truth", None)
    return EvalData(
        reference=datasets.build(cfg, "train").to(device) if need_reference else None,
        held_out=datasets.build(cfg, split).to(device),
        num_classes=src.num_classes,
        ground_truth=ground_truth(cfg.image_size) if ground_truth is not None else None,
    )


def _build(cfg: RunConfig, device: torch.device) -> GenerativeModel:
    assert cfg.data.channels is not None and cfg.data.image_size is not None
    model = build_model(cfg.model, (cfg.data.channels, cfg.data.image_size, cfg.data.image_size))
    return model.to(device)


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Load a run directory (its newest complete checkpoint) or a checkpoint folder inside one."""
    run, checkpoint = locate(Path(path))
    cfg = load_config_file(run.config)
    model = _build(cfg, resolve_device(device))
    step, _ = load_checkpoint(checkpoint, model, with_state=False)
    model.eval()
    manifest = read_manifest(checkpoint) or {}
    return Run(run, cfg, model, step, manifest.get("averaged_steps"))


def average(
    path: str | Path,
    *,
    first: int | None = None,
    last: int | None = None,
    calibration_images: int = 10_000,
    device: str = "cpu",
    check_samples: int = 5_000,
    progress: ProgressFn = progress_to_stderr,
) -> Run:
    """Average a run's checkpoints (see `infogan.training.averaging`) into the checkpoint folder
    ``checkpoints/average-<A>-<B>`` of the run, A and B being the first and last steps averaged, and load it.

    Args:
        path: the run directory.
        first: the earliest step averaged [default: half the newest checkpoint's step].
        last: the latest step averaged [default: the newest checkpoint's].
        calibration_images: at most this many real training images, in full batches of the run's batch size, to
            recompute the batch-norm statistics with.
        device: cpu, cuda, cuda:N or auto.
        check_samples: for InfoGAN, L_I per code is estimated on this many generated samples for the newest
            checkpoint averaged and for the average, on the draws `eval` makes, and a categorical code's drop of
            more than `averaging.MI_DROP_WARNING` nats is reported as a warning; 0 skips the check.
        progress: receives one line per stage.

    Returns:
        The averaged model as a `Run` whose `averaged_steps` lists the steps averaged.

    Raises:
        ConfigError: `path` is a checkpoint folder, `first` is after `last`, or fewer calibration images than a
            batch.
        CheckpointError: fewer than two complete checkpoints in the range, or one of them fails its checks.
    """
    run, _ = locate(Path(path))
    if read_manifest(Path(path)) is not None:
        raise ConfigError(f"{path} is a checkpoint folder; give the run directory that holds it")
    if first is not None and last is not None and first > last:
        raise ConfigError(f"--from {first} is after --to {last}")
    cfg = load_config_file(run.config)
    found = checkpoints_by_step(run.checkpoints)
    newest = max(found)
    lo, hi = newest // 2 if first is None else first, newest if last is None else last
    steps = sorted(s for s in found if lo <= s <= hi)
    if len(steps) < 2:
        raise CheckpointError(
            f"averaging needs at least two checkpoints from step {lo} to {hi}; {run.checkpoints} holds steps "
            f"{', '.join(map(str, sorted(found)))} (train with --checkpoint-every and train.keep_last to keep more)"
        )
    model = _build(cfg, resolve_device(device))
    has_norms = bool(batch_norms(model))
    images = None
    # read the data before the slow part, so a missing dataset fails first
    if has_norms and model.can_recalibrate:
        train_data = datasets.build(cfg.data, "train")
        order = torch.randperm(len(train_data), generator=torch.Generator().manual_seed(cfg.train.seed))
        images = train_data.images[order[:calibration_images]].to(model.device)
        if len(images) < cfg.train.batch_size:
            raise ConfigError(
                f"recomputing batch-norm statistics takes at least one batch of {cfg.train.batch_size} training "
                f"images; --calibration-images is {calibration_images} and the training split has {len(train_data)}"
            )
    progress(f"averaging {len(steps)} checkpoints, steps {steps[0]} to {steps[-1]}")
    average_weights(model, [found[s] for s in steps])
    if images is not None:
        model.seed(cfg.train.seed)
        layers = recompute_norm_statistics(model, images, cfg.train.batch_size)
        used = len(images) // cfg.train.batch_size * cfg.train.batch_size
        progress(f"batch-norm statistics of {layers} layers recomputed over {used} training images")
    elif has_norms:
        progress(
            f"batch-norm statistics averaged with the weights ({cfg.model.name} does not recompute them)"
        )
    name = f"average-{steps[0]}-{steps[-1]}"
    folder = save_checkpoint(
        model, steps[-1], run.checkpoints, {}, name=name, extra={"averaged_steps": steps}
    )
    progress(f"wrote {folder}")
    model.eval()
    if isinstance(model, InfoGAN) and check_samples > 0:
        last_model = _build(cfg, model.device)
        load_checkpoint(found[steps[-1]], last_model, with_state=False)
        assert isinstance(last_model, InfoGAN)
        for line in information_check(last_model, model, steps[-1], check_samples, cfg.eval):
            progress(line)
    return Run(run, cfg, model, steps[-1], steps)


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: ProgressFn = progress_to_stderr,
    should_stop: Callable[[], bool] = lambda: False,
) -> Run:
    """Train a run into `run_dir`, or continue it from its newest checkpoint with `resume`.

    A new run needs a run directory that holds no run yet. On resume, `cfg` must be the run's own config (only
    the step budget and the logging schedule may differ). When training completes, the run is evaluated
    (eval.json) and a traversal figure is written for each code.

    Returns:
        The run, with the model as training left it (possibly stopped early by `should_stop`).
    """
    run = RunDir(Path(run_dir))
    _check_run_dir(run, resume)  # before any long work: a mistake here costs seconds, not a data scan
    _check_buildable(cfg)
    if cfg.data.channels is None or not resume:  # a new run: pick the dataset (or its fallback) and its shape
        data_cfg, note = datasets.resolve(cfg.data)
        cfg = cfg.model_copy(update={"data": data_cfg})
        progress(note)
    checkpoint = None
    if resume:
        if not run.config.is_file():
            raise CheckpointError(f"cannot resume: {run.path} holds no run (no config.yaml)")
        saved = load_config_file(run.config)
        changed = [
            (key, was, now)
            for key, was, now in config_differences(
                saved.model_dump(mode="json"), cfg.model_dump(mode="json")
            )
            if key.split(".")[0] in ("model", "data")
            or (key.startswith("train.") and key.split(".")[1] not in RESUMABLE_TRAIN_KEYS)
        ]
        if changed:
            what = ", ".join(f"{key} {was!r}, this command gives {now!r}" for key, was, now in changed[:3])
            keys = ", ".join(sorted(f"train.{k}" for k in RESUMABLE_TRAIN_KEYS))
            raise ConfigError(f"cannot resume {run.path}: it was started with {what}; only {keys} may change")
        checkpoint = run.latest_checkpoint()
        manifest = read_manifest(checkpoint) if checkpoint else None
        done = int(manifest["step"]) if manifest else 0
        if cfg.train.steps < done:
            raise ConfigError(
                f"{run.path} is already at step {done}; --steps must be at least that to resume"
            )
        progress(
            f"resuming {run.path} from {checkpoint.name}"
            if checkpoint
            else f"{run.path} has no complete checkpoint; starting it from step 0"
        )

    device = resolve_device(cfg.train.device)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(cfg.train.seed)
    try:
        model = _build(cfg, device)
    except ValueError as exc:  # a network that cannot be built for this image shape
        raise ConfigError(f"cannot build {cfg.model.name} for {cfg.data.name}: {exc}") from exc
    model.seed(cfg.train.seed)
    train_data = datasets.build(cfg.data, "train").to(device)
    trainer = Trainer(model, train_data, cfg.train, run, progress=progress, should_stop=should_stop)
    try:  # only now, with the config, model and data known to work, does the run directory appear
        run.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run.config, dump_config(cfg))
    except OSError as exc:
        raise ConfigError(f"cannot write the run directory {run.path}: {exc.strerror}") from exc
    progress(
        f"run directory: {run.path} ({len(train_data)} training images, {cfg.train.steps} steps of "
        f"{cfg.train.batch_size}, device {device}, {torch.get_num_threads()} threads)"
    )

    step = trainer.fit(checkpoint)
    result = Run(run, cfg, model, step)
    if step == cfg.train.steps:
        model.eval()
        _finish(result, progress)
    return result


def _check_buildable(cfg: RunConfig) -> None:
    """Refuse a model that cannot be built for the configured dataset's image shape, before the data is read.

    Built on the meta device (no memory, a few ms). The shape is the configured one or the dataset's own; a
    fallback dataset of another shape is checked again when the real model is built.
    """
    src = datasets.source(cfg.data.name, cfg.data)
    size = cfg.data.image_size or src.image_size
    shape = (cfg.data.channels or src.channels, size, size)
    try:
        with torch.device("meta"):
            build_model(cfg.model, shape)
    except ValueError as exc:
        raise ConfigError(f"cannot build {cfg.model.name} for {cfg.data.name}: {exc}") from exc


def _check_run_dir(run: RunDir, resume: bool) -> None:
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


def _finish(run: Run, progress: ProgressFn) -> None:
    """Write the end-of-run products: a traversal figure per code and eval.json."""
    for code in run.model.latent.codes:
        traversal_figure(run.traverse(code.name)).savefig(run.dir.traversal(code.name))
    progress(
        f"evaluating against {run.config.data.name} ({run.config.eval.split} split held out; "
        f"metric groups: {', '.join(run.config.eval.metrics)})"
    )
    metrics = run.evaluate(progress=progress)
    write_text_atomic(run.dir.eval, json.dumps(metrics, indent=1))
    for line in summary_lines(metrics):
        progress(line)
    progress(f"evaluation written to {run.dir.eval}")
