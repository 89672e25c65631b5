"""What a model's figures are measured against (`infogan eval --baselines`): held-out real images, the best a
generator could score, and an untrained model of the same config, what a generator that learnt nothing scores."""

from __future__ import annotations

from typing import Any

import torch

from infogan.config import EvalConfig
from infogan.evaluation.data import EvalData
from infogan.evaluation.disentanglement import code_factor_mi, evaluate_disentanglement
from infogan.evaluation.quality import Reference, evaluate_quality, generate_images
from infogan.evaluation.semantics import evaluate_semantics
from infogan.models import GenerativeModel, build_model
from infogan.progress import ProgressFn


def evaluate_baselines(
    model: GenerativeModel,
    data: EvalData,
    cfg: EvalConfig,
    done: dict[str, Any],
    reference: Reference | None,
    progress: ProgressFn,
) -> dict[str, Any]:
    """The metrics `done` holds (the evaluation so far) for held-out real images and for an untrained model of the
    same config: its generator for quality and code semantics, its Q for disentanglement and what each code reads.

    Returns:
        ``{"held_out"?, "model_at_held_out_count"?, "untrained"}``; the first two where `reference` (the quality
        group's feature network) exists.
    """
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
        entry.update(evaluate_quality(untrained, reference, data, cfg, progress))
    if "code_semantics" in done:
        entry["code_semantics"] = evaluate_semantics(untrained, cfg)
    if "disentanglement" in done and data.ground_truth is not None:
        progress("eval: baseline - disentanglement of the untrained Q")
        entry["disentanglement"], codes, factors = evaluate_disentanglement(
            untrained, data.ground_truth, cfg, progress
        )
        entry["code_factor_mi"] = code_factor_mi(untrained, data.ground_truth, codes, factors)
    out["untrained"] = entry
    return out
