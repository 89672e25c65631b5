"""The evaluation of an InfoGAN run: L_I per code on generated samples and, for categorical codes, unsupervised
classification accuracy on held-out labelled images (see DESIGN.md, evaluation protocols)."""

from __future__ import annotations

from typing import Any

import torch

from infogan.config import EvalConfig
from infogan.data import ImageTensorDataset
from infogan.metrics.cluster_accuracy import categorical_predictions, cluster_accuracy
from infogan.metrics.mutual_info import mi_lower_bounds
from infogan.models.infogan import InfoGAN


def evaluate_codes(model: InfoGAN, data: ImageTensorDataset | None, cfg: EvalConfig) -> dict[str, Any]:
    """Metrics for each code of `model`.

    Args:
        model: a trained InfoGAN.
        data: held-out real images (labels enable the accuracy of categorical codes), or None.
        cfg: sample counts and the seed of the generated samples.

    Returns:
        ``{"n_eval", "mi_samples", "codes": {name: {...}}}``; see the README for the keys.
    """
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    mi = mi_lower_bounds(model, cfg.mi_samples, batch_size=cfg.batch_size, generator=generator)
    codes: dict[str, dict[str, Any]] = {}
    for code in model.latent.codes:
        entry: dict[str, Any] = {"type": "categorical" if code.is_categorical else "continuous"}
        if code.is_categorical:
            entry["k"] = code.k
        else:
            entry["prior"] = code.kind
        entry["entropy"] = code.entropy
        entry["mi_lower_bound"] = mi[code.name]
        if code.is_categorical and data is not None and data.labels is not None:
            pred = categorical_predictions(model.infer_codes, data.images, code.name, cfg.batch_size)
            result = cluster_accuracy(pred, data.labels, code.k)
            entry.update(
                accuracy=result.accuracy, confusion=result.confusion.tolist(), mapping=result.mapping.tolist()
            )
        codes[code.name] = entry
    return {"n_eval": 0 if data is None else len(data), "mi_samples": cfg.mi_samples, "codes": codes}
