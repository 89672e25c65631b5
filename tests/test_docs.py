"""The README agrees with the code: the Python version it names, the presets its commands use, and one row of the
command table per command."""

from __future__ import annotations

import re
from pathlib import Path

from infogan.cli import app
from infogan.config import preset_names

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_names_the_python_version_the_package_requires():
    match = re.search(r'^requires-python = ">=([\d.]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert match is not None
    version = match.group(1)
    assert f"Python {version} or newer" in README


def test_every_preset_the_readme_runs_exists():
    used = set(re.findall(r"infogan (?:train|sweep|mi-experiment)[^\n`|]*?--preset ([a-z][\w-]*)", README))
    assert "digits" in used  # the first try
    assert used <= set(preset_names()), used - set(preset_names())


def test_the_command_table_has_one_row_per_command():
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}  # type: ignore[union-attr]
    rows = set(re.findall(r"^\| `infogan ([\w-]+)", README, flags=re.MULTILINE))
    assert rows == commands
