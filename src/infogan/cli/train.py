"""`infogan train`: train a preset, or resume a run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import check_dataset_option, data_root_option, stopping_on_signals
from infogan.errors import ConfigError
from infogan.progress import progress_to_stderr

# `--resume` alone means "latest" (see infogan.cli.main); `--resume auto` resumes only when there is a run.
RESUME_WHEN = ("latest", "auto")


@app.command(short_help="Train a model (default: InfoGAN on MNIST), or resume a run.")
def train(
    preset: str | None = typer.Option(
        None, "--preset", "-p", help="Preset name (see `infogan presets`) or a YAML file [default: mnist]."
    ),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name (see `infogan datasets`)."),
    data_root: str | None = data_root_option(),
    image_size: int | None = typer.Option(
        None,
        "--image-size",
        help="Resize images to S x S [default: the dataset's size; for folder:PATH the images' own side when "
        "they share one of at most 64 pixels, else 64].",
    ),
    channels: int | None = typer.Option(
        None,
        "--channels",
        help="Read an image folder as 1 (grey) or 3 (RGB) channels [default: 1 when every image is grey, else 3].",
    ),
    no_eval: bool = typer.Option(
        False,
        "--no-eval",
        help="Do not evaluate the run when this command's training ends (infogan eval RUN does it later); "
        "a later --resume evaluates as usual.",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Stop at bad files in an image folder instead of skipping and listing them."
    ),
    steps: int | None = typer.Option(None, "--steps", help="Number of updates (the preset's by default)."),
    minutes: float | None = typer.Option(
        None,
        "--minutes",
        help="A wall-time budget: stop training after this many minutes (or --steps, whichever comes first), "
        "then evaluate as usual.",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (the preset's by default)."),
    run_dir: Path | None = typer.Option(
        None, "--run-dir", help="Where the run is written [default: runs/<preset>-<date>-<time>]."
    ),
    log_every: int | None = typer.Option(None, "--log-every", help="Log and print every N steps."),
    checkpoint_every: int | None = typer.Option(None, "--checkpoint-every", help="Checkpoint every N steps."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, cuda:N or auto."),
    overrides: list[str] | None = typer.Option(
        None, "--set", help="Override any config key: --set model.lambda_cont=0.2 (repeatable)."
    ),
    branch_from: Path | None = typer.Option(
        None,
        "--branch-from",
        help="Start this new run from a checkpoint of another run (a checkpoint folder, or a run directory for "
        "its newest): its weights, optimiser states, random generators and step. The model may add networks "
        "the checkpoint lacks (InfoGAN-CR's H after an InfoGAN run); they start fresh.",
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        metavar="[auto]",
        help="Continue the run in --run-dir from its newest complete checkpoint. `--resume auto` does that "
        "when --run-dir holds a run and starts a new one there otherwise (for jobs that may be restarted). "
        "A resumed run keeps its config; the step and time budget, the logging and checkpoint schedule, "
        "threads, device and where the data is may change (the same values as before are always accepted).",
    ),
) -> None:
    """Train a model. With no options: InfoGAN on MNIST as in the paper (full MNIST if found, else the
    5,000-digit sample that installs with infogan)."""
    sets = list(overrides or [])
    flags = [
        ("train.steps", "--steps", steps),
        ("train.minutes", "--minutes", minutes),
        ("train.seed", "--seed", seed),
        ("train.log_every", "--log-every", log_every),
        ("train.checkpoint_every", "--checkpoint-every", checkpoint_every),
        ("train.device", "--device", device),
        ("data.root", "--data-root", data_root),
        ("data.image_size", "--image-size", image_size),
        ("data.channels", "--channels", channels),
        ("data.strict", "--strict", True if strict else None),
        ("train.branch_from", "--branch-from", branch_from.resolve() if branch_from else None),
    ]
    sets += [f"{key}={value}" for key, _, value in flags if value is not None]
    # how the user typed each key a flag sets, for error messages
    typed = {key: flag if flag == "--strict" else f"{flag} {value}" for key, flag, value in flags}
    check_dataset_option(dataset)
    if dataset is not None:
        sets += [f"data.name={dataset}", "data.fallback=null"]
        typed.update({"data.name": f"--dataset {dataset}", "data.fallback": f"--dataset {dataset}"})
    if resume is not None:
        if resume not in RESUME_WHEN:
            raise ConfigError(f"--resume takes no value or 'auto', got '{resume}'")
        if run_dir is None:
            raise ConfigError(
                f"--resume{' auto' if resume == 'auto' else ''} needs --run-dir DIR, the run to continue"
            )
    from infogan.config import apply_overrides, load_preset
    from infogan.runs.directory import RunDir, saved_config

    resuming = resume == "latest" or (
        resume == "auto" and run_dir is not None and RunDir(run_dir).config.exists()
    )
    if (
        resuming
    ):  # the run's own config, with the values this command gives; api.train refuses changes it cannot take
        assert run_dir is not None
        saved = saved_config(RunDir(run_dir))
        if branch_from is not None and RunDir(run_dir).latest_checkpoint() is not None:
            raise ConfigError(
                f"--branch-from starts a run from another run's checkpoint, but {run_dir} has checkpoints of its "
                "own to resume from: drop --branch-from to continue it, or give a new --run-dir to branch"
            )
        if preset is not None and preset != saved.preset:
            raise ConfigError(
                f"cannot resume {run_dir} with --preset {preset}: it was started with preset {saved.preset}"
            )
        cfg = apply_overrides(saved, sets, typed)
    else:
        cfg = load_preset(preset or "mnist", sets, typed)
        if run_dir is None:
            run_dir = Path("runs") / f"{cfg.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    from infogan.api import train as train_run
    from infogan.cli.summary import summary_lines
    from infogan.training.distributed import leave_world, world_from_env

    world = world_from_env(os.environ)  # set by torchrun; a single process otherwise

    with stopping_on_signals() as stop:
        try:
            run = train_run(
                cfg,
                run_dir,
                resume=resuming,
                should_stop=stop.requested,
                world=world,
                evaluate=False if no_eval else None,
            )
        finally:
            leave_world()  # a torchrun launch's process group
    if stop.signal is not None and not run.finished:
        raise typer.Exit(128 + stop.signal)
    if not world.is_main:
        return  # rank 0 reports for every rank of a data-parallel run
    if run.finished and run.dir.eval.is_file():
        from infogan.evaluation.record import EvalRecord

        evaluation = EvalRecord.load(run.dir.eval)
        if evaluation.step == run.step:  # not an eval.json left from before a resume with --no-eval
            for line in summary_lines(evaluation):
                progress_to_stderr(line)
    if run.finished:
        where = run.dir.path
        categorical = run.model.latent.categorical
        if run.model.is_conditional:  # its category is the label asked for
            fixed = " --label 3"
        elif categorical and categorical[0].k > 3:
            fixed = f" --code {categorical[0].name}=3"
        else:
            fixed = ""
        progress_to_stderr(
            f"next: infogan report {where} (one HTML page of it all), infogan explore {where} (a dial per code in "
            f"the browser), infogan sample {where}{fixed} (a grid)"
        )
