"""What several runs logged, overlaid: the GAN paper's saturation of the minimax generator loss (D rejects every
sample early, so D(G(z)) and G's gradient stay near zero) beside the non-saturating loss, or any logged value of
any runs. Reads each run's metrics.jsonl; trains and evaluates nothing.

Prints one JSON line per run: for each key, its first logged value, its mean over the logged steps up to --until
and its last value up to --until. With --plot, draws each key over training, one line per run. Usage:
    python benchmarks/logged_curves.py runs/family/gan-minimax-s0 runs/family/gan-s0 --keys d_fake g_grad \\
        --until 2000 --plot gan-losses.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infogan.errors import CheckpointError
from infogan.runs.record import metric_series, read_run
from infogan.viz.plots import Series, figure_png, runs_figure


def summary(run: Path, series: dict[str, Series], keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"run": str(run)}
    for key in keys:
        if key not in series:
            raise SystemExit(f"{run}: logged no {key!r} (it logged {', '.join(sorted(series)) or 'nothing'})")
        values = series[key][1]
        out[key] = {
            "first": round(values[0], 4),
            "mean": round(sum(values) / len(values), 4),
            "last": round(values[-1], 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--keys", nargs="+", default=["d_fake", "g_grad"])
    parser.add_argument("--until", type=int, help="Only the logged steps up to this update.")
    parser.add_argument("--plot", type=Path, help="Write the curves to this PNG.")
    args = parser.parse_args()
    curves: dict[str, dict[str, Series]] = {key: {} for key in args.keys}
    for run in args.runs:
        try:
            rows = read_run(run).metrics
        except CheckpointError as exc:
            raise SystemExit(str(exc)) from None
        series = metric_series([r for r in rows if args.until is None or r["step"] <= args.until])
        print(json.dumps(summary(run, series, args.keys)), flush=True)
        for key in args.keys:
            curves[key][run.name] = series[key]
    if args.plot:
        args.plot.write_bytes(figure_png(runs_figure(curves), dpi=120))


if __name__ == "__main__":
    main()
