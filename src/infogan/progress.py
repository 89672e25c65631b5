"""Telling the person running a command how it goes: one line per stage or log step on stderr, the time left in a
loop of known length, and the last line when a Ctrl-C ends the process."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable

# Receives one human-readable line per stage or log step (the CLI prints them to stderr).
ProgressFn = Callable[[str], None]


def progress_to_stderr(line: str) -> None:
    """Progress lines go to stderr, so stdout carries only a command's result (e.g. eval's JSON)."""
    print(line, file=sys.stderr, flush=True)


def format_duration(seconds: float) -> str:
    """``1h02m`` or ``3m05s``; ``?`` for an unknown (infinite or NaN) duration."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Eta:
    """Progress of a loop of known length: a line with what is done and the time left, at most one every `every`
    seconds (a loop that ends sooner prints nothing).

    Args:
        what: the line's start, e.g. ``eval: L_I``.
        total: the loop's length, in `unit`.
        progress: receives the lines.
    """

    def __init__(
        self, what: str, total: int, progress: ProgressFn, *, unit: str = "", every: float = 5.0
    ) -> None:
        self.what, self.total, self.progress, self.unit, self.every = what, total, progress, unit, every
        self.start = self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every or done <= 0:
            return
        self.last = now
        spent = now - self.start
        left = spent * (self.total - done) / done
        self.progress(
            f"{self.what}: {done:,}/{self.total:,}{self.unit} ({format_duration(spent)} so far, "
            f"about {format_duration(left)} left)"
        )


def interrupted() -> None:
    """End the process at a Ctrl-C that no command handles: one line, status 130. It exits at once, without the
    interpreter's clean-up, which would run into modules whose import the interrupt cut short (a half-imported
    numpy recursing into itself); nothing is being written at that point that an exit could tear."""
    print("interrupted", file=sys.stderr, flush=True)
    os._exit(130)
