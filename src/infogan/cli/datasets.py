"""`infogan datasets`: every registered dataset, whether it is on this machine, and how to get it."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import data_root_option
from infogan.errors import ConfigError


def _has_an_image(folder: Path) -> bool:
    """Whether `folder` holds at least one file with an image extension (stops at the first; no decoding)."""
    from infogan.data.folder import IMAGE_EXTENSIONS

    if not folder.is_dir():
        return False
    return any(p.suffix.lower() in IMAGE_EXTENSIONS for p in folder.rglob("*") if not p.name.startswith("."))


def _data_notes(preset: str) -> str:
    """The "Data:" paragraph of a preset's header comment: what the images are and how to prepare them."""
    from infogan.config import preset_text

    comments = [line.lstrip("#").strip() for line in preset_text(preset).splitlines() if line.startswith("#")]
    start = next((i for i, line in enumerate(comments) if line.startswith("Data:")), None)
    return " ".join(comments[start:]).removeprefix("Data:").strip() if start is not None else ""


@app.command(short_help="List the datasets, whether each is here, and how to get it.")
def datasets(
    data_root: str | None = data_root_option("Also look in this folder."),
) -> None:
    """List the datasets with their availability here and how to get each one.

    The image folders that presets read (`chairs`, `faces`) are listed too: available when the folder holds at
    least one image file (the files are checked when training starts)."""
    from infogan.config import load_preset, preset_names
    from infogan.data import DATASETS, PARAMETRISED

    root = Path(data_root).expanduser() if data_root else None
    if root is not None and not root.exists():  # as train refuses it: a mistyped path is not an empty one
        raise ConfigError(f"data root {root} does not exist")
    if root is not None and not root.is_dir():
        raise ConfigError(f"data root {root} is a file, not a folder")
    for name, src in DATASETS.items():
        status = "available" if src.available(root) else "missing"
        typer.echo(f"{name:14s} {status:9s} {src.description}")
        typer.echo(f"{'':14s} {'':9s} how to get it: {src.how_to_get}")
    for kind, family in PARAMETRISED.items():
        typer.echo(f"{kind + ':PATH':14s} {'':9s} {family.description}")
        typer.echo(f"{'':14s} {'':9s} usage: {family.usage}")
    for preset in preset_names():
        name = load_preset(preset).data.name
        if not name.startswith("folder:"):
            continue
        folder = Path(name.removeprefix("folder:"))
        if not folder.is_absolute() and root is not None:
            folder = root / folder
        status = "available" if _has_an_image(folder.expanduser()) else "missing"
        typer.echo(f"{preset:14s} {status:9s} the `{preset}` preset's images, read as {name}")
        typer.echo(f"{'':14s} {'':9s} how to get it: {_data_notes(preset)}")
