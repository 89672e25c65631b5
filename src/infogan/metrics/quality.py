"""Sample quality of a generator against held-out real images: FID, KID and improved precision/recall, all in one
feature space (see features.py for which, fid.py and precision_recall.py for the definitions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from infogan.helpers import Eta, ProgressFn, World
from infogan.metrics.features import FeatureExtractor
from infogan.metrics.fid import fid_kid
from infogan.metrics.precision_recall import precision_recall
from infogan.metrics.sharding import gather_batches, owns
from infogan.models.base import GenerativeModel


@torch.no_grad()
def generate_images(
    model: GenerativeModel,
    n: int,
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """n images (n, C, H, W) in [-1, 1] from the prior, on the CPU, generated in batches."""
    out = []
    eta = Eta("eval: generating", n, progress or (lambda _: None), unit=" images")
    for start in range(0, n, batch_size):
        out.append(model.sample(min(batch_size, n - start), generator=generator).cpu())
        eta(start + len(out[-1]))
    return torch.cat(out)


@torch.no_grad()
def generated_features(
    model: GenerativeModel,
    n: int,
    extract: Callable[[Tensor], Tensor],
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
    progress: ProgressFn | None = None,
    world: World = World(),
) -> Tensor | None:
    """The features (n, F) of the n images `generate_images` would make with this generator, extracted batch by
    batch; split over the ranks of `world` (metrics/sharding.py): rank 0 gets all n, the others None."""
    mine = {}
    eta = Eta("eval: generating", n, progress or (lambda _: None), unit=" images")
    for batch, start in enumerate(range(0, n, batch_size)):
        latent = model.latent.sample(min(batch_size, n - start), generator=generator, device=model.device)
        if owns(world, batch):
            mine[batch] = extract(model.generate(latent))
        eta(min(start + batch_size, n))
    return gather_batches(world, mine)


def sample_quality(
    extract: FeatureExtractor, real: Tensor, fake: Tensor, *, k: int = 3, seed: int = 0
) -> dict[str, Any]:
    """FID, KID and precision/recall of `fake` against `real`.

    Args:
        extract: the feature network.
        real: (N, C, H, W) real images in [-1, 1] (the reference set).
        fake: (M, C, H, W) images to score. Precision/recall use the first min(N, M) of each set, since the method
            assumes equally many real and generated samples.
        k: neighbourhood size for precision/recall.

    Returns:
        ``{"fid", "kid", "kid_std", "precision", "recall", "features": {...}}`` where "features" records the
        network and the sample counts each number was computed from.
    """
    return quality_from_features(extract(real), extract(fake), extract.info, k=k, seed=seed)


def quality_from_features(
    real_f: Tensor, fake_f: Tensor, info: dict[str, Any], *, k: int = 3, seed: int = 0
) -> dict[str, Any]:
    """`sample_quality` from features already extracted: real (N, F), fake (M, F); `info` describes the network."""
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
