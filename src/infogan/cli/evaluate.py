"""`infogan eval`: the metrics of a run, as a table or one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infogan.cli import app


@app.command("eval")
def evaluate(
    run: Path = typer.Argument(..., help="Run directory, or a checkpoint folder inside one."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Evaluate on this dataset's held-out split [default: the run's own dataset]."
    ),
    data_root: str | None = typer.Option(None, "--data-root", help="Folder holding the dataset's files."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on stdout."),
    mi_samples: int | None = typer.Option(
        None, "--mi-samples", min=1, help="Generated samples for L_I [default: the run's, 10,000]."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Evaluate a run: L_I per code on generated samples, accuracy of categorical codes on held-out labels."""
    from infogan.api import load_run

    loaded = load_run(run, device=device)
    if mi_samples is not None:
        loaded.config.eval.mi_samples = mi_samples
    metrics = loaded.evaluate(dataset=dataset, data_root=data_root)
    if as_json:
        typer.echo(json.dumps(metrics))
        return
    typer.echo(
        f"{run} at step {metrics['step']}: {metrics['n_eval']} {metrics['split']} images of "
        f"{metrics['dataset']}, L_I from {metrics['mi_samples']} generated samples"
    )
    for name, entry in metrics["codes"].items():
        line = f"  {name} ({entry['type']}"
        line += f", K={entry['k']})" if "k" in entry else f", {entry['prior']})"
        line += f"  L_I {entry['mi_lower_bound']:.4f} nats (H(c) {entry['entropy']:.4f})"
        if "accuracy" in entry:
            line += f"  accuracy {entry['accuracy']:.4f}"
        typer.echo(line)
