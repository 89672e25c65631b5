"""The HTML page of `infogan compare`: the runs' key figures in one table, mean and std per setup, and each run's
newest sample grid side by side. Self-contained like the run report (images inlined)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from infogan.reporting.compare import numeric_leaves, shown_columns
from infogan.reporting.html import figure, page, png_img, table
from infogan.runs.record import natural_key


def newest_samples(run_dir: Path) -> Path | None:
    """The sample grid of the latest step a run wrote (samples/step-<N>.png), or None."""
    grids = sorted((run_dir / "samples").glob("step-*.png"), key=lambda p: natural_key(p.name))
    return grids[-1] if grids else None


def render_compare(result: dict[str, Any]) -> str:
    """The page for `infogan.reporting.compare.compare`'s result."""
    rows = result["runs"]
    columns = shown_columns(rows)
    runs_body = table(
        ["run", "setup", "seed", "step", *columns, "controls"],
        (
            [
                row["run"],
                row["setup"],
                row.get("seed"),
                row.get("step"),
                *(numeric_leaves(row).get(c) for c in columns),
                ", ".join(
                    f"{name} {e['property']} ({e['spearman']:+.2f})"
                    for name, e in row.get("controls", {}).items()
                ),
            ]
            for row in rows
        ),
    )
    setups = ""
    for group in result["setups"]:
        summary = group["summary"]
        setups += f"<h3>{html.escape(group['setup'])}: {len(group['runs'])} runs</h3>\n" + table(
            ["", *[c for c in columns if c in summary]],
            (
                [stat, *(summary[c][stat] for c in columns if c in summary)]
                for stat in ("mean", "std", "min", "median", "max")
            ),
        )
    grids = ""
    for row in rows:
        grid = newest_samples(Path(row["run_dir"]))
        if grid is not None:
            caption = f"{row['run']}: {grid.stem.replace('-', ' ')}"
            grids += figure(png_img(grid.read_bytes(), caption, pixels=True), caption)
    body = f"<h1>Comparison of {len(rows)} runs</h1>\n<h2>Runs</h2>\n{runs_body}"
    if setups:
        body += f"<h2>Per setup (runs that differ only in seed and bookkeeping)</h2>\n{setups}"
    if grids:
        body += f"<h2>Samples</h2>\n{grids}"
    return page(f"Comparison of {len(rows)} runs", body)
