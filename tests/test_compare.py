"""infogan compare: runs side by side, grouped by setup, in the terminal and as a self-contained page."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from infogan.api import train
from infogan.config import load_preset

from .conftest import TINY, invoke


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    made = []
    for name, extra in (
        ("a", ["train.seed=0"]),
        ("b", ["train.seed=1", "train.threads=1"]),
        ("c", ["model.lambda_cont=0.5"]),
    ):
        train(load_preset("digits", [*TINY, "eval.metrics=[codes]", *extra]), folder / name, progress=quiet)
        made.append(folder / name)
    return made


def test_runs_of_one_setup_are_summarised_together(runs):
    result = invoke("compare", *map(str, runs), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    setups = {row["run"]: row["setup"] for row in data["runs"]}
    assert setups["a"] == setups["b"] != setups["c"]  # seed and threads do not make another setup
    (group,) = data["setups"]
    assert group["runs"] == ["a", "b"]
    accuracy = [row["accuracy"]["c1"] for row in data["runs"][:2]]
    assert group["summary"]["accuracy.c1"]["mean"] == pytest.approx(sum(accuracy) / 2)
    text = invoke("compare", *map(str, runs)).stdout.splitlines()
    assert text[0].startswith(f"setup {setups['a']}: 2 runs") and text[1].split()[:2] == [
        "run",
        "accuracy.c1",
    ]
    assert [line.split()[0] for line in text[2:8]] == ["a", "b", "mean", "std", "min", "median"]
    assert [line.split()[1] for line in text[2:4]] == [f"@{row['step']}" for row in data["runs"][:2]]
    assert any(line.startswith(f"setup {setups['c']}: 1 run") for line in text)


def test_the_page_has_the_table_and_every_runs_samples_inlined(runs, tmp_path):
    result = invoke("compare", *map(str, runs), "-o", str(tmp_path / "cmp"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "cmp.html").read_text()
    assert "Content-Security-Policy" in page and page.count("<figure>") == 3
    assert not re.search(r'src="(?!data:)', page)  # nothing loaded from elsewhere
    assert "Per setup" in page


def test_a_run_without_an_evaluation_is_left_out_with_a_note(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.yaml").write_text((runs[0] / "config.yaml").read_text())
    result = invoke("compare", str(runs[0]), str(tmp_path / "empty"))
    assert result.returncode == 0, result.stderr
    assert (
        f"note: {tmp_path / 'empty'} is left out: it has no eval.json (infogan eval {tmp_path / 'empty'} writes it)"
        in result.stderr
    )
    assert runs[0].name in result.stdout and "empty" not in result.stdout
    alone = invoke("compare", str(tmp_path / "empty"))
    assert alone.returncode == 2 and "none of the runs is evaluated" in alone.stderr


def test_a_run_given_twice_is_refused(runs):
    result = invoke("compare", str(runs[0]), str(runs[1]), str(runs[0] / ".." / runs[0].name))
    assert result.returncode == 2 and "is given twice" in result.stderr, result.stderr


def test_minutes_and_fid_are_not_shown_to_four_decimals():
    from infogan.reporting.compare import runs_table

    row = {"run": "a", "accuracy": {"c1": 0.87412}, "fid": 4.61278, "train_minutes": 24.7}
    header, line = runs_table([row], label=lambda r: r["run"])
    assert header.split()[1:4] == ["accuracy.c1", "fid", "train_minutes"]
    assert line.split()[1:4] == ["0.8741", "4.61", "24.7"]
    summary = {"fid": {"mean": 4.61278, "std": 0.0041, "min": 4.6, "median": 4.61278}}
    std = runs_table([row], label=lambda r: r["run"], summary=summary)[3]
    assert std.split() == ["std", "0.0041"]  # a small spread is not shown as 0.00


def test_a_torn_last_log_line_does_not_hide_the_training_time(tmp_path):
    from infogan.reporting.compare import run_row

    (tmp_path / "eval.json").write_text(json.dumps({"step": 20, "codes": {}}))
    rows = [{"step": 10, "elapsed_s": 600.0}, {"step": 20, "elapsed_s": 1482.0}]
    text = "".join(json.dumps(r) + "\n" for r in rows) + '{"step": 30, "elap'  # killed mid-write
    (tmp_path / "metrics.jsonl").write_text(text)
    assert run_row(tmp_path)["train_minutes"] == 24.7


def test_branched_seeds_are_one_setup(tmp_path):
    from infogan.reporting.compare import setup_of

    for seed in (0, 1):
        config = {
            "preset": "dsprites-cr",
            "model": {"cr_weight": 2.0},
            "train": {"seed": seed, "branch_from": f"runs/dsprites-s{seed}/checkpoints/step-9000"},
        }
        (tmp_path / f"s{seed}").mkdir()
        (tmp_path / f"s{seed}" / "config.yaml").write_text(yaml.safe_dump(config))
    assert setup_of(tmp_path / "s0") == setup_of(tmp_path / "s1")
    config["model"]["cr_weight"] = 0.0
    (tmp_path / "s1" / "config.yaml").write_text(yaml.safe_dump(config))
    assert setup_of(tmp_path / "s0") != setup_of(tmp_path / "s1")


def test_each_model_s_own_figures_have_columns(tmp_path):
    from infogan.reporting.compare import compare, runs_table

    disentanglement = {
        "mig": 0.1,
        "dci_disentanglement": 0.05,
        "sap": 0.06,
        "factorvae": 0.7,
        "representation": "x",
    }
    evaluations = {
        "vae0": {
            "step": 9,
            "held_out": {"elbo": -101.5, "kl": 18.0, "active_units": 6},
            "disentanglement": disentanglement,
        },
        "vae1": {"step": 9, "heldout": {"elbo": -99.5, "active_units": 8}},  # the older spelling of held_out
        "cgan": {"step": 9, "conditional_accuracy": 0.985},
    }
    for name, evaluation in evaluations.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "eval.json").write_text(json.dumps(evaluation))
    rows = compare([tmp_path / name for name in evaluations])["runs"]
    assert [(r.get("elbo"), r.get("active_units"), r.get("dci")) for r in rows] == [
        (-101.5, 6.0, 0.05),
        (-99.5, 8.0, None),
        (None, None, None),
    ]
    assert rows[2]["conditional_accuracy"] == 0.985
    header, vae0 = runs_table(rows, label=lambda r: r["run"])[:2]
    assert header.split()[1:8] == [
        "elbo",
        "active_units",
        "mig",
        "dci",
        "sap",
        "factorvae",
        "conditional_accuracy",
    ]
    assert vae0.split()[1:3] == ["-101.50", "6.0"]
