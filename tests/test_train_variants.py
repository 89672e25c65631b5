"""benchmarks/train_variants.py times any preset's step on random images of the preset's own shape."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import load_benchmark


def run_script(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """Run the script's main() in this process (its JSON lines go to stdout)."""
    script = load_benchmark("train_variants")
    monkeypatch.setattr(sys, "argv", ["train_variants.py", *args])
    script.main()


@pytest.mark.parametrize("preset", ["mnist-paper", "dsprites"])
def test_it_times_the_step_of_a_preset_at_the_preset_s_image_size(preset, monkeypatch, capsys):
    args = ["--preset", preset, "--threads", "1", "--batch-size", "4", "--rounds", "2", "--steps", "1"]
    run_script(monkeypatch, *args, "--warmup", "0", "--variants", "fp32,channels_last")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    timed = {line["variant"]: line for line in lines[:-1]}
    assert set(timed) == {"fp32", "channels_last"}
    assert all(line["preset"] == preset and len(line["rounds"]) == 2 for line in timed.values())
    assert timed["fp32"]["vs_fp32"] == 1.0 and timed["channels_last"]["images_per_s"] > 0
    assert lines[-1]["batch_size"] == 4 and lines[-1]["threads"] == 1
