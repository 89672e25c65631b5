"""Run configuration: pydantic models, YAML presets and ``--set a.b=value`` overrides.

A `RunConfig` has four sections: data, model (validated by the registered model's own config class), train, eval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import Field, SerializeAsAny, ValidationError, field_validator, model_validator

from infogan.config_base import ModelConfig, StrictModel
from infogan.errors import ConfigError
from infogan.metric_groups import METRIC_GROUP_NAMES, MetricGroup

# The images a run can be scored on: a dataset's training and test files, the validation images (a fixed part of the
# training file, for datasets that define one: data/base.py, `ImageSource.validation_size`) and both files together.
DataSplit = Literal["train", "val", "test", "all"]


class DataConfig(StrictModel):
    """Which dataset, where its files are, and the image shape the model sees."""

    name: str = "mnist"
    root: str | None = None
    # Dataset to use instead when `name` is not available on this machine (the run records which one it used).
    fallback: str | None = None
    download: bool = False
    image_size: int | None = Field(None, gt=0)
    channels: int | None = Field(None, gt=0)
    # How image folders (`folder:PATH`) are brought to a square: crop the central square, or squash the whole.
    crop: Literal["center-crop", "resize"] = "center-crop"
    # Stop on the first bad file in an image folder instead of skipping it with a report.
    strict: bool = False


class TrainConfig(StrictModel):
    """The training loop's budget and bookkeeping."""

    steps: int = Field(5000, ge=1)  # 0 would leave an untrained model without a checkpoint
    # A wall-time budget: training ends at the first step by which this many minutes of training (summed over
    # resumes, evaluation excluded) have passed, or after `steps`, whichever comes first.
    minutes: float | None = Field(None, gt=0)
    batch_size: int = Field(128, ge=2)  # batch norm needs two or more images per batch
    seed: int = Field(0, ge=0, le=2**32 - 1)  # numpy's range, which every library here accepts
    device: str = "cpu"
    threads: int | None = Field(None, gt=0)
    # Arithmetic of the training step's forward passes (training/precision.py); fp16 needs CUDA; auto is bf16
    # where the CPU or GPU computes it natively, fp32 elsewhere.
    precision: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"
    # Ranks of a data-parallel run, recorded from torchrun's environment (training/distributed.py), not set by
    # hand: batch_size is per rank, the global batch is world_size x batch_size.
    world_size: int = Field(1, ge=1)
    # Batch norm over the global batch (PyTorch's SyncBatchNorm, CUDA only) instead of each rank's share.
    sync_bn: bool = False
    log_every: int = Field(50, gt=0)
    sample_every: int = Field(500, gt=0)
    checkpoint_every: int = Field(1000, gt=0)
    keep_last: int = Field(3, gt=0)
    # A NaN or infinite loss or gradient: "stop" keeps the last good checkpoint and exits with an error;
    # "rollback" reloads it (or the initial weights) and retries with a new training seed, at most max_retries times.
    on_nonfinite: Literal["stop", "rollback"] = "stop"
    max_retries: int = Field(3, ge=0)
    # Check at every log step whether G's output still varies with z and with each code (a warning, not a stop).
    collapse_check: bool = True
    # Evaluate the run when training ends (eval.json); `infogan eval RUN` does it later when this is off.
    evaluate: bool = True
    # A checkpoint of another run (or a run directory: its newest checkpoint) to start this run from instead of
    # step 0: its weights, optimiser states, random generators and step. Networks this model has and the
    # checkpoint lacks (InfoGAN-CR's H after an InfoGAN run) start as at step 0. Used only while the run has no
    # checkpoint of its own.
    branch_from: str | None = None


# Keys of a run's bookkeeping, not of what it trains: the log, sample and checkpoint schedule, what a NaN does, the
# collapse check, the evaluation at the end, the threads and device it runs on, where its data is found, and the
# checkpoint it started from (each seed of a branched setup starts from its own parent's). The one list of them:
# runs differing only in these are seeds of one setup (reporting/compare.py), and a resumed run may change them.
BOOKKEEPING_KEYS = frozenset(
    {
        *(
            f"train.{key}"
            for key in (
                "log_every",
                "sample_every",
                "checkpoint_every",
                "keep_last",
                "on_nonfinite",
                "max_retries",
                "collapse_check",
                "evaluate",
                "threads",
                "device",
                "branch_from",
            )
        ),
        "data.root",
        "data.fallback",
        "data.download",
    }
)
# Keys a resumed run may change: the bookkeeping and the budget. Threads and device change only how floating-point
# sums round, so a run continued on other threads or another device is no longer bit for bit the uninterrupted one
# (docs/reliability.md); the world size (torchrun's process count) changes the global batch, which the trainer says
# when it resumes.
RESUMABLE_KEYS = BOOKKEEPING_KEYS | {"train.steps", "train.minutes", "train.world_size"}
# Of those, the ones after which a continued run rounds differently from an uninterrupted one.
ROUNDING_KEYS = frozenset({"train.threads", "train.device"})


def config_differences(saved: Any, here: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, saved value, current value) for every leaf where two JSON-like config trees differ."""
    if isinstance(saved, Mapping) and isinstance(here, Mapping):
        keys = sorted(set(saved) | set(here))
        return [d for k in keys for d in config_differences(saved.get(k), here.get(k), f"{prefix}{k}.")]
    return [] if saved == here else [(prefix.rstrip("."), saved, here)]


class EvalConfig(StrictModel):
    """How runs are evaluated (see docs/evaluation.md).

    `metrics` names the groups `infogan eval` computes, each where it applies (evaluation/groups.py says what
    each computes).
    """

    # Choices are made on "val"; "test" is scored once per reported table.
    split: DataSplit = "test"
    metrics: list[MetricGroup] = Field(default_factory=lambda: list(METRIC_GROUP_NAMES))
    mi_samples: int = Field(10_000, ge=2)  # Q's batch norm on batch statistics needs two images or more
    # Generation fidelity of each categorical code: images generated per category (metrics/generation_fidelity.py).
    fidelity_samples: int = Field(1000, gt=0)
    batch_size: int = Field(500, ge=2)  # as mi_samples
    seed: int = 1234
    traverse_range: tuple[float, float] = (-2.0, 2.0)
    traverse_steps: int = Field(10, ge=2)
    # Sample quality: generated images scored against the dataset's training split in a feature space.
    fid_samples: int = Field(10_000, ge=4)
    features: Literal["classifier", "inception"] = "classifier"
    inception_weights: str | None = None
    feature_steps: int = Field(500, gt=0)
    feature_seed: int = 0
    feature_cache: str = "~/.cache/infogan/features"
    pr_k: int = Field(3, gt=0)
    # Code semantics: each continuous code swept over `semantics_range` in `semantics_steps` values, other inputs
    # fixed, for `semantics_draws` draws of them.
    semantics_draws: int = Field(200, ge=2)
    semantics_steps: int = Field(11, ge=3)
    semantics_range: tuple[float, float] = (-1.0, 1.0)
    # Disentanglement: factor rows sampled for MIG/DCI/SAP (half as many again held out), FactorVAE votes (half as
    # many again to score; fewer than disentanglement_lib's 10,000 are a quick look, and eval.json says so), DCI's
    # classifiers (disentanglement_lib's gradient-boosted trees, or a faster random forest); see
    # metrics/disentanglement.py.
    factor_samples: int = Field(10_000, ge=100)
    factor_votes: int = Field(10_000, ge=2)
    dci_predictor: Literal["gbt", "forest"] = "gbt"


class RunConfig(StrictModel):
    """Everything a run needs; written to ``runs/<name>/config.yaml`` resolved."""

    preset: str = "mnist"
    data: DataConfig = DataConfig()
    model: SerializeAsAny[ModelConfig]
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    @field_validator("model", mode="before")
    @classmethod
    def _model_from_registry(cls, value: Any) -> Any:
        if isinstance(value, ModelConfig):
            return value
        if not isinstance(value, Mapping):
            raise ValueError("must be a mapping with a 'name' key")
        name = value.get("name", "infogan")
        # The registry imports every model; importing it here, not at the top, lets the data layer read
        # DataConfig without importing them.
        from infogan.models import MODELS

        if name not in MODELS:
            raise ValueError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        return MODELS[name].Config.model_validate(dict(value))

    @model_validator(mode="after")
    def _model_schedule_fits_the_steps(self) -> RunConfig:
        self.model.check_steps(self.train.steps)
        return self


Section = TypeVar("Section", bound=StrictModel)


# --- presets ---------------------------------------------------------------------------------------------------
def preset_names() -> list[str]:
    """Names of the presets shipped with the package."""
    folder = resources.files("infogan") / "configs"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def preset_text(name: str) -> str:
    """The YAML of a shipped preset, or of a YAML file if `name` is a path."""
    path = Path(name)
    if name.endswith((".yaml", ".yml")):
        if not path.is_file():
            raise ConfigError(f"preset file {path} does not exist")
        return path.read_text()
    resource = resources.files("infogan") / "configs" / f"{name}.yaml"
    if not resource.is_file():
        raise ConfigError(
            f"unknown preset '{name}' (known: {', '.join(preset_names())}; or give a .yaml path)"
        )
    return resource.read_text()


def load_preset(
    name: str, overrides: Iterable[str] = (), typed: Mapping[str, str] | None = None
) -> RunConfig:
    """Build a `RunConfig` from a preset (name or YAML path) and ``key.path=value`` overrides."""
    try:
        raw = yaml.safe_load(preset_text(name)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"preset {name} is not valid YAML: {exc}".replace("\n", " ")) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"preset {name} must be a YAML mapping")
    raw.setdefault("preset", Path(name).stem if name.endswith((".yaml", ".yml")) else name)
    cfg = validate(raw, f"preset {name}")
    return apply_overrides(cfg, overrides, typed)


def validate(raw: Mapping[str, Any], where: str) -> RunConfig:
    """Validate a raw mapping as a `RunConfig`, turning pydantic's report into one line."""
    return validate_as(RunConfig, raw, where)


def validate_as(schema: type[Section], raw: Mapping[str, Any], where: str) -> Section:
    """Validate a raw mapping as `schema` (a config or one of its sections); errors become one `ConfigError` line."""
    try:
        return schema.model_validate(dict(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(
                (f"{loc}: {msg}" if loc else msg)  # no location: a check across sections
                + (
                    f" (got {err['input']!r})"
                    # a whole section (a check across its keys) is not worth echoing back
                    if err["type"] not in ("missing", "extra_forbidden")
                    and not isinstance(err["input"], Mapping)
                    else ""
                )
            )
        raise ConfigError(f"bad config in {where}: " + "; ".join(problems)) from None


def apply_overrides(
    cfg: RunConfig, overrides: Iterable[str], typed: Mapping[str, str] | None = None
) -> RunConfig:
    """Apply ``a.b=value`` overrides (values parsed as YAML) and re-validate.

    Every key must already exist in the resolved config, so a typo is an error rather than a silent no-op. A bad
    value is reported with the overrides it comes from only, as the user typed them: `typed` maps a key to the
    command-line flag that set it (e.g. ``{"train.steps": "--steps -5"}``); other keys show as ``--set a.b=v``.
    """
    overrides = list(overrides)
    if not overrides:
        return cfg
    raw = cfg.model_dump(mode="json")
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"bad --set '{item}': expected key.path=value, e.g. train.steps=1000")
        parts = key.strip().split(".")
        node: Any = raw
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                prefix = ".".join(parts[:depth]) or "the top level"
                known = ", ".join(node) if isinstance(node, dict) else "none (not a section)"
                raise ConfigError(
                    f"bad --set '{item}': unknown key '{key.strip()}' (keys under {prefix}: {known})"
                )
            if depth < len(parts) - 1:
                node = node[part]
        try:
            node[parts[-1]] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            node[parts[-1]] = text
    try:
        return validate(raw, "the command line")
    except ConfigError as exc:
        raise ConfigError(
            str(exc).replace("the command line", _culprits(str(exc), overrides, typed or {}), 1)
        ) from None


def _culprits(message: str, overrides: list[str], typed: Mapping[str, str]) -> str:
    """The overrides a validation message is about (those whose key, or a section holding it, it names as a
    location, or whose key it names in its text), as the user typed them; all of them when it names none."""
    pairs = [(item.partition("=")[0].strip(), item) for item in overrides]

    def named(key: str) -> bool:
        parts = key.split(".")
        located = any(f"{'.'.join(parts[:n])}:" in message for n in range(len(parts), 0, -1))
        return located or f"{key} " in message

    chosen = [pair for pair in pairs if named(pair[0])] or pairs
    return ", ".join(dict.fromkeys(typed.get(key, f"--set {item}") for key, item in chosen))


def load_config_file(path: Path) -> RunConfig:
    """Read a resolved ``config.yaml`` from a run directory."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}".replace("\n", " ")) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} is not a YAML mapping")
    return validate(raw, str(path))


def dump_config(cfg: RunConfig) -> str:
    """The config as YAML, keys in declaration order."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
