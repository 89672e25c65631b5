"""`infogan compare`: runs side by side, in the terminal and as an HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from infogan.cli.application import app
from infogan.cli.common import output_file
from infogan.errors import CheckpointError, ConfigError
from infogan.files import write_text_atomic


@app.command(short_help="Compare evaluated runs in one table (and an HTML page).")
def compare(
    runs: list[Path] = typer.Argument(
        ...,
        metavar="RUN...",
        help="Run directories; those without an eval.json (not evaluated) are left out with a note.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Also write an HTML page: the table and each run's samples side by side."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON object."),
) -> None:
    """One table of the runs' key figures (accuracy and L_I per code, FID, precision, recall, slant and width
    codes, what each continuous code controls, steps, training minutes), then mean, std, min and median over the
    runs of each setup (runs whose configs differ only in seed and bookkeeping)."""
    from infogan.reporting.compare import compare as compare_runs
    from infogan.reporting.compare import runs_table
    from infogan.runs.directory import RunDir

    if output is not None:
        output = output_file(output, (".html", ".htm"))
    for run in runs:
        if not RunDir(run).config.is_file():
            raise CheckpointError(f"{run} is not a run directory (no config.yaml)")
    seen: dict[Path, Path] = {}
    for run in runs:  # one run given twice would count twice in its setup's mean and std
        first = seen.setdefault(run.resolve(), run)
        if first is not run:
            raise ConfigError(f"{run} is given twice ({first} and {run}); give each run once")
    evaluated = [run for run in runs if RunDir(run).eval.is_file()]
    for run in runs:
        if run not in evaluated:
            typer.echo(
                f"note: {run} is left out: it has no eval.json (infogan eval {run} writes it)", err=True
            )
    if not evaluated:
        raise CheckpointError("none of the runs is evaluated: infogan eval RUN writes RUN/eval.json")
    result = compare_runs(evaluated)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        summaries = {group["setup"]: group["summary"] for group in result["setups"]}
        by_setup: dict[str, list[dict[str, Any]]] = {}
        for row in result["runs"]:
            by_setup.setdefault(row["setup"], []).append(row)
        for i, (setup, members) in enumerate(by_setup.items()):
            typer.echo(
                f"{'' if i == 0 else chr(10)}setup {setup}: {len(members)} run{'s' if len(members) > 1 else ''}"
            )
            for line in runs_table(members, label=_with_step, summary=summaries.get(setup)):
                typer.echo(line)
    if output is not None:
        from infogan.reporting.compare_page import render_compare

        write_text_atomic(output, render_compare(result))
        typer.echo(f"wrote the comparison to {output}", err=True)


def _with_step(row: dict[str, Any]) -> str:
    """A run's name and the step it was evaluated at (the runs of a table may have trained for different times)."""
    return f"{row['run']} @{row['step']}" if row.get("step") is not None else row["run"]
