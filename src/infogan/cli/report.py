"""`infogan report`: one self-contained HTML page of a run (plots, grids and every metric, images inlined)."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import output_file
from infogan.errors import ConfigError
from infogan.files import write_text_atomic
from infogan.progress import progress_to_stderr


@app.command(short_help="Write one self-contained HTML page about a run.")
def report(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory, or a checkpoint folder inside one."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="HTML file to write [default: RUN/report.html]."
    ),
    evaluate: bool = typer.Option(
        False, "--evaluate", help="Evaluate the run first and write RUN/eval.json (takes a while)."
    ),
    device: str = typer.Option("cpu", "--device", help="Device for --evaluate: cpu, cuda, cuda:N or auto."),
) -> None:
    """Write an HTML report: config, training curves, L_I per code against H(c), samples, traversals, metrics."""
    from infogan.reporting.report import build_report
    from infogan.runs.record import find_run

    run_dir = find_run(run)  # a path that is not a run directory fails here, before any evaluation
    if run_dir.path != run:
        if evaluate:
            raise ConfigError(
                f"--evaluate evaluates the newest checkpoint of the run into {run_dir.eval}; to evaluate {run}, "
                f"use: infogan eval {run} -o FILE"
            )
        typer.echo(f"note: a report covers the whole run {run_dir.path}, not only {run.name}", err=True)
    output = output_file(output or run_dir.path / "report.html", (".html", ".htm"))
    if evaluate:
        from infogan.api import load_run

        loaded = load_run(run, device=device)
        typer.echo(f"evaluating {run_dir.path} at {loaded.where}", err=True)
        from infogan.evaluation.record import EvalRecord

        EvalRecord.model_validate(loaded.evaluate(progress=progress_to_stderr)).write(run_dir.eval)
    text = build_report(run_dir.path)
    write_text_atomic(output, text)
    typer.echo(f"wrote the report of {run_dir.path} to {output} ({len(text) / 1e6:.1f} MB)", err=True)
