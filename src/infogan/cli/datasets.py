"""`infogan datasets`: every registered dataset, whether it is on this machine, and how to get it."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli import app
from infogan.data import DATASETS, PARAMETRISED


@app.command()
def datasets(
    data_root: str | None = typer.Option(None, "--data-root", help="Also look in this folder."),
) -> None:
    """List the datasets with their availability here and how to get each one."""
    root = Path(data_root).expanduser() if data_root else None
    for name, src in DATASETS.items():
        status = "available" if src.available(root) else "missing"
        typer.echo(f"{name:14s} {status:9s} {src.description}")
        typer.echo(f"{'':14s} {'':9s} how to get it: {src.how_to_get}")
    for kind, family in PARAMETRISED.items():
        typer.echo(f"{kind + ':PATH':14s} {'':9s} {family.description}")
        typer.echo(f"{'':14s} {'':9s} usage: {family.usage}")
