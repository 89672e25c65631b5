"""Small helpers shared by the CLI commands."""

from __future__ import annotations

from typing import Any

import typer

from infogan.errors import ConfigError

DATA_ROOT_ENV = "INFOGAN_DATA_ROOT"


def data_root_option(help: str = "Folder holding the dataset's files.") -> Any:
    """`--data-root DIR`, read from the environment variable INFOGAN_DATA_ROOT when not given, so a machine's data
    folder can be set once for every command that starts from a preset."""
    return typer.Option(None, "--data-root", envvar=DATA_ROOT_ENV, show_envvar=True, help=help)


def parse_codes(items: list[str] | None) -> dict[str, float]:
    """Parse repeated ``--code NAME=VALUE`` options into a mapping."""
    codes: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            codes[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ConfigError(f"bad --code '{item}': expected NAME=VALUE, e.g. --code c1=3 or --code c2=0.5")
    return codes
