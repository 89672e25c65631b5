"""`infogan traverse`: a latent traversal figure (paper Fig. 2 layout)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import FIGURE_SUFFIXES, MAX_SEED, output_file
from infogan.errors import ConfigError

RANGE_LIMIT = 1000.0  # far past every prior; beyond it the networks' float32 arithmetic overflows


@app.command(short_help="Write a traversal figure: one code swept, the rest fixed.")
def traverse(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory, or a checkpoint folder inside one."),
    output: Path = typer.Option(Path("traversal.png"), "--output", "-o", help="PNG file to write."),
    code: str | None = typer.Option(
        None,
        "--code",
        help="Code to sweep, or 'all': one row per continuous code from one draw of everything else "
        "[default: the first continuous code].",
    ),
    value_range: tuple[float, float] | None = typer.Option(
        None, "--range", help="Sweep of a continuous code, e.g. --range -2 2 [default: the run's eval range]."
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=2, max=100, help="Columns of a continuous sweep [default: 10; at most 100]."
    ),
    rows_by: str = typer.Option(
        "auto",
        "--rows-by",
        help="'auto' (one row per value of the first other "
        "categorical code), a categorical code name, or 'noise' (independent draws).",
    ),
    rows: int | None = typer.Option(
        None,
        "--rows",
        min=1,
        max=100,
        help="Rows when rows are independent draws [default: 10; at most 100].",
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Random seed of the fixed inputs."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Sweep one code left to right with everything else fixed along each row (or, with --code all, one row per
    continuous code)."""
    from infogan.api import load_run
    from infogan.viz.traversal import ALL_CODES, traversal_figure

    output = output_file(output, FIGURE_SUFFIXES)
    if value_range is not None:
        low, high = value_range
        if not all(math.isfinite(v) and abs(v) <= RANGE_LIMIT for v in value_range):
            raise ConfigError(
                f"--range {low:g} {high:g}: both values must be numbers within -{RANGE_LIMIT:g}..{RANGE_LIMIT:g} "
                "(the codes' priors span -1..1 or a few standard deviations), e.g. --range -2 2"
            )
        if not low < high:
            raise ConfigError(
                f"--range {low:g} {high:g}: the first value must be below the second, e.g. --range -2 2"
            )
    loaded = load_run(run, device=device)
    spec = loaded.model.latent
    if code is None:
        if not spec.codes:
            raise ConfigError("this model has no latent codes to traverse")
        code = (spec.continuous or spec.codes)[0].name
    if code == ALL_CODES:
        if rows_by != "auto":
            typer.echo("note: with --code all each row is one code; --rows-by does not apply", err=True)
        if spec.categorical:
            names = ", ".join(c.name for c in spec.categorical)
            keep = "keeps" if len(spec.categorical) == 1 else "keep"
            typer.echo(f"note: --code all sweeps the continuous codes; {names} {keep} one draw", err=True)
    elif spec.code(code).is_categorical and (value_range is not None or steps is not None):
        typer.echo(
            f"note: {code} is categorical; it sweeps all its values and --range/--steps do not apply",
            err=True,
        )

    t = loaded.traverse(
        code,
        value_range=value_range,
        steps=steps,
        rows=rows or 10,
        rows_by=None if rows_by == "noise" else rows_by,
        seed=seed,
    )
    if rows is not None and len(t.row_labels) != rows:
        typer.echo(
            f"note: --rows {rows} applies to rows of independent draws (--rows-by noise); "
            f"here the {len(t.row_labels)} rows are {'the codes' if code == ALL_CODES else 'categories'}",
            err=True,
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    traversal_figure(t).savefig(output)
    what = "every continuous code" if code == ALL_CODES else code
    typer.echo(f"wrote the traversal of {what} at {loaded.where} to {output}", err=True)
