"""`infogan mi-experiment`: InfoGAN against the same GAN whose Q does not reach G (paper Fig. 1)."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import check_dataset_option, data_root_option, stopping_on_signals
from infogan.progress import progress_to_stderr


@app.command(
    "mi-experiment", short_help="The paper's Fig. 1: L_I of InfoGAN against GANs that do not use it."
)
def mi_experiment(
    run_dir: Path = typer.Option(
        ..., "--run-dir", help="Folder for the three runs, the figure and result.json."
    ),
    preset: str = typer.Option(
        "mnist-paper", "--preset", "-p", help="An InfoGAN preset [default: mnist-paper, the paper's setup]."
    ),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name [default: the preset's]."),
    data_root: str | None = data_root_option(),
    steps: int | None = typer.Option(None, "--steps", help="Updates per arm [default: the preset's]."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed of every arm [default: the preset's]."),
    overrides: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
    resume: bool = typer.Option(False, "--resume", help="Continue arms already started in --run-dir."),
) -> None:
    """The paper's Fig. 1: train InfoGAN and two arms of the same GAN whose Q is trained but does not reach G
    (baseline: lambda = 0 for G, Q still trains D's trunk; probe: Q only reads D's features), log L_I of each
    against H(c), and write RUN_DIR/mi-experiment.png and RUN_DIR/result.json."""
    from infogan.config import apply_overrides, load_preset
    from infogan.experiments.mi_experiment import run_mi_experiment

    cfg = load_preset(preset, overrides or [])
    flags = {"data.name": dataset, "data.root": data_root, "train.steps": steps, "train.seed": seed}
    given = [f"{k}={v}" for k, v in flags.items() if v is not None]
    check_dataset_option(dataset)
    if dataset is not None:
        given.append("data.fallback=null")
    typed = {
        "data.name": f"--dataset {dataset}",
        "data.fallback": f"--dataset {dataset}",
        "data.root": f"--data-root {data_root}",
        "train.steps": f"--steps {steps}",
        "train.seed": f"--seed {seed}",
    }
    cfg = apply_overrides(cfg, given, typed)
    with stopping_on_signals() as stop:
        result = run_mi_experiment(
            cfg, run_dir, resume=resume, progress=progress_to_stderr, should_stop=stop.requested
        )
    if result is None:
        raise typer.Exit(128 + (stop.signal or 0))
    for arm, entry in result["arms"].items():
        values = ", ".join(f"{k} {v:.3f}" for k, v in entry["mi_lower_bound_batch_stats"].items())
        eval_mode = ", ".join(f"{k} {v:.3f}" for k, v in entry["mi_lower_bound"].items())
        typer.echo(f"{arm}: L_I {values} (Q's batch norm on batch statistics; in eval mode: {eval_mode})")
    typer.echo(f"H(c): {', '.join(f'{k} {v:.3f}' for k, v in result['entropy'].items())}")
    typer.echo(f"written: {run_dir / 'mi-experiment.png'}, {run_dir / 'result.json'}")
