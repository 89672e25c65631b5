"""Disentanglement scores of reference representations on the `shapes` factors: what "perfect" and "nothing"
score with this project's metric definitions and default sample counts, beside which a model's scores are read.

Representations (computed from the factor rows themselves, no images): identity (each factor its own dimension,
scaled to [0, 1)), one-hot shape (the identity with the shape as three one-hot columns: what a perfect InfoGAN
categorical code gives, since its representation is Q's class probabilities), duplicated (each factor twice),
rotated (a random rotation of the identity), noise (independent of the factors) and constant. Prints one JSON line. Usage: python benchmarks/disentanglement_baselines.py [--seed S]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from infogan.data.shapes import Shapes
from infogan.metrics.disentanglement import disentanglement_scores


class ShapesFactors:
    """The shapes ground truth whose 'images' are its normalised factor rows, (N, 5, 1, 1) in (0, 1)."""

    def __init__(self) -> None:
        self.truth = Shapes()
        self.factor_names = self.truth.factor_names
        self.factor_sizes = self.truth.factor_sizes
        self.sizes = torch.tensor(self.factor_sizes, dtype=torch.float32)

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.truth.sample_factors(n, generator)

    def render(self, factors: torch.Tensor) -> torch.Tensor:
        return ((factors.float() + 0.5) / self.sizes).view(-1, len(self.factor_sizes), 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rotation = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(args.seed)))[0]
    noise = torch.Generator().manual_seed(args.seed + 1)
    representations = {
        "identity": lambda x: x.flatten(1),
        "one-hot shape": lambda x: torch.cat(
            [torch.nn.functional.one_hot(((x[:, 0, 0, 0] + 1) * 1.5).long(), 3).float(), x.flatten(1)[:, 1:]],
            dim=1,
        ),
        "duplicated": lambda x: x.flatten(1).repeat_interleave(2, dim=1),
        "rotated": lambda x: x.flatten(1) @ rotation,
        "noise": lambda x: torch.rand(x.shape[0], 5, generator=noise),
        "constant": lambda x: torch.zeros(x.shape[0], 5),
    }
    start = time.perf_counter()
    scores = {
        name: {k: round(v, 4) for k, v in disentanglement_scores(fn, ShapesFactors(), seed=args.seed).items()}
        for name, fn in representations.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "disentanglement_baselines",
                "data": "shapes factors",
                "seed": args.seed,
                "scores": scores,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
