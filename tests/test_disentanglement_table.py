"""benchmarks/disentanglement_table.py end to end on tiny runs: trains presets x seeds, branches InfoGAN-CR from
InfoGAN, scores every run and checkpoint, prints the table with the ModelCentrality pick, and on a second call
trains and scores nothing again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import TINY, load_benchmark

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "disentanglement_table.py"
# dSprites' presets at 8x8 with the paper's small networks and three codes: seconds per run
SMALL = [
    *(t for t in TINY if not t.startswith(("data.name", "train.steps", "train.checkpoint_every"))),
    "data.image_size=8",
    "model.backbone=paper",
    "model.latent.codes=[uniform:3]",
    "train.checkpoint_every=2",
]


def table(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), "--presets", "dsprites", "dsprites-cr", "--seeds", "0", "1"]
    command += [
        "--steps",
        "4",
        "--threads",
        "1",
        "--out",
        str(out),
        "--branch",
        "dsprites-cr=dsprites",
        *extra,
    ]
    for item in SMALL:
        command += ["--set", item]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)


@pytest.mark.slow
def test_the_table_trains_branches_scores_and_picks(tmp_path):
    done = table(tmp_path, "--trend")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    runs = [r for r in lines if "run" in r]
    assert [(r["preset"], r["seed"], r["step"]) for r in runs] == [
        ("dsprites", 0, 4),
        ("dsprites", 1, 4),
        ("dsprites-cr", 0, 4),
        ("dsprites-cr", 1, 4),
    ]
    # InfoGAN-CR's start is kept at nine tenths of the shortened run (update 3 of 4), so each dsprites-cr run
    # branches from its seed's dsprites run at the newest checkpoint before it, and lists that one as its parent's
    for seed in (0, 1):
        config = yaml.safe_load((tmp_path / f"dsprites-cr-s{seed}" / "config.yaml").read_text())
        assert config["model"]["cr_start"] == 3
        assert config["train"]["branch_from"] == str(
            tmp_path / f"dsprites-s{seed}" / "checkpoints" / "step-2"
        )
        trend = [
            r
            for r in lines
            if r.get("preset") == "dsprites-cr" and r.get("seed") == seed and "checkpoint" in r
        ]
        assert [(r["checkpoint"], r.get("from")) for r in trend] == [
            ("step-2", str(tmp_path / f"dsprites-s{seed}")),
            ("step-4", None),
        ]
    summaries = {r["preset"]: r for r in lines if "seeds" in r}
    for preset in ("dsprites", "dsprites-cr"):
        rows = [r for r in runs if r["preset"] == preset]
        assert summaries[preset]["seeds"] == 2
        assert summaries[preset]["mig"]["mean"] == pytest.approx(sum(r["mig"] for r in rows) / 2, abs=1e-4)
        pick = summaries[preset]["pick"]
        assert pick["mig"] == next(r["mig"] for r in rows if r["seed"] == pick["seed"])

    again = table(tmp_path, "--markdown")  # everything is trained and scored: the table from what is saved
    assert again.returncode == 0, again.stderr
    header, _rule, *rows = [line for line in again.stdout.splitlines() if line.startswith("|")]
    assert header.split("|")[1:4] == [" preset ", " seeds ", " updates "]
    assert [row.split("|")[1:4] for row in rows] == [
        [" dsprites ", " 2 ", " 4 "],
        [" dsprites-cr ", " 2 ", " 4 "],
    ]
    assert not list(tmp_path.glob("*-s0/eval.json"))  # the runs were trained with --no-eval

    tabled = table(tmp_path, "--table", "dsprites-small")  # lines for docs/results/dsprites-small.jsonl
    assert tabled.returncode == 0, tabled.stderr
    first = json.loads(tabled.stdout.splitlines()[0])
    assert first["table"] == "dsprites-small" and first["data"] == "infogan's rendering" and first["cpu"]
    assert first["command"].startswith("infogan train --preset dsprites --seed 0 --run-dir ")
    assert first["factorvae_votes"] and first["dci_predictor"] == "forest"  # as TINY sets it
    logs = (tmp_path / "dsprites-s0.log").read_text()
    assert logs.count("run directory:") == 1  # the second call did not train again


def test_a_run_too_short_to_scale_starts_the_regulariser_at_update_0():
    script = load_benchmark("disentanglement_table")
    assert script.scaled_schedule("dsprites-cr", 5) == ["--set", "model.cr_start=4"]
    assert script.scaled_schedule("dsprites-cr", 1) == ["--set", "model.cr_start=0"]  # not the preset's 9,000
    assert script.scaled_schedule("dsprites", 1) == []
    # the later --steps wins; with a 1-update run, branching at update 0 would share nothing
    short = table(Path("unused"), "--steps", "1")
    assert short.returncode == 2 and "starts at update 0, nothing to share" in short.stderr
