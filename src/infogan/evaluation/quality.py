"""Sample quality of a generator as an evaluation measures it: the feature network the eval config asks for, the
reference images' features (extracted once and shared with the baselines), FID/KID/precision/recall of generated
images split over the ranks of a data-parallel run, and a conditional GAN's conditional accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from infogan.config import EvalConfig
from infogan.evaluation.data import EvalData, reference_images
from infogan.evaluation.features import (
    FeatureClassifier,
    FeatureExtractor,
    classifier_extractor,
    inception_extractor,
)
from infogan.metrics.quality import quality_from_features
from infogan.metrics.sharding import gather_batches, owns
from infogan.models import GenerativeModel
from infogan.progress import Eta, ProgressFn
from infogan.world import World


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


def feature_extractor(data: EvalData, cfg: EvalConfig, progress: ProgressFn) -> FeatureExtractor | None:
    """The feature network `cfg` asks for, or None (with a note) when it cannot exist for this data."""
    if data.reference is None:
        raise ValueError("the quality metrics need the dataset's training split as EvalData.reference")
    if cfg.features == "inception":
        return inception_extractor(cfg.inception_weights, data.reference.images.device)
    return dataset_classifier(data, cfg, progress)


def dataset_classifier(data: EvalData, cfg: EvalConfig, progress: ProgressFn) -> FeatureExtractor | None:
    """The project's classifier of the dataset (evaluation/features.py): cached, trained on the reference split
    when it is not; None where the data has no reference split or no labels to train it on."""
    if data.reference is None or data.num_classes is None or data.reference.labels is None:
        return None
    return classifier_extractor(
        data.reference,
        data.held_out,
        data.num_classes,
        cache_dir=Path(cfg.feature_cache),
        steps=cfg.feature_steps,
        seed=cfg.feature_seed,
        progress=progress,
    )


@dataclass
class Reference:
    """The feature network and the features of the reference (training) images, extracted once per evaluation."""

    extract: FeatureExtractor
    features: Tensor | None  # rank 0's only in a data-parallel evaluation

    def score(self, images: Tensor, cfg: EvalConfig) -> dict[str, Any]:
        """FID, KID, precision and recall of `images` (N, C, H, W) in [-1, 1] against the reference."""
        return self.score_features(self.extract(images), cfg)

    def score_features(self, fake: Tensor, cfg: EvalConfig) -> dict[str, Any]:
        """`score` of images whose features (N, F) are already extracted."""
        assert self.features is not None
        return quality_from_features(self.features, fake, self.extract.info, k=cfg.pr_k, seed=cfg.seed)


def reference_features(
    data: EvalData, cfg: EvalConfig, progress: ProgressFn, world: World = World()
) -> Reference | None:
    """The feature network `cfg` asks for and the reference images' features, or None without a network. In a
    data-parallel evaluation rank 0 builds the network first (a feature classifier is trained into the cache),
    the other ranks then build theirs (from the cache when they share it) and take rank 0's weights, so every
    rank extracts features in rank 0's space; only rank 0 extracts the reference features."""
    if world.is_main:
        extract = feature_extractor(data, cfg, progress)
    world.barrier()
    if not world.is_main:
        extract = feature_extractor(data, cfg, lambda _: None)
    assert data.reference is not None  # checked by feature_extractor
    if extract is None:
        return None
    world.broadcast_module(extract.net)
    return Reference(extract, extract(reference_images(data.reference.images)) if world.is_main else None)


def evaluate_quality(
    model: GenerativeModel,
    reference: Reference,
    data: EvalData,
    cfg: EvalConfig,
    progress: ProgressFn,
    world: World = World(),
) -> dict[str, Any]:
    """FID, KID, precision and recall of `cfg.fid_samples` images generated by `model`, split over the ranks of
    `world`: rank 0 gets ``{"fid", "kid", "kid_std", "precision", "recall", "features"}``, the others {}."""
    progress(f"eval: FID/KID/precision/recall on {cfg.fid_samples} generated images")
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    fake = generated_features(
        model,
        cfg.fid_samples,
        reference.extract,
        batch_size=cfg.batch_size,
        generator=generator,
        progress=progress,
        world=world,
    )
    if fake is None:  # another rank's share, gathered on rank 0
        return {}
    result = reference.score_features(fake, cfg)
    result["features"]["reference"] = f"{data.held_out.name} train split"
    return result


@torch.no_grad()
def conditional_accuracy(
    model: GenerativeModel, classifier: FeatureClassifier, data: EvalData, cfg: EvalConfig
) -> float:
    """The evaluation classifier's accuracy on images generated for each requested label, equally many per label."""
    assert model.conditional_code is not None
    k = model.latent.code(model.conditional_code).k
    per_label = max(cfg.fid_samples // k, 1)
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    correct = 0
    for label in range(k):
        for start in range(0, per_label, cfg.batch_size):
            n = min(cfg.batch_size, per_label - start)
            x = model.sample(n, codes={model.conditional_code: label}, generator=generator)
            pred = classifier.logits(x.to(data.held_out.images.device)).argmax(dim=1)
            correct += int((pred == label).sum())
    return correct / (per_label * k)
