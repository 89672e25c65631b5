"""The three MNIST presets: `mnist-paper` (the paper's objective), `mnist-official` (the official code's settings)
and `mnist` (the paper's plus the consistency term), and the networks' pixel range."""

import pytest
import torch

from infogan.api import load_run, train
from infogan.config import config_differences, load_preset
from infogan.models import build_model
from infogan.nets.init import STD

from .conftest import TINY


def _differences(a: str, b: str) -> list[tuple[str, object]]:
    before, after = load_preset(a).model_dump(mode="json"), load_preset(b).model_dump(mode="json")
    return [(key, now) for key, _, now in config_differences(before, after)]


def test_mnist_official_is_the_paper_preset_with_the_official_codes_settings():
    assert _differences("mnist-paper", "mnist-official") == [
        ("model.init", "normal"),
        ("model.lambda_cont", 1.0),
        ("model.latent.fixed_std", True),
        ("model.leaky_slope", 0.01),
        ("model.unit_range", True),
        ("preset", "mnist-official"),
    ]


def test_unit_range_puts_the_mnist_networks_on_pixels_in_0_1():
    cfg = load_preset("mnist-official").model
    torch.manual_seed(0)
    model = build_model(cfg, (1, 28, 28)).eval()
    latent = torch.rand(3, model.latent.dim) * 2 - 1
    # G ends in the official code's sigmoid, handed out on [-1, 1]
    pre = model.G.deconv(model.G.fc(latent).view(-1, 128, 7, 7))
    torch.testing.assert_close(model.G(latent), 2 * torch.sigmoid(pre) - 1)
    # D reads (x + 1) / 2: a blank image is the zeros its convolutions pad with
    blank = -torch.ones(2, 1, 28, 28)
    torch.testing.assert_close(model.trunk(blank), model.trunk.net(torch.zeros(2, 1, 28, 28)))
    # the official initialisation: N(0, 0.02) weights, truncated at two standard deviations for convolutions
    conv = model.trunk.net[0].weight
    assert conv.abs().max() <= 2 * STD and abs(conv.std().item() - STD) < 0.005
    tanh = build_model(load_preset("mnist-official", ["model.unit_range=false"]).model, (1, 28, 28)).eval()
    tanh.load_state_dict(model.state_dict())  # the option adds no weights
    assert not torch.allclose(tanh.G(latent), model.G(latent))


@pytest.mark.parametrize("preset", ["mnist-official", "mnist-paper"])
def test_the_mnist_presets_train_and_reload(preset, tmp_path):
    cfg = load_preset(preset, TINY)
    run = train(cfg, tmp_path / preset, progress=lambda _: None)
    loaded = load_run(tmp_path / preset)
    x = loaded.sample(4, seed=1)
    assert x.shape == (4, 1, 8, 8) and x.abs().max() <= 1
    torch.testing.assert_close(x, run.sample(4, seed=1))
    assert loaded.config.preset == preset
