"""Contract tests over every registered model, and InfoGAN's distinctive numerics."""

import pytest
import torch

from infogan.config import load_preset
from infogan.models import MODELS, build_model
from infogan.models.infogan import InfoGAN
from infogan.nets.paper import MNISTGenerator, MNISTTrunk

from .conftest import TINY, TINY_MODELS


def tiny_model(name: str, seed: int = 0, extra: tuple[str, ...] = ()):
    preset, overrides, shape = TINY_MODELS[name]
    cfg = load_preset(preset, [*overrides, *extra])
    torch.manual_seed(seed)
    model = build_model(cfg.model, shape)
    model.seed(seed)
    return model


def batch(n: int = 16, seed: int = 0, shape: tuple[int, int, int] = (1, 8, 8)):
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.rand(n, *shape, generator=g) * 2 - 1, "y": torch.randint(10, (n,), generator=g)}


def test_every_registered_model_has_a_tiny_config():
    assert set(TINY_MODELS) == set(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_train_step_changes_every_net_and_logs_finite_values(name):
    model = tiny_model(name)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = 8 * model.real_batches_per_step
    logs = model.train_step(batch(images, shape=model.image_shape), 0)
    assert logs and all(v.ndim == 0 and torch.isfinite(v) and not v.requires_grad for v in logs.values())
    after = model.state_dict()
    for child, _ in model.named_children():
        changed = [k for k in before if k.startswith(child + ".") and not torch.equal(before[k], after[k])]
        assert changed, f"no parameter of {name}.{child} changed"


@pytest.mark.parametrize("name", list(MODELS))
def test_seeded_sampling_is_repeatable_and_in_range(name):
    model = tiny_model(name)
    a = model.sample(6, generator=torch.Generator().manual_seed(1))
    b = model.sample(6, generator=torch.Generator().manual_seed(1))
    assert a.shape == (6, *model.image_shape) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_checkpoints_and_reloads_identically(name, tmp_path):
    from infogan.training.checkpoint import load_checkpoint, save_checkpoint

    model = tiny_model(name)
    model.train_step(batch(8 * model.real_batches_per_step, shape=model.image_shape), 0)
    folder = save_checkpoint(model, 1, tmp_path, {})
    again = tiny_model(name, seed=5)
    step, _ = load_checkpoint(folder, again)
    assert step == 1
    x = torch.Generator().manual_seed(3)
    assert torch.equal(
        model.eval().sample(4, generator=x),
        again.eval().sample(4, generator=torch.Generator().manual_seed(3)),
    )


def test_training_is_deterministic_for_a_seed():
    a, b = tiny_model("infogan"), tiny_model("infogan")
    for step in range(3):
        la, lb = a.train_step(batch(seed=step), step), b.train_step(batch(seed=step), step)
        assert all(torch.equal(la[k], lb[k]) for k in la)


def test_logs_name_every_code():
    logs = tiny_model("infogan").train_step(batch(), 0)
    assert set(logs) == {"d_loss", "g_loss", "info_loss", "mi_c1", "mi_c2", "mi_c3"}


def info_grads(model: InfoGAN):
    """Gradients of the information term alone w.r.t. G and Q, through a fresh G pass."""
    latent = model.latent.sample(16, generator=torch.Generator().manual_seed(0))
    x_fake = model.G(model.latent.to_input(latent))
    nll = model.latent.code_nll(model.q_head(model.trunk(x_fake)), latent)
    loss = sum(nll.values())
    params = {"G": list(model.G.parameters()), "Q": list(model.q_head.parameters())}
    grads = torch.autograd.grad(loss, params["G"] + params["Q"])
    return grads[: len(params["G"])], grads[len(params["G"]) :]


def test_information_term_reaches_g_and_q():
    g_grads, q_grads = info_grads(tiny_model("infogan"))
    assert sum(g.abs().sum() for g in g_grads) > 0
    assert sum(g.abs().sum() for g in q_grads) > 0


def one_step(lam: float, *, freeze_d: bool = False):
    cfg = load_preset("digits", [*TINY, f"model.lambda_cat={lam}", f"model.lambda_cont={lam}"])
    torch.manual_seed(0)
    model = build_model(cfg.model, (1, 8, 8))
    model.seed(0)
    if freeze_d:
        for group in model.optimizers["d"].param_groups:
            group["lr"] = 0.0
    model.train_step(batch(), 0)
    return model


def differs(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    return any(not torch.equal(pa[k], pb[k]) for k in pa)


def test_g_update_depends_on_the_information_term():
    # D's step is a no-op in both arms, so G's update can differ only through the G step's own lambda * L_I:
    # a train_step that detached the information term from G (a common bug) would give identical G's.
    assert differs(one_step(1.0, freeze_d=True).G, one_step(0.0, freeze_d=True).G)


def test_q_head_is_trained_by_the_information_term_only():
    torch.manual_seed(0)
    untouched = build_model(load_preset("digits", TINY).model, (1, 8, 8))
    assert differs(one_step(1.0).q_head, untouched.q_head)
    assert not differs(one_step(0.0).q_head, untouched.q_head)


@pytest.mark.parametrize("still", ["d", "g"])
def test_each_step_moves_only_its_own_networks(still):
    # With one optimiser's learning rate at 0 its own step is a no-op: a change to its networks would come from
    # the other step (G's step must leave D, D's head and Q's head alone; D/Q's step must leave G alone).
    model = tiny_model("infogan")
    for group in model.optimizers[still].param_groups:
        group["lr"] = 0.0
    nets = [model.trunk, model.d_head, model.q_head] if still == "d" else [model.G]
    before = [p.detach().clone() for m in nets for p in m.parameters()]
    model.train_step(batch(), 0)
    after = [p for m in nets for p in m.parameters()]
    assert all(torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_g_step_leaves_d_and_q_unfrozen_and_each_optimiser_owns_its_networks():
    model = tiny_model("infogan")
    model.train_step(batch(), 0)  # create optimiser state
    d_params = [p for m in (model.trunk, model.d_head, model.q_head) for p in m.parameters()]
    assert all(p.requires_grad for p in d_params), "D must be unfrozen after the G step"
    opt_d_ids = {id(p) for g in model.optimizers["d"].param_groups for p in g["params"]}
    opt_g_ids = {id(p) for g in model.optimizers["g"].param_groups for p in g["params"]}
    assert opt_d_ids == {id(p) for p in d_params}  # Q's head is trained by D's optimiser (official code)
    assert opt_g_ids == {id(p) for p in model.G.parameters()}


def test_paper_mnist_architecture_shapes():
    cfg = load_preset("mnist")
    model = build_model(cfg.model, (1, 28, 28))
    assert isinstance(model, InfoGAN)
    g, trunk = model.G, model.trunk
    assert isinstance(g, MNISTGenerator) and isinstance(trunk, MNISTTrunk)
    linears = [m for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(74, 1024), (1024, 7 * 7 * 128)]
    deconvs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in deconvs] == [
        (64, (4, 4), (2, 2)),
        (1, (4, 4), (2, 2)),
    ]
    convs = [m for m in trunk.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (64, (4, 4), (2, 2)),
        (128, (4, 4), (2, 2)),
    ]
    slopes = {
        m.negative_slope
        for m in list(trunk.modules()) + list(model.q_head.modules())
        if isinstance(m, torch.nn.LeakyReLU)
    }
    assert slopes == {0.1}
    q_linears = [m for m in model.q_head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in q_linears] == [(1024, 128), (128, 14)]
    assert model.d_head.fc.out_features == 1
    x = model.sample(2)
    assert x.shape == (2, 1, 28, 28)
    post = model.infer_codes(x)
    assert post["c1"]["logits"].shape == (2, 10) and post["c2"]["mean"].shape == (2,)
    opts = model.optimizers
    assert opts["d"].defaults["lr"] == 2e-4 and opts["g"].defaults["lr"] == 1e-3
    assert opts["d"].defaults["betas"][0] == 0.5 and opts["g"].defaults["betas"][0] == 0.5
