import math

import pytest
import torch
import torch.nn.functional as F

from infogan.errors import ConfigError
from infogan.latent import Latent, LatentSpec

PAPER = LatentSpec.parse(62, ["cat:10", "uniform:2"])


def test_paper_mnist_spec_sizes_and_names():
    assert [c.name for c in PAPER.codes] == ["c1", "c2", "c3"]
    assert [c.kind for c in PAPER.codes] == ["categorical", "uniform", "uniform"]
    assert PAPER.dim == 74  # 62 noise + 10 one-hot + 2 continuous: the paper's G input
    assert PAPER.q_dim == 10 + 2 * 2
    assert LatentSpec.parse(62, ["cat:10", "uniform:2"], fixed_std=True).q_dim == 12


def test_sample_shapes_and_ranges():
    g = torch.Generator().manual_seed(0)
    latent = PAPER.sample(5000, generator=g)
    assert (
        latent.z.shape == (5000, 62) and latent.c_cat.shape == (5000, 1) and latent.c_cont.shape == (5000, 2)
    )
    assert latent.z.min() >= -1 and latent.z.max() <= 1 and latent.z.std() > 0.5  # U(-1,1): std 0.577
    assert latent.c_cont.min() >= -1 and latent.c_cont.max() <= 1
    assert abs(latent.c_cont.std().item() - 1 / math.sqrt(3)) < 0.02  # uniform, not normal
    counts = torch.bincount(latent.c_cat[:, 0], minlength=10)
    assert counts.min() > 400 and counts.max() < 600
    x = PAPER.to_input(latent)
    assert x.shape == (5000, 74)
    assert torch.equal(x[:, 62:72].argmax(1), latent.c_cat[:, 0]) and torch.all(x[:, 62:72].sum(1) == 1)


def test_seeded_sampling_repeats():
    a = PAPER.sample(8, generator=torch.Generator().manual_seed(3))
    b = PAPER.sample(8, generator=torch.Generator().manual_seed(3))
    assert all(
        torch.equal(u, v) for u, v in zip((a.z, a.c_cat, a.c_cont), (b.z, b.c_cat, b.c_cont), strict=True)
    )


def test_entropies():
    assert PAPER.code("c1").entropy == pytest.approx(math.log(10))
    assert PAPER.code("c2").entropy == pytest.approx(math.log(2))
    normal = LatentSpec.parse(0, ["normal:1"]).code("c1")
    assert normal.entropy == pytest.approx(0.5 * math.log(2 * math.pi * math.e))


def test_categorical_q_loss_is_cross_entropy_on_logits_by_hand():
    spec = LatentSpec.parse(0, ["cat:3"])
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    latent = Latent(torch.zeros(2, 0), torch.tensor([[0], [2]]), torch.zeros(2, 0))
    by_hand = [-(2.0 - math.log(math.exp(2) + 1 + math.exp(-1))), math.log(3)]
    assert spec.code_nll(logits, latent)["c1"].item() == pytest.approx(sum(by_hand) / 2, abs=1e-6)


def test_categorical_q_loss_applies_softmax_once():
    # A confident, correct Q must reach a loss near 0. Applying softmax twice caps the probability of the true
    # class at e/(e + K - 1), so the loss could never drop below ln((e + 9)/e) = 1.46 nats for K = 10.
    spec = LatentSpec.parse(0, ["cat:10"])
    logits = torch.full((4, 10), -20.0)
    logits[:, 7] = 20.0
    latent = Latent(torch.zeros(4, 0), torch.full((4, 1), 7), torch.zeros(4, 0))
    assert spec.code_nll(logits, latent)["c1"].item() < 1e-6


def test_gaussian_q_loss_by_hand_learned_and_fixed_std():
    learned = LatentSpec.parse(0, ["uniform:1"])
    q_out = torch.tensor([[0.5, math.log(0.2)]])  # mean 0.5, std 0.2
    latent = Latent(torch.zeros(1, 0), torch.zeros(1, 0, dtype=torch.long), torch.tensor([[0.1]]))
    by_hand = math.log(0.2) + 0.5 * (0.4 / 0.2) ** 2 + 0.5 * math.log(2 * math.pi)
    assert learned.code_nll(q_out, latent)["c1"].item() == pytest.approx(by_hand, rel=1e-6)
    fixed = LatentSpec.parse(0, ["uniform:1"], fixed_std=True)
    by_hand_fixed = 0.5 * 0.4**2 + 0.5 * math.log(2 * math.pi)
    assert fixed.code_nll(q_out[:, :1], latent)["c1"].item() == pytest.approx(by_hand_fixed, rel=1e-6)
    ref = -torch.distributions.Normal(torch.tensor(0.5), torch.tensor(0.2)).log_prob(torch.tensor(0.1))
    assert learned.code_nll(q_out, latent)["c1"].item() == pytest.approx(ref.item(), rel=1e-6)


def test_posterior_splits_q_output_in_order():
    spec = LatentSpec.parse(3, ["cat:4", "uniform:2", "cat:2"])
    assert [c.name for c in spec.codes] == ["c1", "c2", "c3", "c4"]
    q = torch.arange(spec.q_dim, dtype=torch.float32).unsqueeze(0) / 10
    post = spec.posterior(q)
    assert torch.equal(post["c1"]["logits"], q[:, 0:4]) and torch.equal(post["c4"]["logits"], q[:, 4:6])
    assert post["c2"]["mean"].item() == pytest.approx(0.6) and post["c3"]["mean"].item() == pytest.approx(0.7)
    assert post["c2"]["log_std"].item() == pytest.approx(0.8) and post["c3"][
        "log_std"
    ].item() == pytest.approx(0.9)


def test_traversal_rows_by_category_hold_everything_else_fixed():
    values = torch.linspace(-2, 2, 5)
    grid = PAPER.traversal("c2", values, rows_by="c1", generator=torch.Generator().manual_seed(0))
    assert len(grid) == 50
    assert torch.equal(grid.c_cat[:, 0], torch.arange(10).repeat_interleave(5))
    assert torch.equal(grid.c_cont[:, 0], values.repeat(10))
    assert torch.all(grid.z == grid.z[0]) and torch.all(grid.c_cont[:, 1] == 0)


def test_traversal_rows_by_noise_and_categorical_sweep():
    grid = PAPER.traversal("c1", torch.arange(10.0), rows=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(grid.c_cat[:, 0], torch.arange(10).repeat(3))
    rows = grid.z.view(3, 10, -1)
    assert torch.all(rows == rows[:, :1]) and not torch.equal(rows[0, 0], rows[1, 0])


def test_code_rows_sweep_one_continuous_code_per_row_from_one_shared_draw():
    values = torch.linspace(-1, 1, 4)
    grid = PAPER.code_rows(values, generator=torch.Generator().manual_seed(0))
    assert len(grid) == 8  # two continuous codes x four values
    assert torch.all(grid.z == grid.z[0]) and torch.all(grid.c_cat == grid.c_cat[0])
    cont = grid.c_cont.view(2, 4, 2)
    assert torch.equal(cont[0, :, 0], values) and torch.equal(cont[1, :, 1], values)
    base = PAPER.sample(1, generator=torch.Generator().manual_seed(0))  # the one draw of everything else
    assert torch.all(cont[0, :, 1] == base.c_cont[0, 1]) and torch.all(cont[1, :, 0] == base.c_cont[0, 0])
    assert torch.equal(grid.z[0], base.z[0])
    with pytest.raises(ConfigError, match="no continuous codes"):
        LatentSpec.parse(4, ["cat:3"]).code_rows(values)


def test_with_codes_and_errors():
    latent = PAPER.sample(4, generator=torch.Generator().manual_seed(0))
    fixed = PAPER.with_codes(latent, {"c1": 3, "c3": 0.5})
    assert torch.all(fixed.c_cat[:, 0] == 3) and torch.all(fixed.c_cont[:, 1] == 0.5)
    assert torch.equal(fixed.c_cont[:, 0], latent.c_cont[:, 0])
    with pytest.raises(ConfigError, match=r"integer in 0\.\.9"):
        PAPER.with_codes(latent, {"c1": 10})
    with pytest.raises(ConfigError, match="unknown code 'c9'"):
        PAPER.code("c9")


@pytest.mark.parametrize("bad", ["cat:1", "cat", "beta:2", "uniform:0", "uniform:x"])
def test_parse_rejects_bad_codes(bad):
    with pytest.raises(ConfigError, match="latent code"):
        LatentSpec.parse(10, [bad])


def test_one_hot_matches_torch():
    spec = LatentSpec.parse(0, ["cat:5"])
    latent = Latent(torch.zeros(3, 0), torch.tensor([[0], [4], [2]]), torch.zeros(3, 0))
    assert torch.equal(spec.to_input(latent), F.one_hot(torch.tensor([0, 4, 2]), 5).float())


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_with_codes_rejects_non_finite_values(value):
    latent = PAPER.sample(2, generator=torch.Generator().manual_seed(0))
    for name in ("c1", "c2"):
        with pytest.raises(ConfigError, match="must be a finite number"):
            PAPER.with_codes(latent, {name: value})


def test_rows_that_cannot_follow_a_code_say_why():
    spec = LatentSpec.parse(4, ["cat:3", "uniform:2"])
    values = torch.linspace(-1, 1, 5)
    with pytest.raises(
        ConfigError, match=r"rows cannot follow c3: it is a continuous code \(give c1 or noise\)"
    ):
        spec.traversal("c2", values, rows_by="c3")
    with pytest.raises(ConfigError, match="rows cannot follow c1: it is the code being swept"):
        spec.traversal("c1", torch.arange(3.0), rows_by="c1")
