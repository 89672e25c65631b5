"""What each code of an InfoGAN captures (arXiv:1606.03657, Sec. 5.1 and 7): L_I against H(c), how Q spreads real
images over a categorical code's categories and, on labelled data, their Hungarian-matched accuracy and the
generation fidelity of G(z, c = k)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from infogan.config import EvalConfig
from infogan.data import ImageTensorDataset
from infogan.evaluation.data import EvalData
from infogan.evaluation.features import FeatureClassifier
from infogan.evaluation.quality import dataset_classifier
from infogan.metrics.cluster_accuracy import categorical_predictions, category_usage, cluster_accuracy
from infogan.metrics.generation_fidelity import generation_fidelity
from infogan.metrics.mutual_info import mi_lower_bounds_both
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.world import World


def evaluate_codes(
    model: GenerativeModel,
    data: ImageTensorDataset | None,
    cfg: EvalConfig,
    progress: ProgressFn | None = None,
    world: World = World(),
) -> dict[str, Any]:
    """L_I for each code of `model` (a model that `has_mi_lower_bound`); for categorical codes, how Q spreads the
    real images of `data` over the categories and, where `data` is labelled, Hungarian-matched accuracy. With a
    `world` of several ranks, L_I's samples are split over them (every rank gets L_I) and the real images are read
    on rank 0.

    Returns:
        ``{"n_eval", "mi_samples", "codes": {name: {...}}}``; see docs/evaluation.md for the keys.
    """
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    # Also with Q's batch norm on batch statistics, as in training: eval mode's running averages mix D's real and
    # fake passes and can misstate Q on generated batches (docs/evaluation.md).
    mi, mi_batch = mi_lower_bounds_both(
        model, cfg.mi_samples, batch_size=cfg.batch_size, generator=generator, progress=progress, world=world
    )
    codes: dict[str, dict[str, Any]] = {}
    for code in model.latent.codes:
        entry: dict[str, Any] = {"type": "categorical" if code.is_categorical else "continuous"}
        if code.is_categorical:
            entry["k"] = code.k
        else:
            entry["prior"] = code.kind
        entry["entropy"] = code.entropy
        entry["mi_lower_bound"] = mi[code.name]
        entry["mi_lower_bound_batch_stats"] = mi_batch[code.name]
        if code.is_categorical and data is not None and len(data) > 0 and world.is_main:
            pred = categorical_predictions(model.infer_codes, data.images, code.name, cfg.batch_size)
            entry.update(category_usage(pred, code.k))
            if data.labels is not None:
                result = cluster_accuracy(pred, data.labels, code.k)
                entry.update(
                    accuracy=result.accuracy,
                    confusion=result.confusion.tolist(),
                    mapping=result.mapping.tolist(),
                )
        codes[code.name] = entry
    return {"n_eval": 0 if data is None else len(data), "mi_samples": cfg.mi_samples, "codes": codes}


def add_generation_fidelity(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    codes: dict[str, dict[str, Any]],
    progress: ProgressFn,
) -> str | None:
    """Add generation fidelity (metrics/generation_fidelity.py) to the entry in `codes` (`evaluate_codes`' result)
    of each categorical code that was matched to labels, read by the dataset's feature classifier.

    Returns:
        A note when the data has no labels to match categories to (nothing is added), else None.
    """
    matched = {name: entry["mapping"] for name, entry in codes.items() if "mapping" in entry}
    extractor = dataset_classifier(data, cfg, progress) if matched else None
    if extractor is None:
        return f"codes: no generation fidelity: {data.held_out.name} has no labels to match categories to"
    classifier = extractor.net
    assert isinstance(classifier, FeatureClassifier)
    assert data.reference is not None  # dataset_classifier needs it
    device = data.reference.images.device
    progress(f"eval: generation fidelity ({cfg.fidelity_samples} generated images per category)")
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    for name, mapping in matched.items():

        def generate(k: int, n: int, name: str = name) -> Tensor:
            return model.sample(n, codes={name: k}, generator=generator)

        def classify(x: Tensor) -> Tensor:
            return classifier.logits(x.to(device)).argmax(dim=1)

        codes[name].update(
            generation_fidelity(generate, classify, mapping, cfg.fidelity_samples, cfg.batch_size),
            fidelity_classifier=extractor.info,
        )
    return None
