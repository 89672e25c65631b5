"""`infogan eval`: the metrics of a run, as a summary or one JSON object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from infogan.cli.application import app
from infogan.cli.common import output_file
from infogan.errors import ConfigError
from infogan.metric_groups import METRIC_GROUP_NAMES
from infogan.progress import progress_to_stderr

if TYPE_CHECKING:
    from infogan.config import EvalConfig

# The metric groups' names, as the config allows them; evaluation/groups.py's METRIC_GROUPS says what each
# computes (importing it here would load torch for `--help`).
GROUPS: tuple[str, ...] = METRIC_GROUP_NAMES


def _eval_overrides(cfg: EvalConfig, values: dict[str, Any]) -> EvalConfig:
    """The run's eval config with the options the user gave, validated into one error line if bad."""
    from infogan.config import EvalConfig, validate_as

    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return cfg
    raw = {**cfg.model_dump(mode="json"), **given}
    return validate_as(EvalConfig, raw, "the eval options")


def _parse_metrics(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown or not names:
        raise ConfigError(f"bad --metrics '{text}': choose from {', '.join(GROUPS)} (comma-separated)")
    return names


@app.command("eval", short_help="Evaluate a run: L_I, accuracy, fidelity, FID, codes, scores.")
def evaluate(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory, or a checkpoint folder inside one."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Evaluate on this dataset [default: the run's own dataset]."
    ),
    data_root: str | None = typer.Option(None, "--data-root", help="Folder holding the dataset's files."),
    split: str | None = typer.Option(
        None,
        "--split",
        help="Real images to score on: test, val (a fixed part of the training file: MNIST's last 10,000 "
        "training digits; make choices on it), train, or all (train and test) [default: the run's, test].",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on stdout."),
    metrics: str | None = typer.Option(
        None,
        "--metrics",
        help=f"Comma-separated groups: {', '.join(GROUPS)} [default: all that apply].",
    ),
    mi_samples: int | None = typer.Option(
        None, "--mi-samples", help="Generated samples for L_I [default: the run's, 10,000]."
    ),
    fidelity_samples: int | None = typer.Option(
        None,
        "--fidelity-samples",
        help="Generated images per category for generation fidelity [default: the run's, 1,000].",
    ),
    fid_samples: int | None = typer.Option(
        None, "--fid-samples", help="Generated samples for FID/KID/precision/recall [default: 10,000]."
    ),
    fid_features: str | None = typer.Option(
        None,
        "--fid-features",
        help="Feature space: classifier (trained by infogan on the dataset, cached) or inception [default: classifier].",
    ),
    fid_weights: str | None = typer.Option(
        None, "--fid-weights", help="Inception-v3 weights file (torch-fidelity's pt_inception-2015-12-05)."
    ),
    semantics_draws: int | None = typer.Option(
        None, "--semantics-draws", help="Noise draws per continuous-code sweep [default: 200]."
    ),
    factor_samples: int | None = typer.Option(
        None, "--factor-samples", help="Factor rows for the disentanglement metrics [default: 10,000]."
    ),
    factor_votes: int | None = typer.Option(
        None,
        "--factor-votes",
        help="FactorVAE training votes, half as many scored [default: disentanglement_lib's 10,000; fewer are a "
        "quick look, marked so in the JSON].",
    ),
    baselines: bool = typer.Option(
        False,
        "--baselines",
        help="Also score held-out real images (the floor) and an untrained generator (the ceiling).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Also write the JSON to this file [the run's own evaluation (its newest checkpoint, dataset and eval "
        "settings) is always saved as RUN/eval.json, which compare, report and explore read].",
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Evaluate a run: L_I and accuracy per code, FID/KID/precision/recall, what each continuous code controls,
    and disentanglement scores on data with known factors. Progress goes to stderr."""
    from infogan.api import load_run
    from infogan.cli.summary import summary_lines
    from infogan.evaluation.record import EvalRecord
    from infogan.training.checkpoint import read_manifest

    if output is not None:
        output = output_file(output)
    if data_root is not None and not Path(data_root).expanduser().exists():
        raise ConfigError(f"data root {data_root} does not exist")
    loaded = load_run(run, device=device)
    own_config = loaded.config.eval
    loaded.config.eval = _eval_overrides(
        loaded.config.eval,
        {
            "split": split,
            "metrics": _parse_metrics(metrics),
            "mi_samples": mi_samples,
            "fidelity_samples": fidelity_samples,
            "fid_samples": fid_samples,
            "features": fid_features,
            "inception_weights": fid_weights,
            "semantics_draws": semantics_draws,
            "factor_samples": factor_samples,
            "factor_votes": factor_votes,
        },
    )
    result = loaded.evaluate(
        dataset=dataset, data_root=data_root, baselines=baselines, progress=progress_to_stderr
    )
    record = EvalRecord.model_validate(result)
    if output is not None:
        record.write(output)
    # Saved as the run's eval.json only when it is the run's own evaluation, the one training ends with: its
    # newest checkpoint, dataset and eval settings; a partial or different one never replaces it.
    changed = [key for key, value in loaded.config.eval if value != getattr(own_config, key)]
    if read_manifest(run) is None and dataset is None and not changed:
        record.write(loaded.dir.eval)
        loaded.write_traversals()  # their categories now labelled with the digits they were matched to
        progress_to_stderr(f"evaluation written to {loaded.dir.eval}; traversal figures redrawn")
    elif output is None:
        what = (
            f"dataset {dataset}"
            if dataset is not None
            else f"checkpoint {run.name}"
            if read_manifest(run) is not None
            else f"other settings: {', '.join(changed)}"
        )
        progress_to_stderr(f"not saved as the run's eval.json (an evaluation with {what}); -o FILE saves it")
    if as_json:
        typer.echo(json.dumps(result))
        return
    for line in summary_lines(record):
        typer.echo(line)
