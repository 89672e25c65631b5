"""General helpers at the bottom of the package: every layer may import them, they import nothing of infogan.

Progress callbacks, atomic text writes, durations for people.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

# Receives one human-readable line per stage or log step (the CLI prints them to stderr).
ProgressFn = Callable[[str], None]


def progress_to_stderr(line: str) -> None:
    """Progress lines go to stderr, so stdout carries only a command's result (e.g. eval's JSON)."""
    print(line, file=sys.stderr, flush=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never a torn one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def format_duration(seconds: float) -> str:
    """``1h02m`` or ``3m05s``; ``?`` for an unknown (infinite or NaN) duration."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
