"""What a run needs before it can train or be loaded: its device, its model for its config, a check that the model
can be built for the configured images at all, and the trainer of a new or resumed run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from infogan import data as datasets
from infogan.config import RunConfig, dump_config
from infogan.errors import ConfigError
from infogan.files import write_text_atomic
from infogan.models import GenerativeModel, build_model
from infogan.progress import ProgressFn
from infogan.training.collapse import CollapseCheck
from infogan.training.distributed import World, rank_device, rank_seed
from infogan.training.loop import Callback, RunFolder, Trainer


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


def build_for_run(cfg: RunConfig, device: torch.device) -> GenerativeModel:
    """The model of a resolved run config (its data section knows the image shape), on `device`; one line saying
    why when the config cannot build it (e.g. a run's config.yaml edited by hand)."""
    assert cfg.data.channels is not None and cfg.data.image_size is not None
    shape = (cfg.data.channels, cfg.data.image_size, cfg.data.image_size)
    try:
        model = build_model(cfg.model, shape)
    except ValueError as exc:
        raise ConfigError(
            f"cannot build {cfg.model.name} for {'x'.join(map(str, shape))} images of {cfg.data.name}: {exc}"
        ) from exc
    return model.to(device)


def check_buildable(cfg: RunConfig) -> None:
    """Refuse a model that cannot be built for the configured dataset's image shape, before the data is read.

    Built on the meta device (no memory, a few ms). The shape is the configured one or the dataset's own; a
    fallback dataset of another shape is checked again when the real model is built.
    """
    shape = datasets.image_shape(cfg.data)
    try:
        with torch.device("meta"):
            build_model(cfg.model, shape)
    except ValueError as exc:
        raise ConfigError(f"cannot build {cfg.model.name} for {cfg.data.name}: {exc}") from exc


def prepare_trainer(
    cfg: RunConfig,
    run: RunFolder,
    *,
    progress: ProgressFn,
    should_stop: Callable[[], bool],
    callbacks: Sequence[Callback] = (),
    world: World = World(),
) -> Trainer:
    """Seed, build the model on its device, read the training split, and only then, with all of that known to
    work, write the run directory's config.yaml (rank 0 of a data-parallel run); return the trainer for
    `Trainer.fit`, with the collapse detector (when `cfg.train.collapse_check`) and then `callbacks`."""
    device = rank_device(resolve_device(cfg.train.device), world)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(cfg.train.seed)  # the same initial weights on every rank
    try:
        model = build_for_run(cfg, device)
    except ValueError as exc:  # a network that cannot be built for this image shape
        raise ConfigError(f"cannot build {cfg.model.name} for {cfg.data.name}: {exc}") from exc
    if cfg.train.sync_bn:
        if device.type != "cuda":
            raise ConfigError(
                "train.sync_bn needs CUDA: PyTorch's SyncBatchNorm has no CPU implementation "
                "(on CPU each rank normalises by its own share of the batch)"
            )
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.seed(rank_seed(cfg.train.seed, world.rank))
    train_data = datasets.build(cfg.data, "train").to(device)
    checks: list[Callback] = [CollapseCheck()] if cfg.train.collapse_check else []
    trainer = Trainer(
        model,
        train_data,
        cfg.train,
        run,
        progress=progress,
        should_stop=should_stop,
        callbacks=[*checks, *callbacks],
        world=world,
    )
    if not world.is_main:
        return trainer
    try:
        run.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run.config, dump_config(cfg))
    except OSError as exc:
        raise ConfigError(f"cannot write the run directory {run.path}: {exc.strerror}") from exc
    ranks = f"{world.size} ranks x " if world.distributed else ""
    threads = torch.get_num_threads()
    precision = trainer.precision.name
    auto = " (auto)" if cfg.train.precision == "auto" else ""
    progress(
        f"run directory: {run.path} ({len(train_data)} training images, {cfg.train.steps} steps of "
        f"{ranks}{cfg.train.batch_size}, device {device}, {threads} thread{'s' if threads != 1 else ''}"
        f"{' per rank' if world.distributed else ''}{'' if precision == 'fp32' else f', {precision}{auto}'})"
    )
    return trainer
