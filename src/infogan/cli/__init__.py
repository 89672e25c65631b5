"""The `infogan` command line: one file per command, errors for people as one line and a non-zero exit."""

from __future__ import annotations

import signal
import sys

import typer
from typer.core import TyperArgument

from infogan.errors import InfoganError


def _plain_usage_name(self: TyperArgument) -> str:
    """An argument as POSIX usage lines write it, RUN or [NAME] (Typer 0.29 writes a required one as {RUN})."""
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 and not name.endswith("...") else "")


if hasattr(TyperArgument, "_usage_display_name"):  # the Typer versions that brace required arguments
    TyperArgument._usage_display_name = _plain_usage_name  # type: ignore[method-assign]

app = typer.Typer(
    name="infogan",
    help="Train, evaluate and explore InfoGAN and related generative models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts contain literal [brackets]
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from infogan import __version__

        typer.echo(f"infogan {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print infogan's version and exit."
    ),
) -> None:
    """Train, evaluate and explore InfoGAN and related generative models."""


# Commands register themselves on `app` when imported.
from infogan.cli import (  # noqa: E402, F401
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
    from infogan.__main__ import interrupted

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
        from infogan.__main__ import interrupted

        interrupted()
