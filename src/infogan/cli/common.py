"""Small helpers shared by the CLI commands. Every command module imports this one while `infogan --help` starts,
so it imports nothing heavy: no torch, no pydantic."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from infogan.environment import DATA_ROOT_ENV
from infogan.errors import ConfigError


def data_root_option(help: str = "Folder holding the dataset's files.") -> Any:
    """`--data-root DIR`, read from the environment variable INFOGAN_DATA_ROOT when not given, so a machine's data
    folder can be set once for every command that starts from a preset."""
    return typer.Option(None, "--data-root", envvar=DATA_ROOT_ENV, show_envvar=True, help=help)


def scale_option() -> Any:
    """The --scale option of the commands that write image grids."""
    return typer.Option(
        None,
        "--scale",
        min=1,
        max=16,
        help="Enlarge each image this many times [default: small images to at least 64 pixels a side].",
    )


def check_dataset_option(dataset: str | None) -> None:
    """One line for a `--dataset folder:` without its path (which YAML would read as a mapping, not a name)."""
    if dataset is not None and dataset.startswith("folder:") and not dataset.removeprefix("folder:").strip():
        raise ConfigError("--dataset folder: needs the folder's path, e.g. --dataset folder:~/pictures")


MAX_SEED = (
    2**32 - 1
)  # the seeds every library here accepts (numpy's limit); larger ones are almost always typos
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # sample grids (written by Pillow)
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # traversal figures (written by matplotlib)


def output_file(path: Path, suffixes: Sequence[str] = (), option: str = "-o") -> Path:
    """The file an output option names, checked before any work is done, so that a bad path costs seconds, not an
    evaluation: not a folder, in a folder that exists (or can be created) and is writable. A name without a suffix
    gets the first of `suffixes`; another suffix than those is refused. Returns the path that will be written."""
    if path.is_dir():
        example = path / f"out{suffixes[0] if suffixes else '.json'}"
        raise ConfigError(f"{option} {path} is a folder; give a file name, e.g. {option} {example}")
    if suffixes and not path.suffix:
        path = path.with_name(path.name + suffixes[0])
    elif suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} {path}: the file must end in {', '.join(suffixes)}")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: cannot write in {folder} (permission denied)")
    return path


def parse_codes(items: list[str] | None) -> dict[str, float]:
    """Parse repeated ``--code NAME=VALUE`` options into a mapping."""
    codes: dict[str, float] = {}
    given: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ConfigError(f"bad --code '{item}': expected NAME=VALUE, e.g. --code c1=3 or --code c2=0.5")
        if name in given:
            raise ConfigError(f"--code {name} is given twice ({given[name]} and {item}): give each code once")
        codes[name], given[name] = number, item
    return codes


class StopFlag:
    """SIGINT/SIGTERM ask training to finish its step, checkpoint and stop; a second SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum
        print(
            f"\n{signal.Signals(signum).name}: finishing this step and writing a checkpoint "
            "(Ctrl-C again to abort without one)",
            file=sys.stderr,
            flush=True,
        )

    def requested(self) -> bool:
        return self.signal is not None


@contextmanager
def stopping_on_signals() -> Iterator[StopFlag]:
    """While the block runs, SIGINT and SIGTERM set the flag it is given (training reads it between steps)."""
    stop = StopFlag()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
