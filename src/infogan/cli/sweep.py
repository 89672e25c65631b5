"""`infogan sweep`: train one setup under several seeds, tabulate them and pick one run without labels."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import check_dataset_option, data_root_option
from infogan.errors import ConfigError
from infogan.progress import progress_to_stderr


@app.command(short_help="Train several seeds of one setup, tabulate them, pick one.")
def sweep(
    seeds: int = typer.Option(..., "--seeds", min=1, help="Number of seeds to train."),
    run_dir: Path = typer.Option(
        ..., "--run-dir", help="The sweep's folder: one run directory per seed in it."
    ),
    first_seed: int = typer.Option(0, "--first-seed", min=0, help="Seeds are FIRST, FIRST + 1, ..."),
    parallel: int | None = typer.Option(
        None, "--parallel", min=1, help="Seeds trained at once [default: one per core, up to --seeds]."
    ),
    preset: str = typer.Option("mnist", "--preset", "-p", help="Preset name or a YAML file."),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name [default: the preset's]."),
    data_root: str | None = data_root_option(),
    steps: int | None = typer.Option(None, "--steps", help="Updates per seed [default: the preset's]."),
    overrides: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the sweep's result as one JSON object."),
) -> None:
    """Train seeds FIRST..FIRST+N-1 of one setup, each an ordinary run directory RUN_DIR/seed-S trained by
    `infogan train --resume auto` in a process of its own (so running the sweep again continues it, and a cluster
    scheduler may run those commands instead). Then print one table of the runs (accuracy where the data has
    labels, L_I per code, FID, what each continuous code controls) with mean, std, min and median, pick one run
    without labels (the one whose categories of real training images agree most with the other runs', by adjusted
    mutual information) and link it as RUN_DIR/best. Everything is also written to RUN_DIR/sweep.json."""
    from infogan.config import load_preset
    from infogan.experiments.sweep import run_sweep, table_lines

    seeded = [item for item in overrides or [] if item.split("=", 1)[0].strip() == "train.seed"]
    if seeded:
        raise ConfigError(
            f"--set {seeded[0]}: a sweep gives each run its own seed; choose them with --first-seed and --seeds"
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--run-dir {run_dir} is a file; a sweep needs a folder")
    if (run_dir / "config.yaml").is_file():
        raise ConfigError(
            f"--run-dir {run_dir} is a run directory (it holds config.yaml); a sweep needs a folder of its own, "
            "whose runs are RUN_DIR/seed-S"
        )
    train_args = ["--preset", preset]
    for flag, value in (("--dataset", dataset), ("--data-root", data_root), ("--steps", steps)):
        if value is not None:
            train_args += [flag, str(value)]
    for item in overrides or []:
        train_args += ["--set", item]
    # the setup is checked here, once, so a bad option fails in a second rather than in every seed's log
    flags = [("train.steps", "--steps", steps), ("data.root", "--data-root", data_root)]
    checked = [f"{key}={value}" for key, _, value in flags if value is not None]
    typed = {key: f"{flag} {value}" for key, flag, value in flags}
    check_dataset_option(dataset)
    if dataset is not None:
        checked += [f"data.name={dataset}", "data.fallback=null"]
        typed["data.name"] = f"--dataset {dataset}"
    cfg = load_preset(preset, [*(overrides or []), *checked], typed)
    result = run_sweep(
        run_dir,
        list(range(first_seed, first_seed + seeds)),
        train_args,
        cfg.train.steps,
        parallel=parallel,
        threads=cfg.train.threads,
        progress=progress_to_stderr,
    )
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for line in table_lines(result):
            typer.echo(line)
