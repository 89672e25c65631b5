"""Unsupervised model selection by ModelCentrality (Lin et al., "InfoGAN-CR and ModelCentrality", ICML 2020,
arXiv:1906.06034, Sec. 5): among runs of one setup, pick the one whose representation agrees most with the others'.

Each run's generator is treated as data with known factors: its latent codes are the factors (a categorical code's
values, a continuous code at `bins` values spread over its prior), and its noise z is drawn afresh for each image.
Run i is scored against run j by the FactorVAE score of i's representation (Q's posterior, or the VAE's encoder
means) on images of j's generator: s(i, j). ModelCentrality of i is the mean over the other runs j of
(s(i, j) + s(j, i)) / 2, and the pick is the run with the highest. Neither labels nor the data's own factors enter:
a setup whose runs mostly find the same factors has them at its centre, and a run that found something else scores
low against all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import norm
from torch import Tensor

from infogan.errors import ConfigError, InfoganError
from infogan.evaluation.record import EvalRecord
from infogan.latent import Latent
from infogan.metrics.factor_vae import factor_vae_score
from infogan.metrics.ground_truth import Represent
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.reporting.compare import setup_of


class GeneratorFactors:
    """A trained generator seen as `GroundTruthData`: factor j is latent code j, a categorical code with its K
    values, a continuous code at `bins` values (the centres of `bins` equal-probability intervals of its prior);
    each rendered image draws its own noise z from a generator seeded once (with seed + 1, so that it is not the
    stream the factors are drawn from)."""

    def __init__(self, model: GenerativeModel, *, bins: int = 10, seed: int = 0) -> None:
        codes = model.latent.codes
        if not codes:
            raise ConfigError(
                f"ModelCentrality needs latent codes to treat as factors; {model.cfg.name} has none"
            )
        self.model = model
        self.factor_names = tuple(c.name for c in codes)
        self.factor_sizes = tuple(c.k if c.is_categorical else bins for c in codes)
        quantiles = (np.arange(bins) + 0.5) / bins
        self.values = {
            c.name: torch.tensor(
                quantiles * 2 - 1 if c.kind == "uniform" else norm.ppf(quantiles), dtype=torch.float32
            )
            for c in model.latent.continuous
        }
        self.noise = torch.Generator(model.device).manual_seed(seed + 1)

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.stack([torch.randint(k, (n,), generator=generator) for k in self.factor_sizes], dim=1)

    @torch.no_grad()
    def render(self, factors: Tensor) -> Tensor:
        spec, device = self.model.latent, self.model.device
        drawn = spec.sample(factors.shape[0], generator=self.noise, device=device)
        column = {name: factors[:, j] for j, name in enumerate(self.factor_names)}
        c_cat = (
            torch.stack([column[c.name] for c in spec.categorical], 1) if spec.categorical else drawn.c_cat
        )
        c_cont = (
            torch.stack([self.values[c.name][column[c.name]] for c in spec.continuous], 1)
            if spec.continuous
            else drawn.c_cont
        )
        images = self.model.generate(Latent(drawn.z, c_cat.to(device), c_cont.to(device)))
        return (images.cpu() + 1) / 2


class _RenderedOnce:
    """`data` whose images are rendered on the first pass and replayed on the next ones (after `rewind`): a
    FactorVAE score draws the same factors in the same order whatever it reads them with, so every run scored on
    one generator gets the very images the first one got, without running the generator again."""

    def __init__(self, data: GeneratorFactors) -> None:
        self.data = data
        self.factor_names, self.factor_sizes = data.factor_names, data.factor_sizes
        self.rendered: list[tuple[Tensor, Tensor]] = []
        self.position = 0

    def rewind(self) -> None:
        self.position = 0

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.data.sample_factors(n, generator)

    def render(self, factors: Tensor) -> Tensor:
        if self.position == len(self.rendered):
            self.rendered.append((factors, self.data.render(factors)))
        asked, images = self.rendered[self.position]
        if not torch.equal(asked, factors):
            raise RuntimeError("a FactorVAE pass asked for other factors than the pass it replays")
        self.position += 1
        return images


@dataclass(frozen=True)
class Protocol:
    """The FactorVAE protocol of each pairwise score (smaller than `infogan eval`'s: R (R - 1) scores are made)."""

    votes: int = 300  # training votes; half as many again score the classifier
    group_size: int = 64
    variance_images: int = 5_000
    bins: int = 10
    seed: int = 0


def pairwise_scores(
    models: Sequence[GenerativeModel], protocol: Protocol = Protocol(), progress: ProgressFn = lambda _: None
) -> np.ndarray:
    """(R, R) s[i, j]: the FactorVAE score of run i's representation on run j's generator; the diagonal (a run on
    its own generator), which ModelCentrality does not use, is NaN. Every run is scored on the same images of
    run j (the factor and noise draws start afresh for each), so a score does not depend on the order of the runs;
    those images are rendered once and shown to every other run."""
    n = len(models)
    scores = np.full((n, n), np.nan)
    for j, truth_model in enumerate(models):
        truth = _RenderedOnce(GeneratorFactors(truth_model, bins=protocol.bins, seed=protocol.seed))
        for i, model in enumerate(models):
            if i == j:
                continue
            truth.rewind()
            scores[i, j] = factor_vae_score(
                _represent(model),
                truth,
                n_train_votes=protocol.votes,
                n_eval_votes=max(protocol.votes // 2, 1),
                group_size=protocol.group_size,
                n_variance=protocol.variance_images,
                seed=protocol.seed,
            )
            progress(f"select: run {i + 1} on the factors of run {j + 1}: FactorVAE {scores[i, j]:.3f}")
    return scores


def model_centrality(scores: np.ndarray) -> list[float]:
    """Each run's mean symmetric score with the other runs: (s[i, j] + s[j, i]) / 2 averaged over j != i."""
    n = scores.shape[0]
    if n < 2:
        return [math.nan] * n
    symmetric = (scores + scores.T) / 2
    return [float(np.delete(symmetric[i], i).mean()) for i in range(n)]


def most_central(centrality: Sequence[float]) -> list[int]:
    """The runs with the highest ModelCentrality (more than one when they tie, up to float rounding)."""
    best = max(centrality)
    return [i for i, score in enumerate(centrality) if math.isclose(score, best, rel_tol=1e-9, abs_tol=1e-12)]


def select_runs(
    runs: Sequence[Path], protocol: Protocol = Protocol(), progress: ProgressFn = lambda _: None
) -> dict[str, Any]:
    """Load the runs (each its newest checkpoint), check they are one setup, score every pair and pick one.

    Returns:
        ``{"runs": [{"run", "model_centrality", "accuracy"?}], "pick": index, "scores": (R, R) list,
        "tied": [indices], "protocol": {...}, "notes"?: [...]}``; "accuracy" is copied from a run's eval.json
        where it has one: it only scores; "tied" lists the runs that share the highest ModelCentrality (the pick
        is the first of them); "notes" say when the pick is a tie (always so for two runs: their centralities
        are one symmetric score) and when the runs are of different setups (configs that differ in more than
        the seed and bookkeeping: a pool of setups, not seeds of one).
    """
    from infogan.runs.loaded import load_run

    if len(runs) < 2:
        raise ConfigError("select needs at least two runs of the same setup to compare")
    loaded = [load_run(run) for run in runs]
    first = loaded[0]
    for run in loaded[1:]:
        if (run.model.latent.codes, run.model.image_shape) != (
            first.model.latent.codes,
            first.model.image_shape,
        ):
            raise ConfigError(
                f"{run.dir.path} and {first.dir.path} are not one setup: their latent codes or image shapes "
                "differ, so one cannot be scored on the other's factors"
            )
    notes = []
    accuracies = []  # read before the long scoring; a run whose eval.json is unreadable shows none
    for run in loaded:
        try:
            accuracies.append(_accuracy(run.dir.eval))
        except InfoganError as exc:
            accuracies.append(None)
            notes.append(f"no accuracy shown for {run.dir.path}: {exc}")
    for run in loaded:
        run.model.eval()
    scores = pairwise_scores([run.model for run in loaded], protocol, progress)
    centrality = model_centrality(scores)
    rows = []
    for run, score, accuracy in zip(loaded, centrality, accuracies, strict=True):
        row: dict[str, Any] = {"run": str(run.dir.path), "step": run.step, "model_centrality": score}
        if accuracy is not None:
            row["accuracy"] = accuracy
        rows.append(row)
    tied = most_central(centrality)
    result: dict[str, Any] = {
        "runs": rows,
        "pick": tied[0],
        "tied": tied,
        "criterion": "ModelCentrality: mean pairwise FactorVAE score on each other's generators",
        "scores": [[None if np.isnan(s) else float(s) for s in row] for row in scores],
        "protocol": protocol.__dict__,
    }
    if len(loaded) == 2:
        notes.append(
            "with two runs both have the same ModelCentrality (it is their one symmetric score), so the pick is "
            "the first run, not a choice; ModelCentrality ranks three or more runs"
        )
    elif len(tied) > 1:
        notes.append(
            f"{len(tied)} runs share the highest ModelCentrality ({centrality[tied[0]]:.3f}); the pick is the "
            "first of them"
        )
    setups = sorted({setup_of(run.dir.path) for run in loaded})
    if len(setups) > 1:
        notes.append(
            f"the runs are of {len(setups)} setups ({', '.join(setups)}, as infogan compare groups them); "
            "ModelCentrality ranks them as one pool, so the pick is the run most like the others, whichever "
            "setup it has"
        )
    if notes:
        result["notes"] = notes
    return result


def _represent(model: GenerativeModel) -> Represent:
    def represent(x: Tensor) -> Tensor:
        if not model.encodes_images:
            raise ConfigError(
                f"ModelCentrality needs a model that reads codes from images; {model.cfg.name} has none"
            )
        return model.represent(x.to(model.device))

    return represent


def _accuracy(eval_json: Path) -> float | None:
    """c1's accuracy from a run's eval.json, if it was measured (labels score the pick, they never make it)."""
    if not eval_json.is_file():
        return None
    measured = [
        code.accuracy for code in EvalRecord.load(eval_json).codes.values() if code.accuracy is not None
    ]
    return float(measured[0]) if measured else None
