"""infogan sweep: seeds trained as ordinary runs, one table, and a pick made without labels."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from infogan.experiments.sweep import agreement_matrix, medoid, parallel_plan, plan
from infogan.reporting.compare import aggregate, slant_and_width

from .conftest import TINY, invoke, load_benchmark, run_cli


def test_the_medoid_is_a_run_of_the_division_most_runs_share():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 2000)
    relabel = np.array([3, 0, 4, 1, 2])  # the same division under other category numbers
    merged = np.where(labels == 4, 3, labels)  # 3 and 4 merged
    runs = [{"c1": labels}, {"c1": relabel[labels]}, {"c1": merged}, {"c1": rng.integers(0, 5, 2000)}]
    agreement = agreement_matrix(runs)
    assert (
        agreement.shape == (4, 4)
        and np.allclose(np.diag(agreement), 1)
        and np.allclose(agreement, agreement.T)
    )
    assert agreement[0, 1] == pytest.approx(1)  # the same division: category numbers do not matter
    assert agreement[0, 3] == pytest.approx(0, abs=0.01)  # independent assignments: AMI ~ 0
    best, means = medoid(agreement)
    assert best in (0, 1) and means[0] == pytest.approx(means[1]) and means[1] > means[2] > means[3]
    # hand-computed mean of run 0's agreement with the other three
    assert means[0] == pytest.approx((agreement[0, 1] + agreement[0, 2] + agreement[0, 3]) / 3)


def test_slant_and_width_takes_two_different_codes():
    table = {"c2": {"slant": -0.9, "width": 0.85}, "c3": {"slant": 0.2, "width": 0.6}}
    # c2 reads best as both; the pair must use two codes, and (c2 slant, c3 width) beats (c3 slant, c2 width)
    assert slant_and_width(table) == {
        "slant": {"code": "c2", "rho": 0.9},
        "width": {"code": "c3", "rho": 0.6},
    }
    table["c3"]["width"] = math.nan  # an undefined correlation counts as 0: now c3 slant, c2 width wins
    assert slant_and_width(table) == {
        "slant": {"code": "c3", "rho": 0.2},
        "width": {"code": "c2", "rho": 0.85},
    }
    assert slant_and_width({"c2": table["c2"]}) == {}


def test_aggregate_over_the_numbers_every_row_has():
    rows = [
        {"step": 5, "accuracy": {"c1": 0.9}, "fid": 4.0, "controls": {"c2": {"property": "slant"}}},
        {"step": 5, "accuracy": {"c1": 0.96}, "fid": 6.0},
        {"step": 5, "accuracy": {"c1": 0.99}},
    ]
    out = aggregate(rows)
    assert set(out) == {"accuracy.c1"}
    assert out["accuracy.c1"]["mean"] == pytest.approx(0.95)
    assert out["accuracy.c1"]["min"] == 0.9 and out["accuracy.c1"]["median"] == 0.96
    assert out["accuracy.c1"]["std"] == pytest.approx(np.std([0.9, 0.96, 0.99], ddof=1))


def test_parallel_plan_shares_the_cores():
    assert parallel_plan(5, 2, None) == (2, 1)
    assert parallel_plan(1, 8, None) == (1, 8)
    assert parallel_plan(5, 8, 2) == (2, 4)


def test_the_users_threads_are_kept():
    assert parallel_plan(2, 2, 1, threads=1) == (1, 1)  # --parallel 1 --set train.threads=1
    assert parallel_plan(5, 8, None, threads=2) == (4, 2)  # as many seeds as the cores hold at 2 threads
    user = ["--set", "train.threads=1"]
    (job,) = plan(Path("s"), [3], user, None)
    assert job.argv.count("--set") == 1 and job.argv[job.argv.index("--set") + 1] == "train.threads=1"
    (job,) = plan(Path("s"), [3], [], 2)
    assert job.argv[-2:] == ["--set", "train.threads=2"]


def test_a_bad_steps_fails_before_any_seed_starts(tmp_path):
    result = invoke(
        "sweep", "--seeds", "2", "--run-dir", str(tmp_path / "s"), "--preset", "digits", "--steps", "-3"
    )
    assert (
        result.returncode == 2
        and "--steps -3" in result.stderr
        and "greater than or equal to 1" in result.stderr
    )
    assert not (tmp_path / "s").exists()


def test_a_sweep_refuses_a_seed_of_its_own_and_a_run_directory_as_its_folder(tmp_path):
    seeded = invoke("sweep", "--seeds", "2", "--run-dir", str(tmp_path / "s"), "--set", "train.seed=5")
    assert (
        seeded.returncode == 2 and "--set train.seed=5: a sweep gives each run its own seed" in seeded.stderr
    )
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("preset: digits\n")
    inside = invoke("sweep", "--seeds", "2", "--run-dir", str(run), "--preset", "digits")
    assert inside.returncode == 2 and f"--run-dir {run} is a run directory" in inside.stderr
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml"]  # nothing trained into the run
    file = invoke("sweep", "--seeds", "2", "--run-dir", str(run / "config.yaml"), "--preset", "digits")
    assert file.returncode == 2 and "is a file; a sweep needs a folder" in file.stderr


def test_pick_quality_counts_the_subsets_whose_pick_is_within_0_01_of_their_best():
    script = load_benchmark("mnist_seeds")
    accuracy = [0.99, 0.985, 0.90]
    agreement = np.array([[1, 0.2, 0.1], [0.2, 1, 0.9], [0.1, 0.9, 1]])  # run 1 is the medoid of all three
    quality = script.pick_quality(accuracy, agreement, 3)
    assert quality == {
        "subsets": 1,
        "within_0.01_of_best": 1.0,
        "pick_accuracy_mean": 0.985,
        "subset_accuracy_mean": pytest.approx(np.mean(accuracy)),
    }
    # of the three pairs, the medoid of a pair is its first run: (0, 1) -> 0.99, (0, 2) -> 0.99, (1, 2) -> 0.985
    pairs = script.pick_quality(accuracy, agreement, 2)
    assert pairs["subsets"] == 3 and pairs["within_0.01_of_best"] == 1.0
    assert pairs["pick_accuracy_mean"] == pytest.approx((0.99 + 0.99 + 0.985) / 3)
    worse = script.pick_quality([0.90, 0.99], np.array([[1, 0.5], [0.5, 1]]), 2)
    assert worse["within_0.01_of_best"] == 0.0 and worse["pick_accuracy_mean"] == 0.90


def test_sweep_trains_each_seed_as_a_run_then_tabulates_and_links_the_pick(tmp_path, monkeypatch, capsys):
    sets = [item for key in [*TINY, "eval.metrics=[codes]"] for item in ("--set", key)]
    args = [
        "sweep",
        "--seeds",
        "2",
        "--first-seed",
        "3",
        "--run-dir",
        str(tmp_path / "s"),
        "--preset",
        "digits",
    ]
    result = run_cli(*args, *sets, "--parallel", "2", timeout=300)
    assert result.returncode == 0, result.stderr
    for seed in (3, 4):
        run = tmp_path / "s" / f"seed-{seed}"
        assert (run / "eval.json").is_file() and (tmp_path / "s" / f"seed-{seed}.log").is_file()
        assert f"seed: {seed}" in (run / "config.yaml").read_text()
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["seed", "accuracy.c1"]
    assert [line.split()[0] for line in lines[1:7]] == ["3", "4", "mean", "std", "min", "median"]
    saved = json.loads((tmp_path / "s" / "sweep.json").read_text())
    accuracies = [r["accuracy"]["c1"] for r in saved["runs"]]
    assert saved["summary"]["accuracy.c1"]["mean"] == pytest.approx(np.mean(accuracies))
    pick = saved["pick"]["seed"]
    assert (tmp_path / "s" / "best").resolve() == (tmp_path / "s" / f"seed-{pick}").resolve()
    assert f"label-free pick: seed {pick}" in result.stdout
    assert "note: with two runs both agree equally with the other (AMI is symmetric)" in result.stdout
    assert saved["pick"]["tied"] == [3, 4]
    # run again: both runs are finished, so nothing trains; the table is the same
    again = run_cli(*args, *sets, "--parallel", "2", timeout=300)
    assert again.returncode == 0 and again.stdout == result.stdout
    assert "have finished 6 updates" in again.stderr
    # the seed table of benchmarks/mnist_seeds.py over the same sweep: one line per run, then the summary
    monkeypatch.setattr("sys.argv", ["mnist_seeds.py", str(tmp_path / "s")])
    load_benchmark("mnist_seeds").main()
    *runs, summary = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert [r["run"] for r in runs] == [str(tmp_path / "s" / f"seed-{seed}") for seed in (3, 4)]
    assert [r["accuracy"]["c1"] for r in runs] == accuracies
    assert all(r["curve"][-1] == [6, pytest.approx(r["accuracy"]["c1"])] for r in runs)
    assert summary["runs"] == 2 and summary["pick"]["best"] == max(accuracies)


def test_a_run_with_a_time_budget_is_finished_when_evaluated_at_its_budget(tmp_path):
    from infogan.experiments.sweep import finished

    run = tmp_path / "r"
    run.mkdir()
    (run / "config.yaml").write_text("train:\n  steps: 5000\n  minutes: 1.0\n")
    (run / "metrics.jsonl").write_text(json.dumps({"step": 120, "elapsed_s": 61.0}) + "\n")
    (run / "eval.json").write_text(json.dumps({"step": 120}))
    assert finished(run, 5000)
    (run / "metrics.jsonl").write_text(json.dumps({"step": 120, "elapsed_s": 30.0}) + "\n")  # stopped early
    assert not finished(run, 5000)
    (run / "config.yaml").write_text("train:\n  steps: 5000\n")
    assert not finished(run, 5000) and not finished(tmp_path / "missing", 5000)
