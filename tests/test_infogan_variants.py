"""InfoGAN on other adversarial games: the loss is a config choice, so InfoGAN-WGAN-GP is a preset."""

from __future__ import annotations

import pytest
import torch

from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.models import build_model

TINY_DCGAN = [
    "model.latent.noise=4",
    "model.width=4",
    "model.q_hidden=8",
]


def _model(overrides: list[str]):
    cfg = load_preset("infogan-wgan-gp", [*TINY_DCGAN, *overrides])
    torch.manual_seed(0)
    model = build_model(cfg.model, (1, 28, 28))
    model.seed(0)
    return model.train()


def test_infogan_wgan_gp_takes_n_critic_real_batches_and_logs_the_penalty_and_estimate():
    model = _model([])
    assert model.real_batches_per_step == 5
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.trunk.modules())
    logs = model.train_step({"x": torch.rand(5 * 8, 1, 28, 28) * 2 - 1}, 0)
    assert {"d_loss", "g_loss", "info_loss", "gp", "wasserstein", "mi_c1"} <= set(logs)
    assert all(torch.isfinite(v) for v in logs.values())
    assert model.optimizers["d"].state[next(iter(model.trunk.parameters()))]["step"] == 5
    assert model.optimizers["g"].state[next(iter(model.G.parameters()))]["step"] == 1


def test_g_steps_steps_g_that_many_times_after_one_d_step():
    from .test_models import batch, tiny_model

    models = {k: tiny_model("infogan", extra=(f"model.g_steps={k}",)) for k in (1, 2)}
    for model in models.values():
        model.train_step(batch(8, seed=0), 0)
    (d1, d2), (g1, g2) = (
        [[p.detach() for p in getattr(m, net).parameters()] for m in models.values()]
        for net in ("trunk", "G")
    )
    assert all(torch.equal(a, b) for a, b in zip(d1, d2, strict=True))  # D's step comes first, the same
    assert not all(torch.equal(a, b) for a, b in zip(g1, g2, strict=True))
    for k, model in models.items():
        assert model.optimizers["g"].state[next(iter(model.G.parameters()))]["step"] == k
        assert model.optimizers["d"].state[next(iter(model.trunk.parameters()))]["step"] == 1


def test_infogan_with_weight_clipping_keeps_the_critic_in_bounds():
    model = _model(["model.lipschitz=clip", "model.n_critic=2", "model.critic_norm=batch"])
    model.train_step({"x": torch.rand(2 * 8, 1, 28, 28) * 2 - 1}, 0)
    critic = [p.detach() for p in (*model.trunk.parameters(), *model.d_head.parameters())]
    assert max(float(p.abs().max()) for p in critic) <= 0.01 + 1e-9
    q_head = [p.detach() for p in model.q_head.parameters()]
    assert max(float(p.abs().max()) for p in q_head) > 0.01  # Q's own head is not clipped


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.lipschitz=none"], "the wasserstein loss needs lipschitz clip or gp"),
        (["model.critic_norm=batch"], "a gradient penalty needs a critic without batch norm"),
        (["model.backbone=paper"], "a gradient penalty needs a critic without batch norm"),
    ],
)
def test_inconsistent_critic_settings_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_preset("infogan-wgan-gp", overrides)


@torch.no_grad()  # reads weights only
def test_the_official_codes_initialisation():
    from infogan.models import build_model

    torch.manual_seed(0)
    model = build_model(load_preset("mnist", ["model.init=normal"]).model, (1, 28, 28))
    fc = model.G.fc[0].weight
    assert abs(float(fc.std()) - 0.02) < 0.001 and abs(float(fc.mean())) < 0.001
    conv = next(m for m in model.trunk.modules() if isinstance(m, torch.nn.Conv2d)).weight
    assert (
        float(conv.abs().max()) <= 0.04 and abs(float(conv.std()) - 0.0176) < 0.003
    )  # normal truncated at 2 std
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d)]
    assert norms and all(abs(float(m.weight.mean()) - 1) < 0.01 and not m.bias.any() for m in norms)
    biased = [m.bias for m in model.modules() if isinstance(m, torch.nn.Linear) and m.bias is not None]
    assert biased and not any(b.any() for b in biased)
    torch.manual_seed(0)
    default = build_model(load_preset("mnist").model, (1, 28, 28))
    assert float(default.G.fc[0].weight.std()) > 0.05  # PyTorch's default for a 74-input layer: ~0.067


@pytest.mark.parametrize("preset", ["dsprites", "dsprites-cr"])
@torch.no_grad()  # reads weights only
def test_the_official_initialisation_reaches_spectrally_normalised_layers(preset):
    from torch.nn.utils import parametrize

    from infogan.models import build_model

    torch.manual_seed(0)
    model = build_model(load_preset(preset, ["model.init=normal"]).model, (1, 64, 64)).eval()
    normed = [m for m in model.modules() if parametrize.is_parametrized(m, "weight")]
    assert len(normed) >= 5
    if preset == "dsprites-cr":  # InfoGAN-CR's H too, built after InfoGAN's networks
        h_layers = [*model.H_trunk.modules(), *model.H_head.modules()]
        assert any(layer is h for layer in normed for h in h_layers)
    for layer in normed:
        drawn = layer.parametrizations.weight.original
        expected = 0.0176 if isinstance(layer, torch.nn.Conv2d) else 0.02  # a conv's normal is truncated
        assert abs(float(drawn.std()) - expected) < 0.004, layer
        assert layer.bias is None or not layer.bias.any()
        # the norm is estimated for the weight drawn here: the layer's effective weight has spectral norm ~1
        effective = layer.weight.flatten(1)
        assert abs(float(torch.linalg.matrix_norm(effective, 2)) - 1) < 0.05, layer
