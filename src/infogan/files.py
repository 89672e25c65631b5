"""Files a run writes and reads as text: replaced atomically, so a crash never leaves a torn one, and JSON-lines
logs read back row by row."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never a torn one. A
    missing parent folder is created (an output path was checked before the work, the folder is made only when
    there is something to write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines training log (a run's metrics.jsonl) that carry a step, in order. A torn line (a
    run killed mid-write) or a foreign one is left out, and a missing file has no rows."""
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int | float):
            rows.append(row)
    return rows
