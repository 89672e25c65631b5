"""The real images an evaluation compares a model with: the split it scores on, the training split where a metric
group needs a reference, and the dataset's known factors (see docs/evaluation.md, Splits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from infogan import data as datasets
from infogan.config import DataConfig
from infogan.data import DataSplit, ImageTensorDataset
from infogan.images import Images, LazyImages
from infogan.metrics.ground_truth import GroundTruthData

# Real images a dataset made when indexed is scored against (dSprites has 737,280); FID's customary 50,000.
REFERENCE_IMAGES = 50_000


@dataclass
class EvalData:
    """The real data an evaluation compares with.

    Attributes:
        reference: the dataset's training split: the FID/KID/precision-recall reference set and the data the
            feature classifier learns from; None where the quality metrics are not computed.
        held_out: the evaluation split: categorical accuracy, the feature classifier's accuracy, and the
            real-data floor of the quality metrics.
        num_classes: label classes of the dataset, or None when unlabelled.
        ground_truth: the dataset's known factors, or None.
    """

    reference: ImageTensorDataset | None
    held_out: ImageTensorDataset
    num_classes: int | None = None
    ground_truth: GroundTruthData | None = None


def data_to_evaluate_on(cfg: DataConfig, dataset: str | None, data_root: str | None) -> DataConfig:
    """A run's data config, or the one of `dataset` (read at its own image size: a shape that differs from the
    model's is an error, not a resize) and of `data_root` when given."""
    if dataset is None and data_root is None:
        return cfg
    return cfg.model_copy(
        update={
            "name": dataset or cfg.name,
            "fallback": None,
            "root": data_root if data_root is not None else cfg.root,
            "image_size": cfg.image_size if dataset in (None, cfg.name) else None,
        }
    )


def evaluation_data(
    cfg: DataConfig, split: DataSplit, device: torch.device, metrics: Sequence[str]
) -> EvalData:
    """The split to score on, and the training split where the metric groups need it: as the quality metrics'
    reference, and to train the classifier that reads generated images (generation fidelity, in the codes group,
    on labelled data)."""
    src = datasets.source(cfg.name, cfg)
    ground_truth = getattr(src, "ground_truth", None)
    need_reference = "quality" in metrics or ("codes" in metrics and src.num_classes is not None)
    return EvalData(
        reference=datasets.build(cfg, "train").to(device) if need_reference else None,
        held_out=datasets.build(cfg, split).to(device),
        num_classes=src.num_classes,
        ground_truth=ground_truth(cfg.image_size, datasets.data_root(cfg))
        if ground_truth is not None
        else None,
    )


def reference_images(images: Images) -> Images:
    """The real images the quality metrics compare with: all of them, except that a dataset made when indexed
    (dSprites' 737,280) is represented by a fixed random `REFERENCE_IMAGES` of them."""
    if isinstance(images, LazyImages) and len(images) > REFERENCE_IMAGES:
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
        return images.take(order[:REFERENCE_IMAGES])
    return images
