"""The evaluation of a run (see docs/evaluation.md): what each code captures (L_I, categorical
accuracy, which image property each continuous code controls), sample quality (FID, KID, precision/recall) and, on
data with known factors, disentanglement scores. Each group is computed where it applies and timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from infogan import data as datasets
from infogan.config import DataConfig, EvalConfig
from infogan.data import ImageTensorDataset, Split
from infogan.data.ground_truth import GroundTruthData
from infogan.errors import ConfigError
from infogan.metrics.cluster_accuracy import categorical_predictions, category_usage, cluster_accuracy
from infogan.metrics.code_semantics import code_semantics
from infogan.metrics.disentanglement import disentanglement_scores
from infogan.metrics.features import (
    FeatureClassifier,
    FeatureExtractor,
    ProgressFn,
    classifier_extractor,
    inception_extractor,
)
from infogan.metrics.mutual_info import mi_lower_bounds_both
from infogan.metrics.quality import generate_images, quality_from_features
from infogan.models import GenerativeModel, build_model
from infogan.models.infogan import InfoGAN


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


def evaluation_data(cfg: DataConfig, split: Split, device: torch.device, need_reference: bool) -> EvalData:
    """The held-out split, and the training split only where the quality metrics need it as their reference."""
    src = datasets.source(cfg.name, cfg)
    ground_truth = getattr(src, "ground_truth", None)
    return EvalData(
        reference=datasets.build(cfg, "train").to(device) if need_reference else None,
        held_out=datasets.build(cfg, split).to(device),
        num_classes=src.num_classes,
        ground_truth=ground_truth(cfg.image_size) if ground_truth is not None else None,
    )


def evaluate_codes(model: InfoGAN, data: ImageTensorDataset | None, cfg: EvalConfig) -> dict[str, Any]:
    """L_I for each code of `model`; for categorical codes, how Q spreads the real images of `data` over the
    categories and, where `data` is labelled, Hungarian-matched accuracy.

    Returns:
        ``{"n_eval", "mi_samples", "codes": {name: {...}}}``; see the README for the keys.
    """
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    # Also with Q's batch norm on batch statistics, as in training: eval mode's running averages mix D's real and
    # fake passes and can misstate Q on generated batches (docs/evaluation.md).
    mi, mi_batch = mi_lower_bounds_both(model, cfg.mi_samples, batch_size=cfg.batch_size, generator=generator)
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
        if code.is_categorical and data is not None and len(data) > 0:
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


def feature_extractor(data: EvalData, cfg: EvalConfig, progress: ProgressFn) -> FeatureExtractor | None:
    """The feature network `cfg` asks for, or None (with a note) when it cannot exist for this data."""
    if data.reference is None:
        raise ValueError("the quality metrics need the dataset's training split as EvalData.reference")
    if cfg.features == "inception":
        if cfg.inception_weights is None:
            raise ConfigError("Inception features need the weights file: give --fid-weights PATH")
        return inception_extractor(Path(cfg.inception_weights), data.reference.images.device)
    if data.num_classes is None or data.reference.labels is None:
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


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - start, 2)
        return out


def evaluate_model(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    *,
    baselines: bool = False,
    progress: ProgressFn = lambda _: None,
) -> dict[str, Any]:
    """Every metric group of `cfg.metrics` that applies to `model` and `data`.

    Args:
        model: a trained model (InfoGAN for the code metrics and disentanglement).
        data: the real data to compare with.
        cfg: which groups, sample counts and seeds.
        baselines: also score the held-out real images (the floor of the quality metrics) and an untrained
            generator of the same config (their ceiling, and the code semantics of a generator that learnt nothing).
        progress: receives one line per stage.

    Returns:
        One JSON-ready dict; keys are listed in docs/evaluation.md. "timings" holds seconds per group and "notes"
        says why a requested group was not computed.
    """
    if data.held_out.shape != model.image_shape:
        raise ConfigError(
            f"dataset {data.held_out.name} has images of shape {data.held_out.shape}, the model makes "
            f"{model.image_shape}"
        )
    timer, notes, out = _Timer(), list[str](), dict[str, Any]()
    groups = set(cfg.metrics)
    infogan = model if isinstance(model, InfoGAN) else None
    if "codes" in groups and infogan is None:
        notes.append("codes: L_I and categorical accuracy apply to InfoGAN models only")
    if "codes" in groups and infogan is not None:
        labelled = data.held_out.labels is not None and bool(infogan.latent.categorical)
        accuracy = f", accuracy on {len(data.held_out)} labelled images" if labelled else ""
        progress(f"eval: L_I from {cfg.mi_samples} generated samples{accuracy}")
        out.update(timer.run("codes", lambda: evaluate_codes(infogan, data.held_out, cfg)))
    reference: _Reference | None = None
    if "quality" in groups:
        reference = timer.run("features", lambda: _reference(data, cfg, progress))
        if reference is None:
            notes.append(
                f"quality: {data.held_out.name} has no labels for a feature classifier; use inception"
            )
        else:
            ref = reference
            out.update(timer.run("quality", lambda: _quality(model, ref, data, cfg, progress)))
            if model.conditional_code is not None and isinstance(ref.extract.net, FeatureClassifier):
                classifier = ref.extract.net
                out["conditional_accuracy"] = timer.run(
                    "conditional", lambda: _conditional_accuracy(model, classifier, data, cfg)
                )
    if "semantics" in groups and not model.latent.continuous:
        notes.append("semantics: the model has no continuous code to sweep")
    if "semantics" in groups and model.latent.continuous:
        progress(
            f"eval: code semantics ({cfg.semantics_draws} draws x {cfg.semantics_steps} values per code)"
        )
        out["code_semantics"] = timer.run("semantics", lambda: _semantics(model, cfg))
    truth = data.ground_truth
    if "disentanglement" in groups and truth is None:
        notes.append(f"disentanglement: {data.held_out.name} has no known factors (use the shapes dataset)")
    if "disentanglement" in groups and truth is not None:
        if model.represent(data.held_out.images[:2]) is not None:
            out["disentanglement"] = timer.run(
                "disentanglement", lambda: _disentanglement(model, truth, cfg, progress)
            )
        else:
            notes.append("disentanglement: this model has no encoder or Q network to read codes from")
    held_out = timer.run("held_out", lambda: model.held_out_metrics(data.held_out.images, cfg.batch_size))
    if held_out:
        out["held_out"] = held_out
    else:  # the model has no held-out metrics of its own
        del timer.seconds["held_out"]
    if baselines:
        out["baselines"] = timer.run(
            "baselines", lambda: _baselines(model, data, cfg, out, reference, progress)
        )
    out["timings"] = timer.seconds
    if notes:
        out["notes"] = notes
    return out


@dataclass
class _Reference:
    """The feature network and the features of the reference (training) images, extracted once per evaluation."""

    extract: FeatureExtractor
    features: Tensor

    def score(self, images: Tensor, cfg: EvalConfig) -> dict[str, Any]:
        return quality_from_features(
            self.features, self.extract(images), self.extract.info, k=cfg.pr_k, seed=cfg.seed
        )


def _reference(data: EvalData, cfg: EvalConfig, progress: ProgressFn) -> _Reference | None:
    """The feature network `cfg` asks for and the reference images' features, or None without a network."""
    extract = feature_extractor(data, cfg, progress)
    assert data.reference is not None  # checked by feature_extractor
    return None if extract is None else _Reference(extract, extract(data.reference.images))


def _quality(
    model: GenerativeModel, reference: _Reference, data: EvalData, cfg: EvalConfig, progress: ProgressFn
) -> dict[str, Any]:
    progress(f"eval: FID/KID/precision/recall on {cfg.fid_samples} generated images")
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    fake = generate_images(model, cfg.fid_samples, batch_size=cfg.batch_size, generator=generator)
    result = reference.score(fake, cfg)
    result["features"]["reference"] = f"{data.held_out.name} train split"
    return result


def _semantics(model: GenerativeModel, cfg: EvalConfig) -> dict[str, Any]:
    generator = torch.Generator(model.device).manual_seed(cfg.seed)
    return dict(
        code_semantics(
            model,
            n_draws=cfg.semantics_draws,
            steps=cfg.semantics_steps,
            value_range=cfg.semantics_range,
            generator=generator,
            batch_size=cfg.batch_size,
        )
    )


@torch.no_grad()
def _conditional_accuracy(
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


def _disentanglement(
    model: GenerativeModel, ground_truth: GroundTruthData, cfg: EvalConfig, progress: ProgressFn
) -> dict[str, Any]:
    def represent(x: Tensor) -> Tensor:
        codes = model.represent(x.to(model.device))
        assert codes is not None
        return codes

    scores: dict[str, Any] = disentanglement_scores(
        represent,
        ground_truth,
        n_train=cfg.factor_samples,
        n_test=cfg.factor_samples // 2,
        n_train_votes=cfg.factor_votes,
        n_eval_votes=cfg.factor_votes // 2,
        seed=cfg.seed,
        progress=progress,
    )
    return {**scores, "representation": f"{type(model).__name__}.represent"}


def _baselines(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    done: dict[str, Any],
    reference: _Reference | None,
    progress: ProgressFn,
) -> dict[str, Any]:
    """The same metrics for held-out real images and for an untrained model of the same config (its generator for
    quality and code semantics, its Q for disentanglement)."""
    out: dict[str, Any] = {}
    if reference is not None:
        n_held = min(cfg.fid_samples, len(data.held_out))
        progress(f"eval: baseline - held-out real images ({n_held}), and the model at that count")
        out["held_out"] = reference.score(data.held_out.images[:n_held].cpu(), cfg)
        # The floor has only as many images as the held-out split: the model scored at the same count, since
        # FID's bias and the precision/recall radii depend on it.
        fake = generate_images(
            model,
            n_held,
            batch_size=cfg.batch_size,
            generator=torch.Generator(model.device).manual_seed(cfg.seed),
        )
        out["model_at_held_out_count"] = reference.score(fake, cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        untrained = build_model(model.cfg, model.image_shape).to(model.device).eval()
    entry: dict[str, Any] = {}
    if reference is not None:
        progress("eval: baseline - untrained generator")
        entry.update(_quality(untrained, reference, data, cfg, progress))
    if "code_semantics" in done:
        entry["code_semantics"] = _semantics(untrained, cfg)
    if "disentanglement" in done and data.ground_truth is not None:
        progress("eval: baseline - disentanglement of the untrained Q")
        entry["disentanglement"] = _disentanglement(untrained, data.ground_truth, cfg, progress)
    out["untrained"] = entry
    return out


def summary_lines(m: dict[str, Any]) -> list[str]:
    """A human-readable summary of an evaluation result."""
    lines = [f"step {m['step']}, {m['dataset']} ({m['split']} split)"]
    for name, entry in m.get("codes", {}).items():
        line = f"  {name} ({entry['type']}"
        line += f", K={entry['k']})" if "k" in entry else f", {entry['prior']})"
        line += f"  L_I {entry['mi_lower_bound']:.4f} nats (H(c) {entry['entropy']:.4f})"
        if "mi_lower_bound_batch_stats" in entry:
            line += f" [batch statistics: {entry['mi_lower_bound_batch_stats']:.4f}]"
        if "accuracy" in entry:
            line += f"  accuracy {entry['accuracy']:.4f}"
        lines.append(line)
        if "usage" in entry:
            lines.append(
                f"    real images per category: {min(entry['usage']):.3f}-{max(entry['usage']):.3f} "
                f"(usage entropy {entry['usage_entropy']:.4f} of {entry['entropy']:.4f})"
            )
    if "fid" in m:
        f = m["features"]
        lines.append(
            f"  FID {m['fid']:.3f}  KID {m['kid']:.4g} ± {m['kid_std']:.2g}  precision {m['precision']:.3f}  "
            f"recall {m['recall']:.3f}  ({f['network']} features, {f['n_fake']} generated vs {f['n_real']} real)"
        )
    for name, entry in m.get("code_semantics", {}).items():
        lines.append(f"  {name} controls {entry['property']} (Spearman {entry['spearman']:+.3f})")
    if "conditional_accuracy" in m:
        lines.append(
            f"  conditional accuracy {m['conditional_accuracy']:.3f} (generated images of each requested label)"
        )
    # "heldout": the key's spelling in eval.json files written before it became "held_out"
    for key, value in m.get("held_out", m.get("heldout", {})).items():
        lines.append(f"  held-out {key} {value:.3f}")
    if "disentanglement" in m:
        d = m["disentanglement"]
        lines.append("  " + "  ".join(f"{k} {v:.3f}" for k, v in d.items() if isinstance(v, float)))
    lines += [f"  note: {n}" for n in m.get("notes", [])]
    lines.append("  seconds: " + ", ".join(f"{k} {v}" for k, v in m.get("timings", {}).items()))
    return lines
