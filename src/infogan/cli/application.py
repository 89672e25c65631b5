"""The `infogan` Typer application: every command module registers its command on `app`; the options of the
command line itself (--version) are here."""

from __future__ import annotations

import typer
from typer.core import TyperArgument


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
        from infogan.version import __version__

        typer.echo(f"infogan {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print infogan's version and exit."
    ),
) -> None:
    """Train, evaluate and explore InfoGAN and related generative models."""
