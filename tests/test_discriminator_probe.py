"""benchmarks/discriminator_probe.py on tiny runs: it scores the run's own D, trains a fresh one against the frozen
G, and refuses models without a discriminator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from infogan.api import train
from infogan.config import load_preset

from .conftest import TINY, TINY_MODELS, load_benchmark

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "discriminator_probe.py"


def probe(run: Path, *extra: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the script's main() in this process (its one JSON line goes to stdout)."""
    script = load_benchmark("discriminator_probe")
    argv = [str(SCRIPT), str(run), "--images", "300", "--held-out", "100", "--threads", "1", *extra]
    monkeypatch.setattr(sys, "argv", argv)
    script.main()


def test_a_fresh_d_separates_an_untrained_g_from_real_digits(tmp_path, monkeypatch, capsys):
    cfg = load_preset("digits", [*TINY, "train.steps=2", "eval.metrics=[]"])
    train(cfg, tmp_path / "run", progress=lambda _: None)
    probe(tmp_path / "run", "--steps", "200", "--every", "100", "--lr", "2e-3", monkeypatch=monkeypatch)
    result = json.loads(capsys.readouterr().out)
    assert result["run_step"] == 2 and set(result["own_d"]) == {"auc", "accuracy", "logit_std"}
    assert [point["step"] for point in result["fresh_d"]] == [100, 200]
    # two updates of G draw noise, not digits: a D trained on them alone tells them apart (its own D, two updates
    # old, cannot yet)
    assert result["fresh_d"][-1]["auc"] > 0.85 > result["own_d"]["auc"]


def test_a_run_without_a_discriminator_is_refused_in_one_line(tmp_path, monkeypatch):
    preset, overrides, _ = TINY_MODELS["vae"]
    cfg = load_preset(preset, [*overrides, "data.name=digits", "train.steps=1", "eval.metrics=[]"])
    train(cfg, tmp_path / "vae", progress=lambda _: None)
    with pytest.raises(
        SystemExit, match=r"needs an unconditional GAN with a trunk and a logit head, not vae$"
    ):
        probe(tmp_path / "vae", monkeypatch=monkeypatch)
