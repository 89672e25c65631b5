"""The Python API: train a run, load it back, sample, traverse and evaluate — the same steps the CLI takes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infogan import data as datasets
from infogan.config import RunConfig, load_config_file
from infogan.errors import CheckpointError
from infogan.progress import ProgressFn, progress_to_stderr
from infogan.runs.directory import (
    RunDir,
    branch_point,
    check_run_dir,
    intact_alternative,
    locate,
    resume_point,
)
from infogan.runs.loaded import Run
from infogan.training.checkpoint import load_checkpoint, read_manifest
from infogan.training.distributed import World, init_world
from infogan.training.setup import build_for_run, check_buildable, prepare_trainer, resolve_device

__all__ = ["Run", "average", "load", "load_run", "train"]

# The evaluation (scipy, scikit-learn), averaging and figure modules are imported where they are used, so that
# loading a run to sample from it does not pay for them.


def load(path: str | Path, *, device: str = "cpu") -> Run:
    """`load_run`: a run (or a checkpoint in one), ready to `generate`, `encode`, `sample` and `traverse`."""
    return load_run(path, device=device)


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Load a run directory (its newest complete checkpoint) or a checkpoint folder inside one."""
    run, checkpoint = locate(Path(path))
    cfg = load_config_file(run.config)
    model = build_for_run(cfg, resolve_device(device))
    try:
        step, _ = load_checkpoint(checkpoint, model, with_state=False)
    except CheckpointError as exc:
        if read_manifest(Path(path)) is not None:  # the user named this checkpoint: nothing else to suggest
            raise
        raise intact_alternative(run, checkpoint, model, exc) from exc
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
    """Average a run's checkpoints (see `infogan.runs.averaging`) into the checkpoint folder
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
    from infogan.runs.averaging import average_run

    run, cfg, model, steps = average_run(
        Path(path),
        first=first,
        last=last,
        n_calibration=calibration_images,
        device=device,
        check_samples=check_samples,
        progress=progress,
    )
    return Run(run, cfg, model, steps[-1], steps)


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: ProgressFn = progress_to_stderr,
    should_stop: Callable[[], bool] = lambda: False,
    world: World = World(),
    evaluate: bool | None = None,
) -> Run:
    """Train a run into `run_dir`, or continue it from its newest checkpoint with `resume`.

    A new run needs a run directory that holds no run yet. On resume, `cfg` must be the run's own config but for
    the keys `config.RESUMABLE_KEYS` names (the budget and schedules, threads, device, where the data is). A run
    with `train.branch_from` and no checkpoint of its own starts from that checkpoint of another run. When
    training completes, the run is evaluated (eval.json) and a traversal figure is written for each code.
    `world` is this process's rank in a torchrun launch (`training.distributed.world_from_env(os.environ)`):
    the ranks train one run data-parallel, and rank 0 alone writes it and evaluates it. `evaluate` decides, for
    this call only, whether the finished run is evaluated (None: the config's `train.evaluate`).

    Returns:
        The run, with the model as training left it (possibly stopped early by `should_stop`).
    """
    run = RunDir(Path(run_dir))
    init_world(world, resolve_device(cfg.train.device))
    if not world.is_main:
        progress = _quiet
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"world_size": world.size})})
    check_run_dir(run, resume)  # before any long work: a mistake here costs seconds, not a data scan
    check_buildable(cfg)
    # another run's checkpoint to start from, while this run has none of its own
    started = resume and run.latest_checkpoint() is not None
    branch = branch_point(cfg) if cfg.train.branch_from and not started else None
    if cfg.data.channels is None or not resume:  # a new run: pick the dataset (or its fallback) and its shape
        data_cfg, note = datasets.resolve(cfg.data)
        cfg = cfg.model_copy(update={"data": data_cfg})
        progress(note)
    checkpoint = resume_point(run, cfg, progress) if resume else None
    world.barrier()  # every rank has checked the run directory before rank 0 writes to it
    from infogan.viz.grids import SampleGrids

    trainer = prepare_trainer(
        cfg, run, progress=progress, should_stop=should_stop, callbacks=[SampleGrids()], world=world
    )
    try:
        step = trainer.fit(checkpoint, branch_from=branch)
    except CheckpointError as exc:
        if checkpoint is None:
            if branch is not None and not resume and run.latest_checkpoint() is None:
                # a new run whose branch did not load has trained nothing: leave its folder as empty as
                # check_run_dir found it, so that the same command can be tried again
                run.config.unlink(missing_ok=True)
            raise
        raise intact_alternative(run, checkpoint, trainer.model, exc) from exc
    result = Run(run, cfg, trainer.model, step, finished=trainer.finished)
    if trainer.finished:
        if (
            world.distributed
        ):  # batch norm's running statistics are each rank's own: evaluate rank 0's, as saved
            world.broadcast_module(trainer.model)
        trainer.model.eval()
        _finish(result, progress, world, cfg.train.evaluate if evaluate is None else evaluate)
    world.barrier()  # every rank waits for rank 0's evaluation, so that all leave the process group together
    return result


def _quiet(line: str) -> None:
    """The progress printer of ranks other than 0 in a data-parallel run: rank 0 speaks for all."""


def _finish(run: Run, progress: ProgressFn, world: World, evaluate: bool) -> None:
    """Write the end-of-run products (rank 0): if `evaluate`, eval.json, whose generated samples every rank of a
    data-parallel run shares in; then a traversal figure per code."""
    if not evaluate:
        if world.is_main:
            run.write_traversals()
        progress(f"not evaluated: infogan eval {run.dir.path} evaluates it")
        return
    progress(
        f"evaluating against {run.config.data.name} ({run.config.eval.split} split held out; "
        f"metric groups: {', '.join(run.config.eval.metrics) or 'none'})"
        + (f", generated samples split over {world.size} ranks" if world.distributed else "")
    )
    metrics = run.evaluate(progress=progress, world=world)
    if not world.is_main:
        return
    from infogan.evaluation.record import EvalRecord

    EvalRecord.model_validate(metrics).write(run.dir.eval)
    progress(f"evaluation written to {run.dir.eval}")
    run.write_traversals()  # after the evaluation: its categories are labelled with the digits they were matched to
