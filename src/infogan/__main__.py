"""`python -m infogan` and the `infogan` script: the command line, with a Ctrl-C while it starts (importing the
commands) ending quietly rather than in a traceback."""

from infogan.progress import interrupted


def main() -> None:
    try:
        from infogan.cli import main as cli
    except KeyboardInterrupt:
        interrupted()
    cli()


if __name__ == "__main__":
    main()
