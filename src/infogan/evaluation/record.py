"""eval.json, the record of a run's evaluation (docs/evaluation.md, JSON keys): the one typed model that the
evaluation writes and that every reader reads.

Every level keeps the keys it does not declare (a newer metric group's figures, an older file's spelling), after
the declared ones, and a record gives back exactly the keys it was given: `to_dict` of a fresh evaluation is the
JSON that evaluation produced, key for key and in the same order. Imports neither torch nor the models, so reading
an eval.json stays cheap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infogan.errors import CheckpointError
from infogan.files import write_text_atomic

# eval.json's sample-quality figures, in the order the evaluation writes them (metrics/quality.py).
QUALITY_FIGURES = ("fid", "kid", "kid_std", "precision", "recall")


class Section(BaseModel):
    """A part of eval.json; keys it does not declare are kept."""

    model_config = ConfigDict(extra="allow")

    def to_dict(self) -> dict[str, Any]:
        """The section as eval.json holds it: the keys it was given, the declared ones first."""
        return self.model_dump(exclude_unset=True)


class FeatureNetwork(Section):
    """The network a sample-quality figure or generation fidelity was measured with (evaluation/features.py),
    and the image counts behind the figures."""

    network: str
    dataset: str | None = None
    image_shape: list[int] | None = None
    num_classes: int | None = None
    seed: int | None = None
    steps: int | None = None
    train_images: int | None = None
    test_images: int | None = None
    test_accuracy: float | None = None
    weights: str | None = None
    feature_dim: int | None = None
    n_real: int | None = None
    n_fake: int | None = None
    n_precision_recall: int | None = None
    k: int | None = None
    reference: str | None = None


class CodeEntry(Section):
    """What one code captures (evaluation/codes.py): L_I against H(c); for a categorical code, how Q spreads real
    images over its categories, their matched accuracy and the generation fidelity of each category."""

    type: Literal["categorical", "continuous"]
    k: int | None = None
    prior: str | None = None
    entropy: float
    mi_lower_bound: float
    mi_lower_bound_batch_stats: float | None = None
    usage: list[float] | None = None
    usage_entropy: float | None = None
    accuracy: float | None = None
    confusion: list[list[int]] | None = None
    mapping: list[int] | None = None
    fidelity: float | None = None
    fidelity_per_category: list[float | None] | None = None
    fidelity_samples: int | None = None
    fidelity_classifier: FeatureNetwork | None = None


class CodeEffect(Section):
    """The image property a continuous code controls (metrics/code_semantics.py): NaN where undefined."""

    property: str | None
    spearman: float
    table: dict[str, float]


class Disentanglement(Section):
    """MIG, DCI, SAP and the FactorVAE score (metrics/disentanglement.py), each in [0, 1], and how they were
    measured."""

    mig: float | None = None
    dci_disentanglement: float | None = None
    dci_completeness: float | None = None
    dci_informativeness: float | None = None
    sap: float | None = None
    sap_correlation: float | None = None
    sap_bins: float | None = None
    factorvae: float | None = None
    factorvae_se: float | None = None
    factorvae_votes: list[int] | None = None
    factorvae_protocol: str | None = None
    dci_predictor: str | None = None
    representation: str | None = None

    def scores(self) -> dict[str, float]:
        """Every score (and standard error) the section holds, in its order."""
        return {key: value for key, value in self.to_dict().items() if isinstance(value, float)}


class SampleQuality(Section):
    """FID, KID and precision/recall in one feature space (evaluation/quality.py)."""

    fid: float | None = None
    kid: float | None = None
    kid_std: float | None = None
    precision: float | None = None
    recall: float | None = None
    features: FeatureNetwork | None = None


class UntrainedBaseline(SampleQuality):
    """An untrained model of the run's config, scored as the run was: what a model that learnt nothing scores."""

    code_semantics: dict[str, CodeEffect] = Field(default_factory=dict)
    disentanglement: Disentanglement | None = None
    code_factor_mi: dict[str, dict[str, float]] = Field(default_factory=dict)


class Baselines(Section):
    """`infogan eval --baselines` (evaluation/baselines.py): the real-data floor, the model at the floor's image
    count, and an untrained model."""

    held_out: SampleQuality | None = None
    model_at_held_out_count: SampleQuality | None = None
    untrained: UntrainedBaseline | None = None


class EvalRecord(Section):
    """eval.json: which weights were evaluated on which images, then each metric group's keys in the order the
    groups run (evaluation/groups.py), the model's own held-out figures, the baselines, timings and notes."""

    step: int | None = None
    # the steps whose weights were averaged into the evaluated checkpoint (`infogan average`)
    averaged_steps: list[int] | None = None
    dataset: str | None = None
    split: str | None = None
    n_eval: int | None = None
    mi_samples: int | None = None
    codes: dict[str, CodeEntry] = Field(default_factory=dict)
    # SampleQuality's fields, here rather than inherited: eval.json has them between the groups' keys
    fid: float | None = None
    kid: float | None = None
    kid_std: float | None = None
    precision: float | None = None
    recall: float | None = None
    features: FeatureNetwork | None = None
    conditional_accuracy: float | None = None
    code_semantics: dict[str, CodeEffect] = Field(default_factory=dict)
    disentanglement: Disentanglement | None = None
    code_factor_mi: dict[str, dict[str, float]] = Field(default_factory=dict)
    # a model's own figures on the held-out images, e.g. a VAE's ELBO and active units (an int)
    held_out: dict[str, float | int] | None = None
    baselines: Baselines | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def held_out_figures(self) -> dict[str, float | int]:
        """The model's own held-out figures, or {}; also from files written before the key became "held_out"
        (it was "heldout")."""
        if self.held_out is not None:
            return self.held_out
        older = (self.model_extra or {}).get("heldout")
        return dict(older) if isinstance(older, dict) else {}

    def matched_labels(self) -> dict[str, list[int]]:
        """For each categorical code matched to labels, the label each of its categories was matched to."""
        return {name: entry.mapping for name, entry in self.codes.items() if entry.mapping is not None}

    @classmethod
    def load(cls, path: Path) -> EvalRecord:
        """Read an eval.json.

        Raises:
            CheckpointError: the file is missing, is not JSON, or does not hold an evaluation; one line naming it.
        """
        anew = "infogan eval RUN writes RUN/eval.json anew"
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise CheckpointError(f"{path} does not exist; infogan eval RUN writes RUN/eval.json") from None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is not readable JSON ({exc}); {anew}") from None
        if not isinstance(raw, dict):
            raise CheckpointError(
                f"{path} holds a JSON {type(raw).__name__}, not an evaluation record; {anew}"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = _problems(exc).replace("\n", " ")
            raise CheckpointError(f"{path} is not an evaluation record ({problems}); {anew}") from None

    def write(self, path: Path) -> None:
        """Write the record to `path` as indented JSON, atomically (a crash leaves the old file or the new)."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1))


def quality_figures(section: SampleQuality | EvalRecord) -> dict[str, float]:
    """The sample-quality figures (`QUALITY_FIGURES`) a record or a baseline holds, in that order."""
    values = {name: getattr(section, name) for name in QUALITY_FIGURES}
    return {name: value for name, value in values.items() if value is not None}


def _problems(exc: ValidationError, shown: int = 3) -> str:
    """pydantic's report as one line: where and what, for the first `shown` problems."""
    problems = [f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors()[:shown]]
    more = exc.error_count() - shown
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
