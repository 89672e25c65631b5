"""WGAN and WGAN-GP (arXiv:1701.07875, arXiv:1704.00028): the Lipschitz constraints, the critic/G schedule of
Algorithm 1, the logged Wasserstein estimate, config checks, and training through the API with resume."""

import copy
import json

import pytest
import torch
from torch import nn

from infogan.api import train
from infogan.config import load_preset
from infogan.errors import ConfigError
from infogan.models import build_model
from infogan.models.wgan import WGAN
from infogan.runs.directory import RunDir
from infogan.training.checkpoint import list_checkpoints

PRESETS = ["wgan", "wgan-gp"]
B = 4  # images per critic step in the unit tests


def tiny_wgan(preset: str, *overrides: str, seed: int = 0) -> WGAN:
    cfg = load_preset(preset, ["model.width=4", "model.latent.noise=4", *overrides])
    torch.manual_seed(seed)
    model = build_model(cfg.model, (1, 28, 28))
    assert isinstance(model, WGAN)
    model.seed(seed)
    return model


def real_batch(model: WGAN, seed: int = 0) -> dict[str, torch.Tensor]:
    """What the loop hands train_step: n_critic real batches of B images, concatenated."""
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.rand(B * model.real_batches_per_step, 1, 28, 28, generator=g) * 2 - 1}


def critic_modules(model: WGAN) -> list[nn.Module]:
    return [m for part in (model.trunk, model.d_head) for m in part.modules()]


def snapshot(params: list[nn.Parameter]) -> list[torch.Tensor]:
    return [p.detach().clone() for p in params]


def test_clipping_bounds_every_critic_parameter_and_only_the_critic():
    model = tiny_wgan("wgan")
    model.train_step(real_batch(model), 0)
    critic = torch.cat([p.flatten() for p in model.critic_parameters()])
    assert critic.abs().max() <= model.cfg.clip
    assert (critic.abs() == model.cfg.clip).any()  # the default init exceeds 0.01, so clipping really acted
    assert torch.cat([p.flatten() for p in model.G.parameters()]).abs().max() > model.cfg.clip


@pytest.mark.parametrize("preset", PRESETS)
def test_critic_scores_are_not_probabilities(preset):
    model = tiny_wgan(preset)
    assert not any(isinstance(m, nn.Sigmoid) for m in model.modules())
    scores = model.critic(real_batch(model)["x"])
    assert scores.shape == (B * model.cfg.n_critic,)
    assert ((scores < 0) | (scores > 1)).any()


def test_gp_variant_logs_the_penalty_and_its_critic_has_no_batch_norm():
    gp_model, clip_model = tiny_wgan("wgan-gp"), tiny_wgan("wgan")
    logs = gp_model.train_step(real_batch(gp_model), 0)
    assert set(logs) == {"d_loss", "g_loss", "wasserstein", "gp"}
    assert torch.isfinite(logs["gp"]) and logs["gp"] > 0
    # d_loss is the last critic step's loss: -(E f(x) - E f(G(z))) + lambda * gp.
    assert logs["d_loss"].item() == pytest.approx((-logs["wasserstein"] + 10 * logs["gp"]).item(), rel=1e-5)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic_modules(gp_model))
    assert any(
        isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in critic_modules(gp_model)
    )  # layer norm
    # The WGAN paper's DCGAN critic keeps batch norm; clipping has no penalty to log.
    assert any(isinstance(m, nn.BatchNorm2d) for m in critic_modules(clip_model))
    assert set(clip_model.train_step(real_batch(clip_model), 0)) == {"d_loss", "g_loss", "wasserstein"}


@pytest.mark.parametrize(
    ("preset", "override", "words"),
    [
        ("wgan-gp", "model.critic_norm=batch", "critic_norm 'batch' cannot be used with lipschitz 'gp'"),
        ("wgan", "model.lipschitz=gp", "set model.critic_norm=layer or none"),
        ("wgan", "model.latent.codes=[cat:10]", "set model.latent.codes=[]"),
        ("wgan", "model.backbone=mlp", "set model.critic_norm=none"),
    ],
)
def test_bad_combinations_are_refused_in_one_line(preset, override, words):
    with pytest.raises(ConfigError) as err:
        load_preset(preset, [override])
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("preset", PRESETS)
def test_n_critic_critic_steps_then_one_g_step(preset):
    model = tiny_wgan(preset, "model.n_critic=3")
    order: list[str] = []
    model.optimizers["d"].register_step_post_hook(lambda *_: order.append("d"))
    model.optimizers["g"].register_step_post_hook(lambda *_: order.append("g"))
    model.train_step(real_batch(model), 0)
    assert order == ["d", "d", "d", "g"]
    state_d, state_g = model.optimizers["d"].state, model.optimizers["g"].state
    assert {int(state_d[p]["step"]) for p in model.critic_parameters()} == {3}
    assert {int(state_g[p]["step"]) for p in model.G.parameters()} == {1}


def test_each_critic_step_sees_its_own_real_batch_and_fresh_noise():
    model = tiny_wgan(
        "wgan", "model.n_critic=3"
    )  # clipping: the critic sees real, fake per step, then G's fake
    seen: list[torch.Tensor] = []
    model.trunk.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
    batch = real_batch(model)
    model.train_step(batch, 0)
    assert len(seen) == 2 * 3 + 1
    for i, chunk in enumerate(batch["x"].split(B)):
        assert torch.equal(seen[2 * i], chunk)
    fakes = [seen[1], seen[3], seen[5], seen[6]]
    assert all(not torch.equal(a, b) for i, a in enumerate(fakes) for b in fakes[i + 1 :])


@pytest.mark.parametrize("preset", PRESETS)
def test_g_step_changes_g_and_leaves_the_critic_untouched(preset):
    model = tiny_wgan(preset)
    before_g: dict[str, list[torch.Tensor]] = {}

    def at_g_call(*_):  # the last G call is the G step's, after every critic update (and clipping)
        before_g["critic"] = snapshot(model.critic_parameters())
        before_g["grads"] = [
            p.grad.clone() if p.grad is not None else None for p in model.critic_parameters()
        ]
        before_g["G"] = snapshot(list(model.G.parameters()))

    model.G.register_forward_pre_hook(at_g_call)
    model.train_step(real_batch(model), 0)
    critic = model.critic_parameters()
    assert all(torch.equal(a, p) for a, p in zip(before_g["critic"], critic, strict=True))
    # Frozen, the critic received no gradient from G's loss: its grads are still those of its own last step.
    assert all(
        g is not None and torch.equal(g, p.grad) for g, p in zip(before_g["grads"], critic, strict=True)
    )
    assert all(p.requires_grad for p in critic)
    assert any(not torch.equal(a, p) for a, p in zip(before_g["G"], model.G.parameters(), strict=True))


@pytest.mark.parametrize("preset", PRESETS)
def test_logged_wasserstein_is_the_critics_estimate_on_the_last_batch(preset):
    model = tiny_wgan(preset, "model.n_critic=2")
    critics: list[nn.Module] = []
    fakes: list[torch.Tensor] = []
    model.optimizers["d"].register_step_pre_hook(
        lambda *_: critics.append(copy.deepcopy(nn.Sequential(model.trunk, model.d_head)))
    )
    model.G.register_forward_hook(lambda _m, _i, out: fakes.append(out.detach().clone()))
    batch = real_batch(model)
    logs = model.train_step(batch, 0)
    f = critics[-1]  # the critic as the last critic step scored its batch (before its update)
    x_real, x_fake = batch["x"][B:], fakes[1]  # second real batch, fakes of the second critic step
    with torch.no_grad():
        by_hand = f(x_real).mean() - f(x_fake).mean()
    assert logs["wasserstein"].item() == pytest.approx(by_hand.item(), rel=1e-5, abs=1e-7)


def test_optimisers_follow_the_config():
    opts = tiny_wgan("wgan").optimizers
    assert all(isinstance(o, torch.optim.RMSprop) and o.defaults["lr"] == 5e-5 for o in opts.values())
    opts = tiny_wgan("wgan-gp").optimizers
    assert all(isinstance(o, torch.optim.Adam) for o in opts.values())
    assert all(o.defaults["lr"] == 1e-4 and o.defaults["betas"] == (0.0, 0.9) for o in opts.values())
    opts = tiny_wgan("wgan", "model.optimizer=adam", "model.lr_d=3e-4", "model.lr_g=2e-4").optimizers
    assert opts["d"].defaults["lr"] == 3e-4 and opts["g"].defaults["lr"] == 2e-4
    assert opts["d"].defaults["betas"] == (0.5, 0.999)


def test_presets_match_the_papers():
    wgan, gp = load_preset("wgan").model, load_preset("wgan-gp").model
    assert (wgan.lipschitz, wgan.clip, wgan.n_critic, wgan.critic_norm) == ("clip", 0.01, 5, "batch")
    assert (gp.lipschitz, gp.gp_lambda, gp.n_critic, gp.critic_norm) == ("gp", 10.0, 5, "layer")
    assert load_preset("wgan").train.batch_size == load_preset("wgan-gp").train.batch_size == 64


def test_mlp_backbone_trains():
    model = tiny_wgan(
        "wgan-gp",
        "model.backbone=mlp",
        "model.critic_norm=none",
        "model.g_hidden=[16]",
        "model.d_hidden=[16]",
    )
    logs = model.train_step(real_batch(model), 0)
    assert all(torch.isfinite(v) for v in logs.values())
    assert model.sample(3).shape == (3, 1, 28, 28)


def test_uneven_real_batch_is_refused():
    model = tiny_wgan("wgan")
    with pytest.raises(ValueError, match="n_critic=5 real batches"):
        model.train_step({"x": torch.zeros(7, 1, 28, 28)}, 0)


TINY_RUN = [
    "data.name=digits",  # 8x8 digits resized to MNIST's 28x28: offline and quick to load
    "data.fallback=null",
    "data.download=false",
    "data.image_size=28",
    "model.width=8",
    "model.latent.noise=4",
    "train.batch_size=8",
    "train.log_every=1",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "eval.metrics=[codes]",
]


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_trains_checkpoints_and_resumes_exactly(preset, tmp_path):
    half = train(load_preset(preset, [*TINY_RUN, "train.steps=2"]), tmp_path / "run", progress=quiet)
    assert half.step == 2 and [p.name for p in list_checkpoints(RunDir(half.dir.path).checkpoints)] == [
        "step-2"
    ]
    full_cfg = load_preset(preset, [*TINY_RUN, "train.steps=4"])
    resumed = train(full_cfg, tmp_path / "run", resume=True, progress=quiet)
    run = RunDir(tmp_path / "run")
    assert resumed.step == 4 and [p.name for p in list_checkpoints(run.checkpoints)] == ["step-2", "step-4"]
    rows = [json.loads(line) for line in run.metrics.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert {"d_loss", "g_loss", "wasserstein"} <= set(rows[-1]) and run.eval.is_file()
    straight = train(full_cfg, tmp_path / "straight", progress=quiet)
    a, b = resumed.model.state_dict(), straight.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
