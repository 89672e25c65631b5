"""Every results table in the docs is what its committed raw results give (benchmarks/tables.py), and the
command recorded with a run's results trains that run's config (benchmarks/score_runs.py)."""

from __future__ import annotations

import itertools
import json
import shlex

import pytest

from infogan.config import config_differences, load_preset

from .conftest import load_benchmark

tables = load_benchmark("tables")


@pytest.mark.parametrize("name", list(tables.TABLES))
def test_the_docs_table_is_regenerated_from_its_raw_results(name):
    table = tables.TABLES[name]
    page = tables.in_page(name)
    assert page is not None, f"{table.page} has no {tables.markers(name)[0]} block"
    assert page == table.render(), (
        f"{name} in {table.page} differs from docs/results/{table.sources}: "
        "run `python benchmarks/tables.py --write` after committing new raw results"
    )


@pytest.mark.parametrize("page", tables.pages(), ids=lambda p: p.name)
def test_every_table_of_figures_is_generated(page):
    loose = tables.loose_tables(page)
    assert not loose, (
        f"{page.relative_to(tables.ROOT)}, lines {loose}: a table that is neither printed by benchmarks/tables.py "
        f"nor marked {tables.TEXT_TABLE!r} (holding no measured figure)"
    )


def test_a_hand_made_table_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        f"{tables.TEXT_TABLE}\n| a | b |\n|---|---|\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"
        "<!-- table: t -->\n| g | h |\n|---|---|\n<!-- /table: t -->\n"
    )
    assert tables.loose_tables(page) == [5]


def test_the_recorded_command_trains_the_runs_config():
    score_runs = load_benchmark("score_runs")
    cfg = load_preset(
        "mnist-official",
        [
            "train.seed=101",
            "data.root=../data",
            "model.lambda_cat=0",
            "model.latent.codes=[cat:10,uniform:3]",
        ],
    )
    command = score_runs.train_command(cfg)
    assert command.startswith("infogan train --preset mnist-official --data-root ../data --seed 101 --set ")
    words = shlex.split(command)
    sets = [value for flag, value in itertools.pairwise(words) if flag == "--set"]
    rebuilt = load_preset("mnist-official", [*sets, "train.seed=101", "data.root=../data"])
    assert config_differences(rebuilt.model_dump(mode="json"), cfg.model_dump(mode="json")) == []


def test_the_dsprites_table_reads_what_the_disentanglement_script_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "RESULTS", tmp_path)
    context = {"table": "t", "command": "infogan train ...", "commit": "abc", "cpu": "CPU X", "data": "D"}
    scores = {"factorvae_se": 0.006, "factorvae_votes": [10000, 5000], "dci_predictor": "gradient_boosting"}
    runs = [
        {**context, "preset": p, "seed": s, "run": f"r/{p}-s{s}", "step": 100, **scores, **values}
        for p, s, values in [
            ("a", 0, dict(factorvae=0.5, dci_disentanglement=0.2, sap=0.1, sap_correlation=0.3, mig=0.1)),
            ("a", 1, dict(factorvae=0.7, dci_disentanglement=0.4, sap=0.3, sap_correlation=0.5, mig=0.3)),
            ("b", 0, dict(factorvae=0.9, dci_disentanglement=0.6, sap=0.5, sap_correlation=0.7, mig=0.5)),
        ]
    ]
    summary = {"preset": "a", "seeds": 2, "factorvae": {"mean": 0.6, "std": 0.1}, "pick": {"seed": 1}}
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in [*runs, summary]) + "\n")
    lines = tables.disentanglement("t")().splitlines()
    assert lines[2] == (
        "| `a` | 0, 1 | 100 | 0.600 (0.141), min 0.500 | 0.300 (0.141), min 0.200 | 0.200 (0.141), min 0.100 "
        "| 0.400 (0.141), min 0.300 | 0.200 (0.141), min 0.100 | seed 1 |"
    )
    assert lines[3] == "| `b` | 0 | 100 | 0.900 | 0.600 | 0.500 | 0.700 | 0.500 | - |"
    assert lines[-1] == (
        "Scored on D; FactorVAE on 10,000 training and 5,000 evaluation votes; its binomial standard error 0.006 "
        "on average; trained on CPU X."
    )
