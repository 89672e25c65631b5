"""Generation fidelity of a categorical code: how often G(z, c = k) is an image of the class that category k stands
for. InfoGAN's claim for MNIST (arXiv:1606.03657, Sec. 5.1 and Fig. 2a) has two halves: Q reads the digit class
off real images (the code's accuracy, cluster_accuracy.py) and G draws digit k when the code is set to k. This is
the second half.

Category k stands for the label Hungarian-matched to it on real images; a classifier trained on the dataset's
labelled training images reads the generated ones. The other inputs (z, the other codes) come from their priors.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor


@torch.no_grad()
def generation_fidelity(
    generate: Callable[[int, int], Tensor],
    classify: Callable[[Tensor], Tensor],
    mapping: Sequence[int],
    n_per_category: int = 1000,
    batch_size: int = 500,
) -> dict[str, Any]:
    """The share of each category's generated images that the classifier labels as the category's matched label.

    Args:
        generate: (category k, n) -> n images (n, C, H, W) generated with the code set to k.
        classify: images -> predicted labels (n,).
        mapping: mapping[k] = the label category k is matched to, or -1 for a category left unmatched (more
            categories than labels); an unmatched category gets no share and does not enter the mean.
        n_per_category: images generated per category.
        batch_size: images per call of `generate`.

    Returns:
        ``{"fidelity": mean share over the matched categories, in [0, 1], "fidelity_per_category": [share or None
        per category], "fidelity_samples": n_per_category}``. A generator that ignores the code gives about
        1 / (number of labels); one that draws the matched class every time gives the classifier's accuracy.
    """
    if n_per_category < 1:
        raise ValueError(f"n_per_category must be >= 1, got {n_per_category}")
    shares: list[float | None] = []
    for k, label in enumerate(mapping):
        if label < 0:
            shares.append(None)
            continue
        hits = 0
        for start in range(0, n_per_category, batch_size):
            predicted = classify(generate(k, min(batch_size, n_per_category - start)))
            hits += int((predicted.cpu() == int(label)).sum())
        shares.append(hits / n_per_category)
    matched = [share for share in shares if share is not None]
    if not matched:
        raise ValueError("no category is matched to a label")
    return {
        "fidelity": statistics.fmean(matched),
        "fidelity_per_category": shares,
        "fidelity_samples": n_per_category,
    }
