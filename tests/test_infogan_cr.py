"""InfoGAN-CR's contrastive regulariser: the pairs H is shown, when it trains, and what G's step takes from it."""

import pytest
import torch
from torch.nn.utils import parametrize

from infogan.config import load_preset
from infogan.errors import CheckpointError, ConfigError
from infogan.latent import LatentSpec
from infogan.models.infogan_cr import contrastive_pairs

from .conftest import TINY
from .test_models import batch, tiny_model


@pytest.mark.parametrize("gap", [0.0, 0.5])
def test_a_pair_shares_z_and_one_code_and_the_others_keep_the_gap(gap):
    spec = LatentSpec.parse(5, ["uniform:4"])
    first, second, k = contrastive_pairs(spec, 512, gap, torch.Generator().manual_seed(0))
    assert torch.equal(first.z, second.z)
    rows = torch.arange(512)
    assert torch.equal(first.c_cont[rows, k], second.c_cont[rows, k])
    others = torch.ones(512, 4, dtype=torch.bool)
    others[rows, k] = False
    apart = (first.c_cont - second.c_cont).abs()[others]
    assert apart.min() >= gap - 1e-6 and (apart > 0).all()
    assert first.c_cont.abs().max() <= 1 and second.c_cont.abs().max() <= 1
    assert k.bincount(minlength=4).min() > 90  # each code chosen about a quarter of the time
    if gap:  # still spread over the whole range
        assert first.c_cont.min() < -0.9 and first.c_cont.max() > 0.9


def test_codes_kept_apart_still_follow_the_uniform_prior():
    spec = LatentSpec.parse(5, ["uniform:4"])
    first, second, _ = contrastive_pairs(spec, 8192, 1.0, torch.Generator().manual_seed(0))
    for side in (first.c_cont, second.c_cont):  # 32,768 values each, 4,096 expected in each eighth of [-1, 1]
        counts = torch.histc(side, bins=8, min=-1, max=1)
        assert counts.min() > 3700 and counts.max() < 4500, counts.tolist()


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_h_trains_and_g_feels_it_only_from_cr_start():
    model = tiny_model("infogan-cr", extra=("model.cr_start=1",))
    before = _params(model.H_trunk)
    logs = model.train_step(batch(8, seed=0, shape=model.image_shape), 0)
    assert "cr_loss" not in logs and all(
        torch.equal(a, b) for a, b in zip(before, _params(model.H_trunk), strict=True)
    )
    logs = model.train_step(batch(8, seed=1, shape=model.image_shape), 1)
    assert 0 <= float(logs["cr_accuracy"]) <= 1 and float(logs["cr_loss"]) > 0
    assert not all(torch.equal(a, b) for a, b in zip(before, _params(model.H_trunk), strict=True))


def test_g_steps_on_the_regulariser_and_leaves_h_to_its_own_step():
    # The same seed with the weight on and off: H's own step is the same, so H ends the same; G does not.
    models = [tiny_model("infogan-cr", extra=(f"model.cr_weight={w}",)) for w in (0.0, 2.0)]
    for model in models:
        model.train_step(batch(8, seed=0, shape=model.image_shape), 0)
    (h_off, h_on), (g_off, g_on) = ([_params(getattr(m, net)) for m in models] for net in ("H_trunk", "G"))
    assert all(torch.equal(a, b) for a, b in zip(h_off, h_on, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(g_off, g_on, strict=True))


def test_a_second_g_step_shows_h_the_pair_redrawn_by_the_g_the_first_step_left():
    model = tiny_model("infogan-cr", extra=("model.cr_start=0", "model.g_steps=2"))
    shown: list[torch.Tensor] = []
    h_logits = model._h_logits
    model._h_logits = lambda x1, x2: (shown.append(x1.detach().clone()), h_logits(x1, x2))[1]
    model.train_step(batch(8, seed=0, shape=model.image_shape), 0)
    assert len(shown) == 3  # H's step, then one per G step
    assert torch.equal(shown[0], shown[1]) and not torch.allclose(shown[1], shown[2])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.latent.codes=[cat:3, uniform:2]"], "two or more continuous codes and no categorical"),
        (["model.latent.codes=[normal:3]", "model.cr_gap=0.5"], "cr_gap needs uniform codes"),
    ],
)
def test_codes_the_regulariser_cannot_use_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_preset("dsprites-cr", overrides)


def test_a_cr_start_past_the_last_update_is_refused_naming_the_flag_that_cut_the_steps():
    with pytest.raises(
        ConfigError, match=r"in --set train.steps=2000: model.cr_start 9000 is not below"
    ) as info:
        load_preset("dsprites-cr", ["train.steps=2000", "train.threads=1"])
    assert "last tenth: 1800" in str(info.value) and "threads" not in str(info.value)
    assert load_preset("dsprites-cr", ["train.steps=2000", "model.cr_start=1800"]).model.cr_start == 1800
    with pytest.raises(
        ConfigError, match="last tenth: 4"
    ) as info:  # a start the run accepts, even for few steps
        load_preset("dsprites-cr", ["train.steps=5"])
    assert load_preset("dsprites-cr", ["train.steps=5", "model.cr_start=4"]).model.cr_start == 4


def test_the_preset_trains_h_over_the_last_tenth_as_the_authors_did():
    cfg = load_preset("dsprites-cr", [])
    assert cfg.model.name == "infogan-cr" and cfg.model.cr_start == 9000 and cfg.train.steps == 10000
    assert cfg.model.cr_weight == 2.0 and cfg.model.lr_cr == 2e-3 and cfg.model.latent.codes == ["uniform:5"]


def test_the_dsprites_backbone_is_the_authors_networks():
    from infogan.models import build_model
    from infogan.nets.dsprites import DSpritesGenerator

    model = build_model(load_preset("dsprites-cr", []).model, (1, 64, 64))
    spectral = {
        name: sum(parametrize.is_parametrized(m) for m in net.modules())
        for name in ("trunk", "d_head", "q_head", "H_trunk", "H_head")
        for net in [getattr(model, name)]
    }
    assert spectral == {"trunk": 5, "d_head": 1, "q_head": 2, "H_trunk": 5, "H_head": 1}
    for net in (model.trunk, model.q_head, model.H_trunk):
        assert not any(isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d) for m in net.modules())
    x = model.G(torch.rand(4, 10) * 2 - 1)
    assert x.shape == (4, 1, 64, 64) and x.abs().max() <= 1
    assert model.trunk(x).shape == (4, 128) and model.H_trunk(torch.cat([x, x], 1)).shape == (4, 128)
    with pytest.raises(ValueError, match="built for 64x64 images, got 32"):
        DSpritesGenerator(10, 1, 32)


def test_unit_range_runs_the_dsprites_networks_on_pixels_in_0_1():
    from infogan.models import build_model

    cfg = load_preset("dsprites-cr", ["model.unit_range=true"]).model
    torch.manual_seed(0)
    model = build_model(cfg, (1, 64, 64)).eval()
    latent = torch.rand(4, 10) * 2 - 1
    # G: the authors' sigmoid on [0, 1], handed out on [-1, 1]
    logits = model.G.up(model.G.fc(latent).view(-1, 64, 4, 4))
    torch.testing.assert_close(model.G(latent), 2 * torch.sigmoid(logits) - 1)
    # D (and H): the trunk reads (x + 1) / 2, so a blank [-1, 1] image is the zeros its convolutions pad with
    blank = -torch.ones(2, 1, 64, 64)
    torch.testing.assert_close(model.trunk(blank), model.trunk.net(torch.zeros(2, 1, 64, 64)))
    torch.testing.assert_close(
        model.H_trunk(torch.cat([blank, blank], 1)), model.H_trunk.net(torch.zeros(2, 2, 64, 64))
    )
    default = build_model(load_preset("dsprites-cr", []).model, (1, 64, 64)).eval()
    default.load_state_dict(model.state_dict())  # the option adds no weights
    assert not torch.allclose(default.trunk(blank), model.trunk(blank))
    with pytest.raises(ConfigError, match="unit_range applies only to the paper and dsprites backbones"):
        load_preset("mnist", ["model.backbone=dcgan", "model.unit_range=true"])


def test_a_dsprites_cr_run_checkpoints_and_reloads_identically(tmp_path):
    from infogan.models import build_model
    from infogan.training.checkpoint import load_checkpoint, save_checkpoint

    cfg = load_preset("dsprites-cr", ["model.cr_start=0"]).model
    torch.manual_seed(0)
    model = build_model(cfg, (1, 64, 64))
    model.seed(0)
    logs = model.train().train_step({"x": torch.rand(8, 1, 64, 64) * 2 - 1}, 0)
    assert "cr_loss" in logs
    folder = save_checkpoint(model, 1, tmp_path, {})
    torch.manual_seed(5)
    again = build_model(cfg, (1, 64, 64))
    assert load_checkpoint(folder, again)[0] == 1
    samples = [m.eval().sample(4, generator=torch.Generator().manual_seed(3)) for m in (model, again)]
    assert torch.equal(*samples)


# The dSprites presets at a tiny size: 8x8, narrow networks, 6 updates with a checkpoint every 3.
TINY_DSPRITES = [
    *TINY,
    "data.image_size=8",
    "model.backbone=paper",
    "model.latent.codes=[uniform:3]",
    "train.checkpoint_every=3",
    "train.evaluate=false",
]


def test_a_run_branched_from_infogan_before_cr_start_is_the_whole_infogan_cr_run(tmp_path):
    from infogan.api import train

    def cr(*more: str):
        return load_preset("dsprites-cr", [*TINY_DSPRITES, "model.cr_start=4", *more])

    full = train(cr(), tmp_path / "full", progress=lambda _: None)
    train(load_preset("dsprites", TINY_DSPRITES), tmp_path / "infogan", progress=lambda _: None)
    lines: list[str] = []
    start = tmp_path / "infogan" / "checkpoints" / "step-3"
    branched = train(cr(f"train.branch_from={start}"), tmp_path / "branched", progress=lines.append)
    assert branched.step == 6
    assert any(
        f"branching from {start} at step 3; starting fresh: H_head, H_trunk, optimiser cr" in line
        for line in lines
    )
    # H trained from update 4 in both; everything else carried over from the InfoGAN run's step 3
    a, b = full.model.state_dict(), branched.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    for name in ("d", "g", "cr"):
        sa, sb = (run.model.optimizers[name].state_dict() for run in (full, branched))
        assert sa["param_groups"] == sb["param_groups"]
        assert all(torch.equal(sa["state"][i]["exp_avg"], sb["state"][i]["exp_avg"]) for i in sa["state"])


def test_a_branch_keeps_its_own_learning_rates_and_refuses_what_cannot_start_it(tmp_path):
    from infogan.api import train

    train(
        load_preset("dsprites-cr", [*TINY_DSPRITES, "model.cr_start=4"]),
        tmp_path / "cr",
        progress=lambda _: None,
    )
    start = tmp_path / "cr" / "checkpoints" / "step-3"
    faster = load_preset(
        "dsprites-cr", [*TINY_DSPRITES, "model.cr_start=4", "model.lr_g=0.01", f"train.branch_from={start}"]
    )
    run = train(faster, tmp_path / "faster", progress=lambda _: None)
    assert run.model.optimizers["g"].param_groups[0]["lr"] == 0.01
    # a model without the checkpoint's H, a checkpoint at the end of the budget, a path that is no checkpoint
    with pytest.raises(CheckpointError, match=r"does not match this model: unexpected \['H_"):
        train(load_preset("dsprites", [*TINY_DSPRITES, f"train.branch_from={start}"]), tmp_path / "plain")
    # nothing trained, nothing left behind: the same command can be tried again
    assert not (tmp_path / "plain").exists()
    end = tmp_path / "cr" / "checkpoints" / "step-6"
    late = load_preset("dsprites-cr", [*TINY_DSPRITES, "model.cr_start=4", f"train.branch_from={end}"])
    with pytest.raises(ConfigError, match=r"it is at step 6, and this run's train\.steps is 6"):
        train(late, tmp_path / "late")
    nowhere = load_preset("dsprites", [*TINY_DSPRITES, f"train.branch_from={tmp_path / 'nowhere'}"])
    with pytest.raises(ConfigError, match=f"cannot branch from {tmp_path / 'nowhere'}: .* does not exist"):
        train(nowhere, tmp_path / "nowhere-run")


def test_branch_from_on_the_command_line_is_one_line_when_there_is_nothing_to_start_from(tmp_path):
    from .conftest import invoke

    missing = tmp_path / "no-such-run"
    done = invoke(
        "train", "--preset", "dsprites", "--branch-from", str(missing), "--run-dir", str(tmp_path / "r")
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: cannot branch from {missing}: run directory {missing} does not exist"
    ]


def test_branch_from_on_a_resume_with_checkpoints_is_refused(tmp_path):
    from .conftest import invoke

    parent, child = tmp_path / "parent", tmp_path / "child"
    sets = [arg for item in TINY_DSPRITES for arg in ("--set", item)]
    for run in (parent, child):
        assert invoke("train", "--preset", "dsprites", "--run-dir", str(run), *sets).returncode == 0
    again = invoke("train", "--run-dir", str(child), "--resume", "--branch-from", str(parent), "--steps", "9")
    assert again.returncode == 2
    assert f"but {child} has checkpoints of its own to resume from: drop --branch-from" in again.stderr
