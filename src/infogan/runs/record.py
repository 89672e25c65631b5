"""What a run directory holds, read for a report: config, training log, eval.json, sample grids and traversals.

Every piece may be missing or written by another version of the project; reading never fails on content, only on a
path that is not a run directory. eval.json is read through its one model (evaluation/record.py), which keeps keys
it does not declare; a file it cannot read is reported as unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infogan.errors import CheckpointError, ConfigError
from infogan.evaluation.record import EvalRecord
from infogan.latent import LatentSpec
from infogan.runs.directory import RunDir
from infogan.training.checkpoint import read_manifest
from infogan.viz.plots import Series


@dataclass
class RunRecord:
    """What a report shows, read from a run directory.

    Attributes:
        run: the run directory.
        config_text: config.yaml as written.
        config: config.yaml parsed as plain YAML ({} if it does not parse).
        metrics: the rows of metrics.jsonl that parse, in order.
        evaluation: eval.json, or None when it is missing or unreadable.
        eval_problem: why eval.json is missing or unreadable, or None.
        samples: the PNG grids in samples/, oldest first.
        traversals: code -> traversal-<code>.png.
        step: the step the run has reached (newest checkpoint or log row), or None.
    """

    run: RunDir
    config_text: str
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    evaluation: EvalRecord | None
    eval_problem: str | None
    samples: list[Path]
    traversals: dict[str, Path]
    step: int | None


def natural_key(text: str) -> list[Any]:
    """Sort key where c2 < c10 and step-3 < step-12."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def find_run(path: Path) -> RunDir:
    """The run directory at `path`, or the one holding the checkpoint folder `path`.

    Raises:
        CheckpointError: `path` does not exist or holds no run (no config.yaml).
    """
    if not path.exists():
        raise CheckpointError(f"run directory {path} does not exist")
    if path.parent.name == "checkpoints" and read_manifest(path) is not None:
        path = path.parent.parent
    run = RunDir(path)
    if not run.config.is_file():
        raise CheckpointError(f"{path} is not a run directory (no config.yaml)")
    return run


def _read_eval(path: Path) -> tuple[EvalRecord | None, str | None]:
    if not path.is_file():
        return None, "missing"
    try:
        return EvalRecord.load(path), None
    except CheckpointError as exc:  # a report shows what it can: the problem goes on the page
        return None, f"unreadable ({exc})"


def read_run(path: Path) -> RunRecord:
    """Read everything a report shows from a run directory; missing pieces are left empty."""
    run = find_run(path)
    config_text = run.config.read_text()
    try:
        config = yaml.safe_load(config_text)
    except yaml.YAMLError:
        config = None
    metrics = run.logged()
    evaluation, problem = _read_eval(run.eval)
    samples = sorted(run.samples.glob("*.png"), key=lambda p: natural_key(p.name))
    traversals = {p.stem.removeprefix("traversal-"): p for p in run.path.glob("traversal-*.png")}
    checkpoint = run.latest_checkpoint()
    manifest = read_manifest(checkpoint) if checkpoint else None
    steps = [int(manifest["step"])] if manifest else []
    steps += [int(metrics[-1]["step"])] if metrics else []
    return RunRecord(
        run=run,
        config_text=config_text,
        config=config if isinstance(config, dict) else {},
        metrics=metrics,
        evaluation=evaluation,
        eval_problem=problem,
        samples=samples,
        traversals=dict(sorted(traversals.items(), key=lambda item: natural_key(item[0]))),
        step=max(steps) if steps else None,
    )


def lookup(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a key is missing or a level is not a mapping."""
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def metric_series(rows: Sequence[Mapping[str, Any]]) -> dict[str, Series]:
    """Logged quantity -> (steps, values), for every numeric key of metrics.jsonl."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for row in rows:
        for key, value in row.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                steps, values = out.setdefault(key, ([], []))
                steps.append(row["step"])
                values.append(value)
    return dict(out)


def _latent_spec(config: Mapping[str, Any]) -> LatentSpec | None:
    latent = lookup(config, "model", "latent")
    if not isinstance(latent, Mapping):
        return None
    try:
        return LatentSpec.parse(int(latent.get("noise", 0)), list(latent.get("codes", [])))
    except (ConfigError, TypeError, ValueError):  # a config written by a version with other code kinds
        return None


def code_entries(record: RunRecord) -> dict[str, dict[str, Any]]:
    """Code name -> ``{"type", "k" or "prior", "entropy", ...}``: the config's latent spec, then eval.json's entry
    for the code on top (so a run that was never evaluated still lists its codes and their H(c)), with every key
    the entry holds, declared or not, for a report that shows them all."""
    entries: dict[str, dict[str, Any]] = {}
    spec = _latent_spec(record.config)
    for code in spec.codes if spec else ():
        kind = (
            {"type": "categorical", "k": code.k}
            if code.is_categorical
            else {"type": "continuous", "prior": code.kind}
        )
        entries[code.name] = {**kind, "entropy": code.entropy}
    for name, entry in record.evaluation.codes.items() if record.evaluation is not None else ():
        entries.setdefault(name, {}).update(entry.to_dict())
    return entries


def code_label(entry: Mapping[str, Any]) -> str:
    """A short description of a code: ``categorical, K=10`` or ``continuous, uniform``."""
    if entry.get("type") == "categorical":
        return f"categorical, K={entry.get('k')}"
    prior = entry.get("prior")
    return f"{entry.get('type', 'code')}, {prior}" if prior else str(entry.get("type", "code"))
