"""The README and docs/usage.md agree with the code: the Python version the README names, the presets its commands
use, one row of its command table per command, and every option of every command in usage.md's table."""

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


def test_every_option_of_every_command_is_in_the_usage_table():
    import typer.main

    usage = (ROOT / "docs" / "usage.md").read_text()
    device = re.search(r"The commands that load a model \((.*?)\) also take", usage, flags=re.DOTALL)
    assert device is not None
    group = typer.main.get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        rows = "\n".join(re.findall(rf"^\| `infogan {name} .*$", usage, flags=re.MULTILINE))
        for param in command.params:
            flags = [o for o in param.opts if o.startswith("-")]
            if not flags or "--help" in flags:
                continue  # an argument (RUN, NAME), or --help
            documented = any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", rows) for f in flags)
            if not documented and not ("--device" in flags and f"`{name}`" in device.group(1)):
                missing.append(f"{name} {'/'.join(flags)}")
    assert not missing, f"options of --help that docs/usage.md's command table does not show: {missing}"
