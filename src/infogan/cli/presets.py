"""`infogan presets`: the shipped presets, or one of them in full."""

from __future__ import annotations

import re
import textwrap

import typer

from infogan.cli.application import app


@app.command(short_help="List the presets, or print one fully resolved.")
def presets(
    name: str | None = typer.Argument(
        None, metavar="NAME", help="Show this preset's resolved config (every key and default)."
    ),
) -> None:
    """List the presets, or print one resolved to YAML."""
    from infogan.config import dump_config, load_preset, preset_names, preset_text

    if name is not None:
        typer.echo(dump_config(load_preset(name)), nl=False)
        return
    names = preset_names()
    width = max(len(n) for n in names)
    for preset in names:
        comments = [
            line.lstrip("# ").strip() for line in preset_text(preset).splitlines() if line.startswith("#")
        ]
        lines = textwrap.wrap(first_sentence(" ".join(comments)), 110 - width - 2) or [""]
        typer.echo(f"{preset:{width}s}  {lines[0]}")
        for line in lines[1:]:
            typer.echo(f"{'':{width}s}  {line}")


# A full stop after these is an abbreviation, not the end of a sentence.
_ABBREVIATIONS = ("Sec", "Fig", "al", "e.g", "i.e", "vs", "cf", "Eq", "No")


def first_sentence(text: str) -> str:
    """The first sentence of a preset's description (its header comment), whole."""
    for match in re.finditer(r"\.\s+(?=[A-Z`(])", text):
        if not text[: match.start()].endswith(_ABBREVIATIONS):
            return text[: match.start() + 1]
    return text
