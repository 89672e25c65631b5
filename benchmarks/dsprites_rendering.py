"""What the rendering of the sprites does to the disentanglement metrics: one fixed representation, scored on the
same factors drawn as `dsprites` draws them (binary, a pixel is ink when its centre is inside the sprite) and as
`shapes` draws them (anti-aliased, each pixel the fraction of 2 x 2 sub-pixel samples inside), both at 64x64.

The representation reads the image, not the factors, so it is where rendering can matter: moments of the ink
(`code_semantics.image_properties`: centroid x and y, mass, height, width, rotation of the major axis), the kind of
features a good encoder of sprites finds. With `--file PATH`, dSprites' own npz is scored as a third rendering, so
the project's rendering can be compared with the published images.

Prints one JSON line per rendering and metric (mean and std over `--repeats` sampling seeds), then a summary line;
`--markdown` prints a table instead.
Usage: python benchmarks/dsprites_rendering.py [--samples 10000] [--votes 800] [--repeats 3] [--file NPZ]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from infogan.data.dsprites import DSprites
from infogan.data.shapes import Shapes
from infogan.metrics.code_semantics import image_properties
from infogan.metrics.ground_truth import GroundTruthData
from metrics_crosscheck import METRICS, ours, spread  # beside this script

PROPERTIES = ("centroid_x", "centroid_y", "mass", "height", "width", "rotation")


def moments(x: torch.Tensor) -> torch.Tensor:
    """Images (N, 1, H, W) in [-1, 1] -> their ink moments (N, 6)."""
    props = image_properties(x)
    return torch.stack([props[name] for name in PROPERTIES], dim=1).nan_to_num(0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--samples", type=int, default=10_000, help="codes for MIG, DCI, SAP (half as many held out)"
    )
    parser.add_argument(
        "--votes", type=int, default=800, help="FactorVAE training votes (half as many scored)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="sampling seeds per rendering")
    parser.add_argument("--file", type=Path, help="dSprites' own npz, scored as a third rendering")
    parser.add_argument("--markdown", action="store_true", help="print a table instead of JSON lines")
    args = parser.parse_args()
    torch.set_num_threads(1)
    renderings: dict[str, GroundTruthData] = {
        "dsprites (binary)": DSprites(),
        "shapes (anti-aliased)": Shapes(),
    }
    if args.file:
        renderings["dSprites' file"] = DSprites(path=args.file)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name, data in renderings.items():
        runs = [ours(moments, data, args.samples, args.votes, seed)[0] for seed in range(args.repeats)]
        for metric in METRICS:
            mean, std = spread([r[metric] for r in runs])
            rows.append(
                {
                    "benchmark": "dsprites_rendering",
                    "rendering": name,
                    "metric": metric,
                    "mean": round(mean, 4),
                    "std": round(std, 4),
                }
            )
    summary = {
        "benchmark": "dsprites_rendering",
        "representation": "ink moments: " + ", ".join(PROPERTIES),
        "samples": args.samples,
        "votes": args.votes,
        "repeats": args.repeats,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if args.markdown:
        names = list(renderings)
        print("| metric | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for metric in METRICS:
            cells = [r for r in rows if r["metric"] == metric]
            print(f"| {metric} | " + " | ".join(f"{r['mean']:.3f} ({r['std']:.3f})" for r in cells) + " |")
        print(json.dumps(summary))
        return
    for row in rows:
        print(json.dumps(row))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
