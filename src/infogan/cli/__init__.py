"""The `infogan` command line: one file per command, errors for people as one line and a non-zero exit."""

from __future__ import annotations

import signal
import sys

# Commands register themselves on `app` when imported.
from infogan.cli import (  # noqa: F401
    average,
    compare,
    datasets,
    evaluate,
    explore,
    export,
    mi_experiment,
    presets,
    reconstruct,
    report,
    sample,
    select,
    sweep,
    train,
    traverse,
)
from infogan.cli.application import app
from infogan.errors import InfoganError
from infogan.progress import interrupted


def _bare_resume_means_latest(argv: list[str]) -> list[str]:
    """`train --resume` takes an optional value (`--resume` or `--resume auto`); Typer options cannot, so a bare
    `--resume` of `train` is spelled out as `--resume=latest` before parsing. Other commands' `--resume` is a flag
    and stays as it is."""
    out = list(argv)
    if next((a for a in out if not a.startswith("-")), None) != "train":
        return out
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--resume" and (i + 1 == len(out) or out[i + 1].startswith("-")):
            out[i] = "--resume=latest"
    return out


def _start_up(argv: list[str]) -> None:
    """Import PyTorch and the library before a command runs, with a Ctrl-C meanwhile ending the process at once.

    The import takes seconds, and an interrupt inside it can leave numpy or torch half-imported, so that the
    KeyboardInterrupt surfaces later as another error (an AttributeError, a RecursionError) with a long
    traceback. Commands that never need torch (help, version, presets) skip it.
    """
    if not argv or argv[0] == "presets" or {"-h", "--help", "--version"} & set(argv):
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted())
    try:
        import infogan.api  # noqa: F401  (torch, the models, the training loop)
    finally:
        signal.signal(signal.SIGINT, previous)


def main() -> None:
    """Entry point of the `infogan` script."""
    try:
        argv = _bare_resume_means_latest(sys.argv[1:])
        _start_up(argv)
        app(args=argv, prog_name="infogan")
    except InfoganError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # a path the user gave cannot be written or read (permissions, full disk, ...)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C before a command's own handling starts (e.g. while importing torch)
        interrupted()
