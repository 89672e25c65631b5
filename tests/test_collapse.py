"""The collapse probe: quiet on fresh and trained generators, loud on collapsed ones, and free of side effects."""

from functools import cache

import pytest
import torch
from torch import nn

from infogan import data as datasets
from infogan.config import DataConfig
from infogan.errors import ConfigError
from infogan.latent import LatentSpec
from infogan.models import MODELS, GenerativeModel
from infogan.training.collapse import VARY_CODE_MIN, VARY_Z_MIN, CollapseProbe, collapse_report

from .test_models import batch, tiny_model

NO_CODES = ["gan", "wgan", "vae"]


@cache
def digits(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits training split: images (N, 1, size, size) in [-1, 1] and labels (N,)."""
    split = datasets.build(DataConfig(name="digits", image_size=size), "train")
    assert split.labels is not None
    return split.images, split.labels


def real_images(model: GenerativeModel, n: int = 64) -> torch.Tensor:
    return digits(model.image_shape[1])[0][:n]


def generator_net(model: GenerativeModel) -> nn.Module:
    return model.G if hasattr(model, "G") else model.decoder


def layers(net: nn.Module) -> list[nn.Linear | nn.ConvTranspose2d]:
    return [m for m in net.modules() if isinstance(m, nn.Linear | nn.ConvTranspose2d)]


def input_columns(spec: LatentSpec, name: str) -> slice:
    """Where code `name` sits in the generator input [z, one-hot categorical codes, continuous codes]."""
    start = spec.noise
    for code in (*spec.categorical, *spec.continuous):
        width = code.k if code.is_categorical else 1
        if code.name == name:
            return slice(start, start + width)
        start += width
    raise KeyError(name)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_a_fresh_model_does_not_fire(name, seed):
    model = tiny_model(name, seed)
    report = CollapseProbe(model, real_images(model), seed=seed).check(model)
    assert report.flags == []
    assert report.vary_z > 3 * VARY_Z_MIN
    assert all(v > 10 * VARY_CODE_MIN for v in report.vary_code.values())


@pytest.mark.parametrize("name", list(MODELS))
def test_a_generator_with_a_constant_output_fires_the_z_flag(name, monkeypatch):
    model = tiny_model(name)
    probe = CollapseProbe(model, real_images(model))
    monkeypatch.setattr(model, "generate", lambda latent: torch.zeros(len(latent), *model.image_shape))
    report = probe.check(model)
    assert report.vary_z == 0
    assert report.flags[0] == f"G's output does not vary with z (vary_z 0 < {VARY_Z_MIN})"


@pytest.mark.parametrize("name", list(MODELS))
def test_a_generator_whose_last_layer_is_zeroed_fires_the_z_flag(name):
    model = tiny_model(name)
    with torch.no_grad():
        layers(generator_net(model))[
            -1
        ].weight.zero_()  # the output is now the image of a constant (the bias)
    report = CollapseProbe(model, real_images(model)).check(model)
    assert report.vary_z < VARY_Z_MIN / 100
    assert report.flags[0].startswith("G's output does not vary with z")


@pytest.mark.parametrize(
    ("name", "code"), [("infogan", "c1"), ("infogan", "c2"), ("infogan", "c3"), ("cgan", "c1")]
)
def test_a_code_the_generator_ignores_fires_that_code_only(name, code):
    model = tiny_model(name)
    first = layers(generator_net(model))[0]
    assert first.in_features == model.latent.dim
    with torch.no_grad():
        first.weight[:, input_columns(model.latent, code)] = 0
    report = CollapseProbe(model, real_images(model)).check(model)
    assert report.vary_code[code] < VARY_CODE_MIN / 100
    assert len(report.flags) == 1
    assert report.flags[0].startswith(f"G's output does not vary with code {code} (vary_{code} ")


@pytest.mark.parametrize("name", list(MODELS))
def test_probing_leaves_training_bit_for_bit_unchanged(name):
    probed, plain = tiny_model(name), tiny_model(name)
    probe = CollapseProbe(probed, real_images(probed))
    for step in range(2):
        global_rng, model_rng = torch.get_rng_state(), probed.rng.get_state()
        state = {k: v.clone() for k, v in probed.state_dict().items()}  # parameters and batch norm buffers
        probe.check(probed)
        assert torch.equal(torch.get_rng_state(), global_rng)
        assert torch.equal(probed.rng.get_state(), model_rng)
        after = probed.state_dict()
        assert after.keys() == state.keys() and all(torch.equal(v, after[k]) for k, v in state.items())
        assert all(m.training for m in probed.modules())
        x = batch(8 * probed.real_batches_per_step, seed=step, shape=probed.image_shape)
        la, lb = probed.train_step(x, step), plain.train_step(x, step)
        assert all(torch.equal(la[k], lb[k]) for k in la)


def test_the_probe_is_repeatable_and_the_same_on_a_model_in_eval_mode():
    model = tiny_model("infogan")
    reports = [CollapseProbe(model, real_images(model), seed=3).check(model) for _ in range(2)]
    reports.append(CollapseProbe(model, real_images(model), seed=3).check(model.eval()))
    assert reports[0] == reports[1] == reports[2]


@pytest.mark.parametrize("name", NO_CODES)
def test_models_without_codes_alongside_noise_report_only_vary_z(name):
    model = tiny_model(name)
    report = CollapseProbe(model, real_images(model)).check(model)
    assert report.vary_code == {} and set(report.as_metrics()) == {"vary_z"}


def test_metrics_name_every_code():
    model = tiny_model("infogan")
    metrics = CollapseProbe(model, real_images(model)).check(model).as_metrics()
    assert set(metrics) == {"vary_z", "vary_c1", "vary_c2", "vary_c3"}
    assert all(isinstance(v, float) for v in metrics.values())


def test_codes_to_check_can_be_named():
    model = tiny_model("vae")  # no noise: its codes are not checked by default
    report = CollapseProbe(model, real_images(model), codes=["c2"]).check(model)
    assert set(report.vary_code) == {"c2"} and report.flags == []
    with pytest.raises(ConfigError, match="unknown code 'c9'"):
        CollapseProbe(model, real_images(model), codes=["c9"])


def test_flag_messages():
    assert collapse_report(0.5, {"c1": 1.0, "c2": 0.001}).flags == [
        f"G's output does not vary with code c2 (vary_c2 0.001 < {VARY_CODE_MIN})"
    ]
    assert collapse_report(0.004, {}).flags == [
        f"G's output does not vary with z (vary_z 0.004 < {VARY_Z_MIN})"
    ]
    assert collapse_report(float("nan"), {"c1": float("nan")}).flags == [
        "G's output is not finite (vary_z nan)"
    ]


def test_bad_inputs_are_refused():
    model = tiny_model("infogan")
    with pytest.raises(ValueError, match=r"real images of shape \(1, 8, 8\)"):
        CollapseProbe(model, torch.zeros(4, 1, 28, 28))
    with pytest.raises(ValueError, match="all the same"):
        CollapseProbe(model, torch.zeros(4, 1, 8, 8))
    probe = CollapseProbe(model, real_images(model))
    with pytest.raises(ValueError, match="different latent spec"):
        probe.check(tiny_model("gan"))


@pytest.mark.parametrize("name", list(MODELS))
def test_a_short_healthy_training_run_does_not_fire(name):
    model = tiny_model(name)
    images, labels = digits(model.image_shape[1])
    probe = CollapseProbe(model, images[:64])
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    size = 16 * model.real_batches_per_step
    for step in range(100):
        index = order[torch.arange(step * size, (step + 1) * size) % len(order)]
        model.train_step({"x": images[index], "y": labels[index]}, step)
        if (step + 1) % 25 == 0:
            assert probe.check(model).flags == [], f"step {step + 1}"
