"""`python -m infogan` and the `infogan` script: the command line, with a Ctrl-C while it starts (importing the
commands) ending quietly rather than in a traceback."""

import os
import sys


def interrupted() -> None:
    """End the process at a Ctrl-C that no command handles: one line, status 130. It exits at once, without the
    interpreter's clean-up, which would run into modules whose import the interrupt cut short (a half-imported
    numpy recursing into itself); nothing is being written at that point that an exit could tear."""
    print("interrupted", file=sys.stderr, flush=True)
    os._exit(130)


def main() -> None:
    try:
        from infogan.cli import main as cli
    except KeyboardInterrupt:
        interrupted()
    cli()


if __name__ == "__main__":
    main()
