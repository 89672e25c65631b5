"""Training a run into its directory (`infogan.train`): the checks before any long work, a resume or a branch from
another run's checkpoint, the fit, and the end-of-run products (eval.json, a traversal figure per code)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infogan import data as datasets
from infogan.config import RunConfig
from infogan.errors import CheckpointError
from infogan.progress import ProgressFn, progress_to_stderr
from infogan.runs.directory import RunDir, branch_point, check_run_dir, intact_alternative, resume_point
from infogan.runs.loaded import Run
from infogan.training.distributed import init_world
from infogan.training.setup import check_buildable, prepare_trainer, resolve_device
from infogan.world import World

# The evaluation (scipy, scikit-learn) and figure modules are imported where they are used, so that loading a run
# to sample from it does not pay for them.


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
    existed = run.path.exists()
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
                # check_run_dir found it (no folder at all if there was none), so that the same command can
                # be tried again
                run.config.unlink(missing_ok=True)
                if not existed and not any(run.path.iterdir()):
                    run.path.rmdir()
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
