"""benchmarks/step_profile.py names every part of a real InfoGAN step and accounts for the whole of it."""

from __future__ import annotations

import pytest

from .conftest import load_benchmark


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [("digits", []), ("digits", ["model.consistency.weight=1"])],
    ids=["plain", "consistency"],
)
def test_the_profile_splits_a_step_into_its_parts(preset, overrides, monkeypatch):
    load_benchmark("train_variants")
    profile = load_benchmark("step_profile")
    monkeypatch.setattr(profile, "build", _with_overrides(profile.build, overrides))
    out = profile.profile(preset, steps=2, warmup=1, batch_size=16, precision="fp32")
    share = out["share"]
    expected = {
        "G forward",
        "D trunk, real",
        "D trunk, fakes",
        "D trunk, G's step",
        "backward, D/Q",
        "backward, G",
        "optimiser, D/Q",
        "optimiser, G",
    }
    if overrides:
        expected |= {"D trunk, deformed copy", "deformation"}
    assert expected <= set(share), expected - set(share)
    assert ("deformation" in share) == bool(overrides)
    assert sum(share.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(v > 0 for k, v in share.items() if k != "other (heads, losses, latents)")
    assert out["ms_per_step"] > 0 and out["cpu"]


def _with_overrides(build, overrides):
    """train_variants.build with config overrides added to its preset."""
    import train_variants

    def wrapped(preset, variant, batch_size):
        original = train_variants.load_preset
        train_variants.load_preset = lambda name, sets: original(name, [*sets, *overrides])
        try:
            return build(preset, variant, batch_size)
        finally:
            train_variants.load_preset = original

    return wrapped
