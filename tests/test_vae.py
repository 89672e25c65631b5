"""The VAE (arXiv:1312.6114): its loss terms against closed forms and hand computations, the reparameterisation
trick, beta's place in the loss, the model's contract and a tiny end-to-end run."""

import json
import math

import pytest
import torch
from torch.distributions import Normal

from infogan import api
from infogan.config import load_preset
from infogan.losses.vae import bernoulli_nll, gaussian_nll, kl_to_standard_normal, reparameterise
from infogan.models import MODELS, build_model
from infogan.models.vae import VAE, VAEConfig

from .conftest import FEATURE_CACHE

SHAPE = (1, 8, 8)


def tiny_vae(seed: int = 0, **overrides) -> VAE:
    cfg = VAEConfig(latent_dim=3, hidden=[32, 16], **overrides)
    torch.manual_seed(seed)
    model = VAE(cfg, SHAPE)
    model.seed(seed)
    return model


def batch(n: int = 16, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.rand(n, *SHAPE, generator=g) * 2 - 1}


# --- losses ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mu", "logvar"), [([0.0, 0.0], [0.0, 0.0]), ([1.0, -0.5], [0.0, 0.5]), ([2.0, 0.3], [-1.5, 1.0])]
)
def test_closed_form_kl_matches_monte_carlo(mu, logvar):
    mu_t, logvar_t = torch.tensor([mu], dtype=torch.float64), torch.tensor([logvar], dtype=torch.float64)
    q = Normal(mu_t, (0.5 * logvar_t).exp())
    g = torch.Generator().manual_seed(0)
    z = mu_t + (0.5 * logvar_t).exp() * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    log_ratio = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(dim=1)  # (S,) log q(z) - log p(z)
    estimate, stderr = log_ratio.mean(), log_ratio.std() / math.sqrt(len(log_ratio))
    closed = kl_to_standard_normal(mu_t, logvar_t)
    assert closed.shape == (1,)
    assert abs(float(closed) - float(estimate)) <= 4 * float(stderr) + 1e-9


def test_kl_is_zero_at_the_prior():
    assert torch.equal(kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))


def sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_bernoulli_nll_by_hand():
    logits = torch.tensor([[[[0.0, 2.0]]], [[[-1.0, 0.0]]]])  # (2, 1, 1, 2)
    target = torch.tensor([[[[1.0, 0.25]]], [[[0.0, 0.5]]]])
    first = -math.log(0.5) - (0.25 * math.log(sig(2)) + 0.75 * math.log(1 - sig(2)))
    second = -math.log(1 - sig(-1)) - math.log(0.5)
    assert torch.allclose(bernoulli_nll(logits, target), torch.tensor([first, second]), atol=1e-6)


def test_gaussian_nll_by_hand():
    mean = torch.tensor([[0.0, 1.0], [3.0, 3.0]])
    target = torch.tensor([[1.0, 1.0], [3.0, 2.0]])
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    # sigma = 2: each pixel costs log 2 + 0.5 * ((x - mean) / 2)^2 + 0.5 log(2 pi)
    per_image = [2 * math.log(2) + 0.125 + 2 * half_log_2pi, 2 * math.log(2) + 0.125 + 2 * half_log_2pi]
    assert torch.allclose(gaussian_nll(mean, target, math.log(2)), torch.tensor(per_image), atol=1e-6)
    # sigma = 1 as a tensor: 0.5 * squared error + 0.5 log(2 pi) per pixel
    assert torch.allclose(
        gaussian_nll(mean, target, torch.tensor(0.0)),
        torch.tensor([0.5 + 2 * half_log_2pi, 0.5 + 2 * half_log_2pi]),
        atol=1e-6,
    )


def test_reparameterised_gradients_reach_mu_and_logvar():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, 1.0]], requires_grad=True)
    z = reparameterise(mu, logvar, torch.Generator().manual_seed(0))
    z.pow(2).sum().backward()
    assert mu.grad is not None and logvar.grad is not None
    assert (mu.grad != 0).all() and (logvar.grad != 0).all()


def test_reparameterised_draws_have_the_posterior_mean_and_std():
    n = 100_000
    mu = torch.tensor([1.0, -2.0]).expand(n, 2)
    logvar = torch.tensor([0.0, math.log(4.0)]).expand(n, 2)
    z = reparameterise(mu, logvar, torch.Generator().manual_seed(0))
    std = torch.tensor([1.0, 2.0])
    assert torch.allclose(z.mean(dim=0), torch.tensor([1.0, -2.0]), atol=4 * float(std.max()) / math.sqrt(n))
    assert torch.allclose(z.std(dim=0), std, rtol=0.02)


# --- the model -------------------------------------------------------------------------------------------------
def test_registered_and_latent_codes_are_normal():
    assert MODELS["vae"] is VAE
    spec = tiny_vae().latent
    assert spec.noise == 0 and spec.dim == 3
    assert [(c.name, c.kind) for c in spec.codes] == [("c1", "normal"), ("c2", "normal"), ("c3", "normal")]


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_train_step_logs_the_elbo_and_changes_every_parameter(likelihood):
    model = tiny_vae(likelihood=likelihood)
    before = {k: v.clone() for k, v in model.named_parameters()}
    logs = model.train_step(batch(), 0)
    assert set(logs) == {"loss", "elbo", "reconstruction", "kl"}
    assert all(v.ndim == 0 and torch.isfinite(v) and not v.requires_grad for v in logs.values())
    assert torch.equal(logs["elbo"], -(logs["reconstruction"] + logs["kl"]))
    assert torch.equal(logs["loss"], -logs["elbo"])  # beta = 1
    unchanged = [k for k, v in model.named_parameters() if torch.equal(before[k], v)]
    assert not unchanged, f"parameters not updated: {unchanged}"
    if likelihood == "gaussian":
        assert "log_sigma" in before  # the decoder's scalar sigma is learned


def test_beta_scales_only_the_kl_term():
    one, four = tiny_vae(beta=1.0).train_step(batch(), 0), tiny_vae(beta=4.0).train_step(batch(), 0)
    assert torch.equal(one["reconstruction"], four["reconstruction"]) and torch.equal(one["kl"], four["kl"])
    assert torch.equal(one["elbo"], four["elbo"])  # the logged ELBO ignores the training beta
    assert torch.allclose(four["loss"] - one["loss"], 3 * one["kl"])
    assert torch.allclose(four["loss"], four["reconstruction"] + 4 * four["kl"])


def test_training_is_deterministic_for_a_seed():
    a, b = tiny_vae(), tiny_vae()
    for step in range(3):
        la, lb = a.train_step(batch(seed=step), step), b.train_step(batch(seed=step), step)
        assert all(torch.equal(la[k], lb[k]) for k in la)


def test_represent_returns_the_encoder_means():
    model = tiny_vae()
    x = batch(5)["x"]
    codes = model.represent(x)
    assert codes.shape == (5, 3)
    assert torch.equal(codes, model.encode(x)[0].detach())


def test_reconstruct_decodes_the_means_into_image_range():
    model = tiny_vae()
    for step in range(3):
        model.train_step(batch(seed=step), step)
    x = batch(4)["x"]
    out = model.reconstruct(x)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert torch.allclose(out, torch.sigmoid(model.decoder(model.represent(x))) * 2 - 1)


def test_held_out_metrics_are_finite_and_repeatable():
    model = tiny_vae()
    model.train_step(batch(), 0)
    data = batch(37, seed=5)["x"]
    first, second = model.held_out_metrics(data, batch_size=10), model.held_out_metrics(data, batch_size=10)
    assert set(first) == {"elbo", "reconstruction", "kl", "active_units"}
    assert all(math.isfinite(v) for v in first.values())
    assert first == second  # one posterior sample per image, from a fixed seed
    assert first["elbo"] == pytest.approx(-(first["reconstruction"] + first["kl"]))
    assert first["kl"] >= 0
    assert model.training  # eval mode is restored


def test_active_units_count_the_dimensions_whose_mean_varies_with_x():
    model = tiny_vae()
    d = model.cfg.latent_dim
    data = batch(40, seed=5)["x"]
    live = [0, 2]
    # mu_d = 0.2 * (the sum of x's pixels) for the live dimensions, the constant 0.5 for the others
    model.encode = lambda x: (  # type: ignore[method-assign]
        torch.stack(
            [x.flatten(1).sum(1) * 0.2 if i in live else torch.full((len(x),), 0.5) for i in range(d)], 1
        ),
        torch.zeros(len(x), d),
    )
    assert model.held_out_metrics(data, batch_size=7)["active_units"] == len(live)
    model.encode = lambda x: (
        torch.full((len(x), d), 0.5) + 0.05 * torch.randn(len(x), d),
        torch.zeros(len(x), d),
    )
    assert model.held_out_metrics(data, batch_size=7)["active_units"] == 0  # variance 0.0025, below 0.01


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_generate_shape_and_range(likelihood):
    model = tiny_vae(likelihood=likelihood)
    a = model.sample(6, generator=torch.Generator().manual_seed(1))
    b = model.sample(6, generator=torch.Generator().manual_seed(1))
    assert a.shape == (6, *SHAPE) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1


def test_dcgan_backbone_builds_for_28x28_and_trains():
    cfg = VAEConfig(backbone="dcgan", width=4, latent_dim=2, norm="batch")
    model = VAE(cfg, (1, 28, 28))
    model.seed(0)
    logs = model.train_step({"x": torch.rand(4, 1, 28, 28) * 2 - 1}, 0)
    assert all(torch.isfinite(v) for v in logs.values())
    assert model.sample(2).shape == (2, 1, 28, 28)
    assert model.represent(torch.zeros(3, 1, 28, 28)).shape == (3, 2)


def test_dcgan_backbone_rejects_unsupported_sizes():
    with pytest.raises(ValueError, match="28, 32, 64"):
        VAE(VAEConfig(backbone="dcgan"), SHAPE)


def test_preset_is_mnist_with_a_bernoulli_mlp():
    cfg = load_preset("vae")
    assert cfg.data.name == "mnist" and cfg.data.fallback == "mnist-sample" and cfg.data.download
    assert isinstance(cfg.model, VAEConfig)
    assert (cfg.model.latent_dim, cfg.model.likelihood, cfg.model.beta) == (20, "bernoulli", 1.0)
    assert cfg.train.batch_size == 128
    model = build_model(cfg.model, (1, 28, 28))
    assert model.optimizers["vae"].defaults["lr"] == 1e-3


def test_tiny_run_end_to_end_writes_a_held_out_elbo(tmp_path):
    cfg = load_preset(
        "vae",
        [
            "data.name=digits",
            "model.latent_dim=2",
            "model.hidden=[32, 16]",
            "train.batch_size=16",
            "train.steps=4",
            "train.log_every=2",
            "train.sample_every=4",
            "train.checkpoint_every=4",
            "eval.metrics=[codes]",
            "eval.batch_size=64",
            f"eval.feature_cache={FEATURE_CACHE}",
        ],
    )
    run = api.train(cfg, tmp_path / "run", progress=lambda s: None)
    assert run.step == 4
    assert all(run.dir.traversal(c).is_file() for c in ("c1", "c2"))
    held_out = json.loads(run.dir.eval.read_text())["held_out"]
    assert set(held_out) == {"elbo", "reconstruction", "kl", "active_units"} and math.isfinite(
        held_out["elbo"]
    )

    # The reconstruct command: held-out images over their reconstructions, in one grid.
    from infogan.cli import main  # noqa: F401  (registers the commands)

    from .conftest import invoke

    result = invoke("reconstruct", str(run.dir.path), "-n", "5", "--nrow", "4", "-o", str(tmp_path / "r.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.png").stat().st_size > 100
    x, recon = api.load_run(run.dir.path).reconstruct(5)
    assert x.shape == recon.shape == (5, 1, 8, 8) and recon.min() >= -1 and recon.max() <= 1
    # more than the held-out split has: all 300 of them, said so, and no padding beyond them
    many = invoke("reconstruct", str(run.dir.path), "-n", "5000", "-o", str(tmp_path / "all.png"))
    assert many.returncode == 0, many.stderr
    assert "the held-out split has 300 images, fewer than -n 5000" in many.stderr
    assert "wrote 300 held-out images" in many.stderr
