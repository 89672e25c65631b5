"""The evaluation of a run (see docs/evaluation.md): what each code captures (L_I, categorical
accuracy, which image property each continuous code controls), sample quality (FID, KID, precision/recall) and, on
data with known factors, disentanglement scores. Each group is computed where it applies and timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from infogan import data as datasets
from infogan.config import DataConfig, EvalConfig
from infogan.config import MetricGroup as MetricGroupName
from infogan.data import DataSplit, ImageTensorDataset
from infogan.errors import ConfigError
from infogan.helpers import World
from infogan.images import Images, LazyImages
from infogan.latent import LatentSpec
from infogan.metrics.cluster_accuracy import categorical_predictions, category_usage, cluster_accuracy
from infogan.metrics.code_semantics import code_semantics
from infogan.metrics.disentanglement import scores_and_sample
from infogan.metrics.features import (
    FeatureClassifier,
    FeatureExtractor,
    ProgressFn,
    classifier_extractor,
    inception_extractor,
)
from infogan.metrics.generation_fidelity import generation_fidelity
from infogan.metrics.ground_truth import GroundTruthData
from infogan.metrics.mig import normalised_mutual_info
from infogan.metrics.mutual_info import mi_lower_bounds_both
from infogan.metrics.quality import generate_images, generated_features, quality_from_features
from infogan.models import GenerativeModel, build_model
from infogan.models.infogan import InfoGAN

# Fewer generated images than this get a note that the sample-quality figures are unreliable.
FEW_SAMPLES = 1000
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


def evaluate_codes(
    model: InfoGAN,
    data: ImageTensorDataset | None,
    cfg: EvalConfig,
    progress: ProgressFn | None = None,
    world: World = World(),
) -> dict[str, Any]:
    """L_I for each code of `model`; for categorical codes, how Q spreads the real images of `data` over the
    categories and, where `data` is labelled, Hungarian-matched accuracy. With a `world` of several ranks, L_I's
    samples are split over them (every rank gets L_I) and the real images are read on rank 0.

    Returns:
        ``{"n_eval", "mi_samples", "codes": {name: {...}}}``; see docs/usage.md for the keys.
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


@dataclass
class Evaluation:
    """One evaluation in progress: what the metric groups read, and what they leave for the later ones (the
    quality group's feature network and reference features, which the baselines reuse)."""

    model: GenerativeModel
    data: EvalData
    cfg: EvalConfig
    progress: ProgressFn
    timer: _Timer
    notes: list[str]
    world: World = field(default_factory=World)
    reference: _Reference | None = None


@dataclass(frozen=True)
class MetricGroup:
    """A group of metrics `infogan eval --metrics` names.

    Attributes:
        what: one line for help texts.
        skip: why the group does not apply to this model and data, or None when it does.
        run: computes the group; returns the keys it adds to the result.
    """

    what: str
    skip: Callable[[GenerativeModel, EvalData], str | None]
    run: Callable[[Evaluation], dict[str, Any]]
    # Whether the group splits its work over the ranks of a data-parallel run (every rank runs it); the others
    # run on rank 0 alone.
    sharded: bool = False


def _codes(ev: Evaluation) -> dict[str, Any]:
    model, data, cfg = ev.model, ev.data, ev.cfg
    assert isinstance(model, InfoGAN)
    labelled = data.held_out.labels is not None and bool(model.latent.categorical)
    accuracy = f", accuracy on {len(data.held_out)} labelled images" if labelled else ""
    ev.progress(f"eval: L_I from {cfg.mi_samples} generated samples{accuracy}")
    out = dict(
        ev.timer.run("codes", lambda: evaluate_codes(model, data.held_out, cfg, ev.progress, ev.world))
    )
    if ev.world.is_main and model.latent.categorical:
        ev.timer.run("fidelity", lambda: _add_fidelity(ev, out["codes"]))
    return out


def _add_fidelity(ev: Evaluation, codes: dict[str, dict[str, Any]]) -> None:
    """Generation fidelity (metrics/generation_fidelity.py) into the entry of each categorical code that was
    matched to labels, read by the dataset's feature classifier; a note where there are no labels to match."""
    model, data, cfg = ev.model, ev.data, ev.cfg
    matched = {name: entry["mapping"] for name, entry in codes.items() if "mapping" in entry}
    if not matched or data.reference is None or data.num_classes is None or data.reference.labels is None:
        ev.notes.append(
            f"codes: no generation fidelity: {data.held_out.name} has no labels to match categories to"
        )
        return
    extractor = classifier_extractor(
        data.reference,
        data.held_out,
        data.num_classes,
        cache_dir=Path(cfg.feature_cache),
        steps=cfg.feature_steps,
        seed=cfg.feature_seed,
        progress=ev.progress,
    )
    classifier = extractor.net
    assert isinstance(classifier, FeatureClassifier)
    device = data.reference.images.device
    ev.progress(f"eval: generation fidelity ({cfg.fidelity_samples} generated images per category)")
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


def _quality_group(ev: Evaluation) -> dict[str, Any]:
    model, data, cfg = ev.model, ev.data, ev.cfg
    ev.reference = reference = ev.timer.run("features", lambda: _reference(data, cfg, ev.progress, ev.world))
    if reference is None:
        ev.notes.append(
            f"quality: {data.held_out.name} has no labels for a feature classifier; use inception"
        )
        return {}
    out = dict(ev.timer.run("quality", lambda: _quality(model, reference, data, cfg, ev.progress, ev.world)))
    if cfg.fid_samples < FEW_SAMPLES:
        ev.notes.append(
            f"quality: {cfg.fid_samples} generated images are too few for FID, KID, precision and recall to mean "
            f"much (FID's bias grows as 1/n; k-nearest-neighbour radii on a few points cover everything): use "
            f"{FEW_SAMPLES:,} or more, 10,000 by default"
        )
    if not ev.world.is_main:
        return {}
    if model.conditional_code is not None and isinstance(reference.extract.net, FeatureClassifier):
        classifier = reference.extract.net
        out["conditional_accuracy"] = ev.timer.run(
            "conditional", lambda: _conditional_accuracy(model, classifier, data, cfg)
        )
    return out


def _semantics_group(ev: Evaluation) -> dict[str, Any]:
    cfg = ev.cfg
    ev.progress(f"eval: code semantics ({cfg.semantics_draws} draws x {cfg.semantics_steps} values per code)")
    return {"code_semantics": ev.timer.run("semantics", lambda: _semantics(ev.model, cfg))}


def _disentanglement_group(ev: Evaluation) -> dict[str, Any]:
    truth = ev.data.ground_truth
    assert truth is not None
    scores, codes, factors = ev.timer.run(
        "disentanglement", lambda: _disentanglement(ev.model, truth, ev.cfg, ev.progress)
    )
    ev.progress("eval: disentanglement - what each code dimension reads")
    reads = ev.timer.run("code_factor_mi", lambda: _code_factor_mi(ev.model, truth, codes, factors))
    return {"disentanglement": scores, "code_factor_mi": reads}


def _no_encoder(model: GenerativeModel, data: EvalData) -> str | None:
    if data.ground_truth is None:
        return f"{data.held_out.name} has no known factors (use the shapes or dsprites dataset)"
    if model.represent(data.held_out.images[:2]) is None:
        return "this model has no encoder or Q network to read codes from"
    return None


# The groups by the names config.MetricGroup allows, in the order they run and appear in eval.json.
METRIC_GROUPS: dict[MetricGroupName, MetricGroup] = {
    "codes": MetricGroup(
        "L_I per code against H(c); categorical accuracy on labelled held-out images and generation fidelity",
        lambda model, data: (
            None
            if isinstance(model, InfoGAN)
            else "L_I and categorical accuracy apply to InfoGAN models only"
        ),
        _codes,
        sharded=True,
    ),
    "quality": MetricGroup(
        "FID, KID, precision and recall (and a conditional GAN's conditional accuracy)",
        lambda model, data: None,
        _quality_group,
        sharded=True,
    ),
    "semantics": MetricGroup(
        "which image property each continuous code controls",
        lambda model, data: None if model.latent.continuous else "the model has no continuous code to sweep",
        _semantics_group,
    ),
    "disentanglement": MetricGroup(
        "MIG, DCI, SAP and the FactorVAE score on data with known factors",
        _no_encoder,
        _disentanglement_group,
    ),
}


def evaluate_model(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    *,
    baselines: bool = False,
    progress: ProgressFn = lambda _: None,
    world: World = World(),
) -> dict[str, Any]:
    """Every metric group of `cfg.metrics` (see `METRIC_GROUPS`) that applies to `model` and `data`.

    In a data-parallel run every rank calls this with its `world`: the sharded groups (L_I, sample quality) split
    their generated samples over the ranks and give rank 0 what one process would have computed; the rest run
    on rank 0. Rank 0 gets the result, the other ranks an empty dict.

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
    ev = Evaluation(model, data, cfg, progress, _Timer(), [], world)
    out: dict[str, Any] = {}
    for name, group in METRIC_GROUPS.items():
        if name not in cfg.metrics or not (world.is_main or group.sharded):
            continue
        reason = group.skip(model, data)
        if reason is not None:
            ev.notes.append(f"{name}: {reason}")
        else:
            out.update(group.run(ev))
    if not world.is_main:
        return {}
    held_out = ev.timer.run("held_out", lambda: model.held_out_metrics(data.held_out.images, cfg.batch_size))
    if held_out:
        out["held_out"] = held_out
    else:  # the model has no held-out metrics of its own
        del ev.timer.seconds["held_out"]
    if baselines:
        out["baselines"] = ev.timer.run(
            "baselines", lambda: _baselines(model, data, cfg, out, ev.reference, progress)
        )
    out["timings"] = ev.timer.seconds
    if ev.notes:
        out["notes"] = ev.notes
    return out


@dataclass
class _Reference:
    """The feature network and the features of the reference (training) images, extracted once per evaluation."""

    extract: FeatureExtractor
    features: Tensor | None  # rank 0's only in a data-parallel evaluation

    def score(self, images: Tensor, cfg: EvalConfig) -> dict[str, Any]:
        return self.score_features(self.extract(images), cfg)

    def score_features(self, fake: Tensor, cfg: EvalConfig) -> dict[str, Any]:
        assert self.features is not None
        return quality_from_features(self.features, fake, self.extract.info, k=cfg.pr_k, seed=cfg.seed)


def _reference(
    data: EvalData, cfg: EvalConfig, progress: ProgressFn, world: World = World()
) -> _Reference | None:
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
    return _Reference(extract, extract(reference_images(data.reference.images)) if world.is_main else None)


def reference_images(images: Images) -> Images:
    """The real images the quality metrics compare with: all of them, except that a dataset made when indexed
    (dSprites' 737,280) is represented by a fixed random `REFERENCE_IMAGES` of them."""
    if isinstance(images, LazyImages) and len(images) > REFERENCE_IMAGES:
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
        return images.take(order[:REFERENCE_IMAGES])
    return images


def _quality(
    model: GenerativeModel,
    reference: _Reference,
    data: EvalData,
    cfg: EvalConfig,
    progress: ProgressFn,
    world: World = World(),
) -> dict[str, Any]:
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


def _code_factor_mi(
    model: GenerativeModel, ground_truth: GroundTruthData, codes: np.ndarray, factors: np.ndarray
) -> dict[str, dict[str, float]]:
    """{code dimension: {factor: I(z_d; v_k) / H(v_k)}} on MIG's sample (`codes`, `factors`), dimensions named
    after the model's codes (a categorical code's classes as name[j]) where it has them, else z0, z1, ..."""
    matrix = normalised_mutual_info(codes, factors)
    latent = getattr(model, "latent", None)
    names = (
        [f"{c.name}[{j}]" if c.is_categorical else c.name for c in latent.codes for j in range(c.k)]
        if isinstance(latent, LatentSpec)
        else []
    )
    if len(names) != matrix.shape[0]:
        names = [f"z{d}" for d in range(matrix.shape[0])]
    return {
        name: {f: round(float(v), 4) for f, v in zip(ground_truth.factor_names, row, strict=True)}
        for name, row in zip(names, matrix, strict=True)
    }


def _disentanglement(
    model: GenerativeModel, ground_truth: GroundTruthData, cfg: EvalConfig, progress: ProgressFn
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The scores as eval.json records them, and the encoded sample MIG was computed from."""

    def represent(x: Tensor) -> Tensor:
        codes = model.represent(x.to(model.device))
        assert codes is not None
        return codes

    scores, codes, factors = scores_and_sample(
        represent,
        ground_truth,
        n_train=cfg.factor_samples,
        n_test=cfg.factor_samples // 2,
        n_train_votes=cfg.factor_votes,
        n_eval_votes=cfg.factor_votes // 2,
        dci_predictor=cfg.dci_predictor,
        seed=cfg.seed,
        progress=progress,
    )
    return {**scores, "representation": f"{type(model).__name__}.represent"}, codes, factors


def _baselines(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    done: dict[str, Any],
    reference: _Reference | None,
    progress: ProgressFn,
) -> dict[str, Any]:
    """The same metrics for held-out real images and for an untrained model of the same config (its generator for
    quality and code semantics, its Q for disentanglement and what each code reads)."""
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
        entry["disentanglement"], codes, factors = _disentanglement(
            untrained, data.ground_truth, cfg, progress
        )
        entry["code_factor_mi"] = _code_factor_mi(untrained, data.ground_truth, codes, factors)
    out["untrained"] = entry
    return out
