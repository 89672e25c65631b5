"""`infogan presets`: the shipped presets, or one of them in full."""

from __future__ import annotations

import typer

from infogan.cli import app
from infogan.config import dump_config, load_preset, preset_names, preset_text


@app.command()
def presets(
    name: str | None = typer.Argument(
        None, help="Show this preset's resolved config (every key and default)."
    ),
) -> None:
    """List the presets, or print one resolved to YAML."""
    if name is not None:
        typer.echo(dump_config(load_preset(name)), nl=False)
        return
    names = preset_names()
    width = max(len(n) for n in names)
    for preset in names:
        first = next(
            (line.lstrip("# ").strip() for line in preset_text(preset).splitlines() if line.startswith("#")),
            "",
        )
        typer.echo(f"{preset:{width}s}  {first}")
