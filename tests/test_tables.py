"""Every results table in the docs is what its committed raw results give (benchmarks/tables.py), and the
command recorded with a run's results trains that run's config (benchmarks/score_runs.py)."""

from __future__ import annotations

import itertools
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
