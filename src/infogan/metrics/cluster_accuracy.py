"""Unsupervised classification accuracy of a categorical code (arXiv:1606.03657, Sec. 5.1).

Each predicted category is matched to one label by the Hungarian algorithm on the confusion matrix, maximising the
number of correctly matched images; accuracy is the matched fraction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from infogan.images import Images


@dataclass(frozen=True)
class ClusterAccuracy:
    """Result of matching clusters to labels.

    Attributes:
        accuracy: fraction of images whose matched cluster equals their label, in [0, 1].
        confusion: (n_labels, n_clusters) counts; row = true label, column = predicted category.
        mapping: mapping[category] = the label it is matched to (-1 for a category left unmatched).
    """

    accuracy: float
    confusion: np.ndarray
    mapping: np.ndarray


def cluster_accuracy(
    pred: Tensor | np.ndarray, labels: Tensor | np.ndarray, n_clusters: int, n_labels: int | None = None
) -> ClusterAccuracy:
    """Hungarian-matched accuracy of cluster assignments against labels.

    Args:
        pred: (N,) predicted category in [0, n_clusters).
        labels: (N,) true label in [0, n_labels).
        n_clusters: number of categories of the code.
        n_labels: number of classes; defaults to max(label) + 1.
    """
    pred = np.asarray(pred.cpu() if isinstance(pred, Tensor) else pred, dtype=np.int64)
    labels = np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels, dtype=np.int64)
    if pred.shape != labels.shape or pred.ndim != 1:
        raise ValueError(f"pred and labels must be matching 1-d arrays, got {pred.shape} and {labels.shape}")
    n_labels = int(labels.max()) + 1 if n_labels is None else n_labels
    confusion = np.zeros((n_labels, n_clusters), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[cols] = rows
    accuracy = float(confusion[rows, cols].sum() / max(len(labels), 1))
    return ClusterAccuracy(accuracy, confusion, mapping)


def category_usage(pred: Tensor, n_clusters: int) -> dict[str, Any]:
    """How predicted categories (N,) spread over `n_clusters`, needing no labels.

    Returns:
        ``{"usage": [share of images per category], "usage_entropy": entropy of those shares in nats}``. The
        entropy is ln K when every category gets the same share; a category that absorbs two classes while another
        splits one (a merge) lowers it, and so does a category no real image falls into.
    """
    counts = torch.bincount(pred.cpu().long(), minlength=n_clusters).double()
    if counts.numel() != n_clusters:
        raise ValueError(f"predicted categories must lie in [0, {n_clusters}), got up to {int(pred.max())}")
    share = counts / counts.sum().clamp(min=1)
    used = share[share > 0]
    return {"usage": share.tolist(), "usage_entropy": float(-(used * used.log()).sum())}


@torch.no_grad()
def categorical_predictions(
    infer: Callable[[Tensor], dict[str, dict[str, Tensor]]], images: Images, code: str, batch_size: int = 500
) -> Tensor:
    """Argmax of Q's categorical head for `code` on images (N, C, H, W), batched.

    Args:
        infer: maps images to posterior parameters, e.g. `InfoGAN.infer_codes`.

    Returns:
        (N,) long tensor on the CPU.
    """
    out = [
        infer(images[i : i + batch_size])[code]["logits"].argmax(dim=1).cpu()
        for i in range(0, images.shape[0], batch_size)
    ]
    return torch.cat(out)
