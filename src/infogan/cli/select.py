"""`infogan select`: pick one of several runs of a setup without labels (ModelCentrality)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import MAX_SEED
from infogan.progress import progress_to_stderr


@app.command(short_help="Pick one of several runs without labels (ModelCentrality).")
def select(
    runs: list[Path] = typer.Argument(
        ..., metavar="RUN...", help="Run directories of one setup (e.g. the seeds of a sweep)."
    ),
    votes: int = typer.Option(
        300,
        "--votes",
        min=10,
        max=100_000,
        help="FactorVAE training votes per pair of runs (at most 100,000).",
    ),
    bins: int = typer.Option(
        10, "--bins", min=2, max=1_000, help="Values each continuous code takes as a factor (at most 1,000)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Seed of the factor and noise draws."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Rank runs of one setup without labels or known factors, and print the pick. Each run's generator stands in
    for data with known factors (its codes; continuous codes at --bins values); every run's representation is
    scored on every other run's generator by the FactorVAE score, and a run's ModelCentrality is its mean score
    with the others (Lin et al. 2020). Works for any dataset and any model with codes and an encoder (InfoGAN,
    the VAE). Accuracy from a run's eval.json, where present, is shown to score the pick, never to make it."""
    from infogan.experiments.select import Protocol, select_runs
    from infogan.runs.directory import locate

    for run in runs:
        locate(run)  # the same one line as every other command for a missing or mistyped run
    result = select_runs(runs, Protocol(votes=votes, bins=bins, seed=seed), progress=progress_to_stderr)
    for note in result.get("notes", []):
        progress_to_stderr(f"note: {note}")
    if as_json:
        typer.echo(json.dumps(result))
        return
    width = max(len(row["run"]) for row in result["runs"])
    scored = any("accuracy" in row for row in result["runs"])
    typer.echo(f"{'run':<{width}}  ModelCentrality" + ("  accuracy (scores only)" if scored else ""))
    for i, row in enumerate(result["runs"]):
        accuracy = f"  {row['accuracy']:.4f}" if "accuracy" in row else ("  -" if scored else "")
        mark = "  <- pick" if i == result["pick"] else ("  (tied)" if i in result["tied"] else "")
        typer.echo(f"{row['run']:<{width}}  {row['model_centrality']:.3f}{accuracy}{mark}")
    pick = result["runs"][result["pick"]]
    typer.echo(f"pick: {pick['run']} (ModelCentrality {pick['model_centrality']:.3f}, no labels used)")
