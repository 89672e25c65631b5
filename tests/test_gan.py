"""The GAN (arXiv:1406.2661) and the conditional GAN (arXiv:1411.1784): the paper's optimal-discriminator theory
(Prop. 1 and Thm. 1) checked numerically with the project's D loss, then each model's contract at tiny sizes."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch import nn

from infogan import api
from infogan.cli.sample import class_rows, label_code
from infogan.config import config_differences, load_preset
from infogan.errors import ConfigError
from infogan.losses.adversarial import d_bce_loss
from infogan.models import build_model
from infogan.models.cgan import CGAN, ConditionalMLPDiscriminator, ConditionalMLPGenerator
from infogan.models.gan import GAN
from infogan.nets.mlp import Maxout
from infogan.viz.grids import preview_latent

from .conftest import FEATURE_CACHE, invoke

LOG4 = math.log(4.0)
P_DATA, P_G = stats.norm(0.0, 1.0), stats.norm(1.5, 0.7)


# --- theory: the optimal discriminator and the value of the game ------------------------------------------------
def d_star(x, p=P_DATA, q=P_G):
    """Prop. 1: for a fixed G the optimal D is p_data / (p_data + p_g)."""
    return p.pdf(x) / (p.pdf(x) + q.pdf(x))


def d_star_logit(x: float, p=P_DATA, q=P_G) -> float:
    """D*'s logit, log p_data(x) - log p_g(x): finite in the tails, where D* itself rounds to 0 or 1."""
    return p.logpdf(x) - q.logpdf(x)


def integral(f) -> float:
    return integrate.quad(f, -15, 15, points=[0.0, 1.5], limit=200)[0]


def jsd(p=P_DATA, q=P_G) -> float:
    """Jensen-Shannon divergence in nats by numerical integration."""

    def kl_terms(x: float) -> float:
        log_m = np.logaddexp(p.logpdf(x), q.logpdf(x)) - math.log(2)
        return 0.5 * p.pdf(x) * (p.logpdf(x) - log_m) + 0.5 * q.pdf(x) * (q.logpdf(x) - log_m)

    return integral(kl_terms)


def value_of(logit, p=P_DATA, q=P_G) -> float:
    """V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))] by numerical integration, for D = sigmoid(logit(x)):
    log D = -softplus(-logit) and log(1 - D) = -softplus(logit)."""
    return integral(lambda x: -p.pdf(x) * np.logaddexp(0, -logit(x)) - q.pdf(x) * np.logaddexp(0, logit(x)))


def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_the_jsd():
    # Thm. 1: C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g).
    assert 0.1 < jsd() < math.log(2)
    assert value_of(d_star_logit) == pytest.approx(-LOG4 + 2 * jsd(), abs=1e-6)
    # and D* is the maximiser: moving its logit either way lowers V
    assert value_of(lambda x: d_star_logit(x) + 0.3) < value_of(d_star_logit)
    assert value_of(lambda x: d_star_logit(x) - 0.3) < value_of(d_star_logit)


def test_value_is_minus_log4_when_the_generator_matches_the_data():
    assert jsd(P_DATA, P_DATA) == pytest.approx(0.0, abs=1e-9)
    assert d_star(0.3, P_DATA, P_DATA) == pytest.approx(0.5)
    assert value_of(lambda x: 0.0, P_DATA, P_DATA) == pytest.approx(-LOG4, abs=1e-6)


def draw(dist, n: int, g: torch.Generator) -> torch.Tensor:
    mean, std = dist.mean(), dist.std()
    return (mean + std * torch.randn(n, 1, generator=g, dtype=torch.float64)).float()


def test_a_discriminator_trained_with_the_d_loss_reaches_the_optimal_one_and_the_jsd():
    # p_data and p_g are fixed and sampled directly (no generator training): D alone maximises V(D, G).
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 4000
    x = torch.cat([draw(P_DATA, n, g), draw(P_G, n, g)])  # (2n, 1): real, then fake
    disc = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(disc.parameters(), lr=3e-2)
    for _ in range(200):  # full batch, to convergence
        logits = disc(x).squeeze(1)
        loss = d_bce_loss(logits[:n], logits[n:])
        opt.zero_grad()
        loss.backward()
        opt.step()

    with torch.no_grad():
        # (a) D(x) ~ D*(x) where both densities are non-negligible (here both pdfs > 0.05).
        grid = torch.linspace(0.0, 2.0, 41).unsqueeze(1)
        assert min(P_DATA.pdf(grid.numpy()).min(), P_G.pdf(grid.numpy()).min()) > 0.05
        d_grid = disc(grid).sigmoid().squeeze(1).double()
        expected = torch.as_tensor(d_star(grid.squeeze(1).double().numpy()))
        assert (d_grid - expected).abs().max() < 0.05
        # (b) V(D, G) by Monte Carlo on fresh samples ~ -log 4 + 2 JSD: -d_bce_loss is the value of the game.
        value = -d_bce_loss(disc(draw(P_DATA, 200_000, g)).squeeze(1), disc(draw(P_G, 200_000, g)).squeeze(1))
    assert float(value) == pytest.approx(-LOG4 + 2 * jsd(), abs=0.03)


# --- tiny models -----------------------------------------------------------------------------------------------
TINY_GAN = ["model.latent.noise=4", "model.g_hidden=[32]", "model.d_hidden=[32]", "model.width=8"]
TINY_CGAN = ["model.noise=4", "model.width=8"]


def tiny(preset: str, *overrides: str, shape=(1, 8, 8), seed: int = 0):
    extra = TINY_CGAN if preset.startswith("cgan") else TINY_GAN
    cfg = load_preset(preset, [*extra, *overrides])
    torch.manual_seed(seed)
    model = build_model(cfg.model, shape)
    model.seed(seed)
    return model


def batch(n: int = 16, shape=(1, 8, 8), seed: int = 0, labels: bool = True):
    g = torch.Generator().manual_seed(seed)
    out = {"x": torch.rand(n, *shape, generator=g) * 2 - 1}
    if labels:
        out["y"] = torch.randint(10, (n,), generator=g)
    return out


def params(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


def d_modules(model) -> nn.Module:
    return model.D if isinstance(model, CGAN) else nn.ModuleList([model.trunk, model.d_head])


CASES = [
    ("gan", (1, 8, 8)),
    ("dcgan", (1, 28, 28)),
    ("cgan-mlp", (1, 8, 8)),
    ("cgan", (1, 28, 28)),
]
CASE_IDS = ["gan-mlp", "gan-dcgan", "cgan-mlp", "cgan-dcgan"]


def case_model(preset: str, shape, *overrides: str):
    return tiny(preset, *overrides, shape=shape)


@pytest.mark.parametrize(("preset", "shape"), CASES, ids=CASE_IDS)
def test_train_step_updates_g_and_d_and_logs_finite_detached_scalars(preset, shape):
    model = case_model(preset, shape)
    d = d_modules(model)
    g_before, d_before = params(model.G), params(d)
    logs = model.train_step(batch(8, shape), 0)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "g_grad"}
    assert all(v.ndim == 0 and torch.isfinite(v) and not v.requires_grad for v in logs.values())
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1 and logs["g_grad"] > 0
    assert changed(g_before, model.G) and changed(d_before, d)
    assert all(p.requires_grad for p in d.parameters()), "D must be unfrozen after the G step"


def test_g_grad_is_not_logged_under_a_gradient_scaler():
    # fp16's scaler skips overflowing steps and leaves infinite gradients behind: not a divergence to report.
    model = tiny("gan")
    model.grad_scaler = torch.amp.GradScaler("cpu")
    assert "g_grad" not in model.train_step(batch(8, (1, 8, 8)), 0)


def test_the_minimax_loss_leaves_g_almost_no_gradient_when_d_rejects_every_sample():
    # The GAN paper's Sec. 3: early on D rejects G's samples with high confidence and log(1 - D(G(z))) saturates;
    # the non-saturating loss keeps G's gradient. D is made confident (logit about -12) and kept so (lr 0).
    norms = {}
    for loss in ("minimax", "non-saturating"):
        model = tiny("gan", f"model.adversarial={loss}")
        model.optimizers["d"].param_groups[0]["lr"] = 0.0
        with torch.no_grad():
            model.d_head.fc.weight.mul_(0.1)
            model.d_head.fc.bias.fill_(-12.0)
        logs = model.train_step(batch(8, (1, 8, 8)), 0)
        assert float(logs["d_fake"]) < 1e-5
        norms[loss] = float(logs["g_grad"])
    assert norms["minimax"] < 1e-4 * norms["non-saturating"]


@pytest.mark.parametrize(("preset", "shape"), CASES, ids=CASE_IDS)
def test_the_g_step_leaves_d_untouched(preset, shape):
    # With D's learning rate at 0 its own step is a no-op: any change to D would come from the G step.
    model = case_model(preset, shape)
    model.optimizers["d"].param_groups[0]["lr"] = 0.0
    d = d_modules(model)
    d_before = params(d)
    model.train_step(batch(8, shape), 0)
    assert not changed(d_before, d)
    opt_g = {id(p) for group in model.optimizers["g"].param_groups for p in group["params"]}
    assert opt_g == {id(p) for p in model.G.parameters()}


@pytest.mark.parametrize(("preset", "shape"), CASES, ids=CASE_IDS)
def test_samples_have_the_image_shape_are_in_range_and_repeatable(preset, shape):
    model = case_model(preset, shape)
    a = model.sample(5, generator=torch.Generator().manual_seed(1))
    b = model.sample(5, generator=torch.Generator().manual_seed(1))
    assert a.shape == (5, *shape) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1


def test_training_is_deterministic_for_a_seed():
    a, b = tiny("gan"), tiny("gan")
    for step in range(2):
        la, lb = a.train_step(batch(seed=step), step), b.train_step(batch(seed=step), step)
        assert all(torch.equal(la[k], lb[k]) for k in la)


def test_k_discriminator_steps_take_a_fresh_real_batch_each():
    model = tiny("gan", "model.d_steps=3")
    assert isinstance(model, GAN) and model.real_batches_per_step == 3
    model.train_step(batch(24), 0)  # three real batches of 8, concatenated by the loop
    first_d = next(iter(model.optimizers["d"].state.values()))
    first_g = next(iter(model.optimizers["g"].state.values()))
    assert int(first_d["step"]) == 3 and int(first_g["step"]) == 1
    with pytest.raises(ValueError, match="d_steps=3 real batches"):
        model.train_step(batch(16), 1)


@pytest.mark.parametrize(
    ("preset", "override", "message"),
    [
        ("gan", "model.latent.codes=[cat:10]", "a GAN has no latent codes"),
        ("gan", "model.adversarial=wasserstein", "use the wgan model"),
        ("cgan", "model.adversarial=wasserstein", "use the wgan model"),
        ("gan", "model.latent.noise=0", "set model.latent.noise to 1 or more"),
        ("gan", "model.g_hidden=[0]", "must be positive"),
    ],
)
def test_config_mistakes_are_refused_with_a_pointer(preset, override, message):
    with pytest.raises(ConfigError, match=message):
        load_preset(preset, [override])


def test_gan_accepts_the_other_adversarial_losses():
    for loss in ("minimax", "least-squares", "hinge"):
        logs = tiny("gan", f"model.adversarial={loss}").train_step(batch(), 0)
        assert torch.isfinite(logs["g_loss"])


# --- conditional GAN -------------------------------------------------------------------------------------------
def test_cgan_label_is_the_categorical_code_c1():
    model = tiny("cgan-mlp")
    assert model.conditional_code == "c1" and [(c.name, c.k) for c in model.latent.codes] == [("c1", 10)]
    preview, cols = preview_latent(model.latent, seed=0)
    assert cols == 10 and set(preview.c_cat[:, 0].tolist()) == set(range(10))  # one column per class


def test_cgan_generates_the_requested_class():
    model = tiny("cgan-mlp")
    seen: list[torch.Tensor] = []
    model.G.y_branch.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    sevens = model.sample(6, codes={"c1": 7}, generator=torch.Generator().manual_seed(0))
    assert torch.equal(seen[0].argmax(dim=1), torch.full((6,), 7)) and torch.all(seen[0].sum(dim=1) == 1)
    threes = model.sample(6, codes={"c1": 3}, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(sevens, threes)  # same noise, another label: other images


@pytest.mark.parametrize(
    ("preset", "shape"), [("cgan-mlp", (1, 8, 8)), ("cgan", (1, 28, 28))], ids=["mlp", "dcgan"]
)
def test_cgan_discriminator_reads_the_label(preset, shape):
    model = case_model(preset, shape)
    x = batch(4, shape)["x"]
    with torch.no_grad():
        model.D.eval()
        a = model.D(x, model.one_hot(torch.tensor([1, 2, 3, 4])))
        b = model.D(x, model.one_hot(torch.tensor([5, 6, 7, 8])))
    assert a.shape == (4,) and not torch.allclose(a, b)


def test_cgan_refuses_unlabelled_data_and_labels_beyond_its_classes():
    model = tiny("cgan-mlp")
    with pytest.raises(ConfigError, match="the conditional GAN needs a labelled dataset"):
        model.train_step(batch(labels=False), 0)
    too_many = {**batch(), "y": torch.full((16,), 12)}
    with pytest.raises(ConfigError, match=r"label 12 .* num_classes 10"):
        model.train_step(too_many, 0)


def test_cgan_mlp_is_the_papers_mnist_architecture():
    model = build_model(load_preset("cgan-mlp").model, (1, 28, 28))
    assert isinstance(model.G, ConditionalMLPGenerator) and isinstance(model.D, ConditionalMLPDiscriminator)
    g_linears = [(m.in_features, m.out_features) for m in model.G.modules() if isinstance(m, nn.Linear)]
    assert g_linears == [(100, 200), (10, 1000), (1200, 1200), (1200, 784)]
    maxouts = [(m.fc.in_features, m.units, m.pieces) for m in model.D.modules() if isinstance(m, Maxout)]
    assert maxouts == [(784, 240, 5), (10, 50, 5), (290, 240, 4)]
    dropouts = {m.p for m in model.modules() if isinstance(m, nn.Dropout)}
    assert dropouts == {0.5}
    assert model.latent.noise_prior == "uniform" and model.latent.noise == 100


def test_maxout_is_the_max_over_pieces():
    layer = Maxout(3, units=2, pieces=4)
    x = torch.randn(5, 3)
    pieces = (x @ layer.fc.weight.T + layer.fc.bias).view(5, 2, 4)
    assert torch.equal(layer(x), pieces.max(dim=2).values)


# --- presets, the training loop and the command line -----------------------------------------------------------
def test_presets_load_with_their_documented_settings():
    gan, dcgan, cgan = load_preset("gan"), load_preset("dcgan"), load_preset("cgan")
    cgan_mlp = load_preset("cgan-mlp")
    assert (gan.model.name, gan.model.backbone, gan.train.batch_size) == ("gan", "mlp", 64)
    assert (dcgan.model.name, dcgan.model.backbone, dcgan.train.batch_size) == ("gan", "dcgan", 128)
    assert (cgan.model.name, cgan.model.backbone, cgan.train.batch_size) == ("cgan", "dcgan", 100)
    assert (cgan_mlp.model.name, cgan_mlp.model.backbone, cgan_mlp.train.batch_size) == ("cgan", "mlp", 100)
    differences = config_differences(cgan_mlp.model_dump(mode="json"), cgan.model_dump(mode="json"))
    assert [key for key, _, _ in differences] == ["model.backbone", "preset"]
    for cfg in (gan, dcgan, cgan, cgan_mlp):
        m = cfg.model
        assert (m.adversarial, m.lr_d, m.lr_g, m.beta1) == ("non-saturating", 2e-4, 2e-4, 0.5)
        assert cfg.data.name == "mnist" and cfg.data.fallback == "mnist-sample" and cfg.train.steps == 5000
    assert gan.model.latent.noise == 100 and gan.model.latent.noise_prior == "normal"


TINY_RUN = [
    "train.batch_size=8",
    "train.steps=2",
    "train.log_every=1",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "eval.metrics=[codes]",
    "eval.batch_size=64",
    f"eval.feature_cache={FEATURE_CACHE}",
]
DIGITS = ["data.name=digits", "data.fallback=null", "data.download=false"]


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("gan", [*TINY_GAN, "model.d_steps=2"]),
        ("dcgan", [*TINY_GAN, "data.image_size=28"]),  # digits resized to 28x28: DCGAN's smallest size
        ("cgan-mlp", TINY_CGAN),
        ("cgan", [*TINY_CGAN, "data.image_size=28"]),
    ],
    ids=["gan", "dcgan", "cgan-mlp", "cgan"],
)
def test_preset_trains_through_the_api(preset, overrides, tmp_path):
    cfg = load_preset(preset, [*DIGITS, *overrides, *TINY_RUN])
    run = api.train(cfg, tmp_path / "run", progress=lambda s: None)
    assert run.step == 2 and run.dir.eval.is_file()
    assert (run.dir.samples / "step-2.png").is_file()
    log = run.dir.metrics.read_text()
    assert all(key in log for key in ("d_loss", "g_loss", "d_real", "d_fake"))


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    cfg = load_preset("cgan-mlp", [*DIGITS, *TINY_CGAN, *TINY_RUN, "train.steps=1"])
    return api.train(cfg, tmp_path_factory.mktemp("cgan") / "run", progress=lambda s: None)


def test_sample_label_draws_one_class(cgan_run, tmp_path, monkeypatch):
    drawn: list[torch.Tensor] = []
    monkeypatch.setattr("infogan.viz.grids.save_grid", lambda images, *args, **kwargs: drawn.append(images))
    for label in ("7", "3"):
        result = invoke("sample", str(cgan_run.dir.path), "-n", "4", "--seed", "2", "--label", label)
        assert result.returncode == 0, result.stderr
    assert label_code(cgan_run.model, 7) == "c1"
    assert torch.equal(drawn[0], cgan_run.sample(4, codes={"c1": 7}, seed=2))  # the sevens the API draws
    assert not torch.equal(drawn[0], drawn[1])  # and not the threes


def test_sample_label_all_draws_one_row_per_class_with_shared_noise(cgan_run, tmp_path):
    rows = class_rows(cgan_run, 3, {}, seed=5)
    assert rows.shape == (30, *cgan_run.model.image_shape)
    for k in (0, 7):
        assert torch.equal(rows[3 * k : 3 * k + 3], cgan_run.sample(3, codes={"c1": k}, seed=5))
    out = tmp_path / "classes.png"
    result = invoke("sample", str(cgan_run.dir.path), "-n", "3", "-o", str(out), "--label", "all")
    assert result.returncode == 0 and out.is_file(), result.stderr
    assert "wrote 3 samples of each of 10 classes" in result.stderr
    bad = invoke("sample", str(cgan_run.dir.path), "-o", str(tmp_path / "x.png"), "--label", "seven")
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "error: --label takes a class number or 'all', got 'seven'"
    )


def test_sample_label_out_of_range_is_one_line(cgan_run, tmp_path):
    result = invoke("sample", str(cgan_run.dir.path), "-o", str(tmp_path / "x.png"), "--label", "10")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --label 10 is out of range: this cgan has 10 classes, 0..9"


def test_sample_label_needs_a_conditional_model():
    with pytest.raises(
        ConfigError, match=r"--label needs a conditional model \(cgan\); this run is gan; use --code"
    ):
        label_code(tiny("gan"), 3)
