"""Sample quality of a generator against real images: FID, KID and improved precision/recall, all in one feature
space (fid.py and precision_recall.py for the definitions; evaluation/features.py for the feature networks)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from infogan.metrics.fid import fid_kid
from infogan.metrics.precision_recall import precision_recall


def quality_from_features(
    real_f: Tensor, fake_f: Tensor, info: dict[str, Any], *, k: int = 3, seed: int = 0
) -> dict[str, Any]:
    """FID, KID and precision/recall of generated images against real ones, from their features.

    Args:
        real_f: (N, F) features of the real images (the reference set).
        fake_f: (M, F) features of the images to score. Precision/recall use the first min(N, M) of each set,
            since the method assumes equally many real and generated samples.
        info: what the feature network is; recorded with the numbers.
        k: neighbourhood size for precision/recall.
        seed: seeds KID's subsets.

    Returns:
        ``{"fid", "kid", "kid_std", "precision", "recall", "features": {...}}`` where "features" is `info` with
        the sample counts each number was computed from.
    """
    n_pr = min(len(real_f), len(fake_f))
    result: dict[str, Any] = fid_kid(real_f, fake_f, seed=seed)
    result.update(precision_recall(real_f[:n_pr], fake_f[:n_pr], k=k))
    result["features"] = {
        **info,
        "n_real": len(real_f),
        "n_fake": len(fake_f),
        "n_precision_recall": n_pr,
        "k": k,
    }
    return result
