"""Small helpers shared by the CLI commands."""

from __future__ import annotations

from infogan.errors import ConfigError


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
