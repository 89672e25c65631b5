"""The paper-experiment presets (arXiv:1606.03657, Appendix C): SVHN, CelebA, 3D faces and 3D chairs networks
match the appendix tables, and the SVHN and CelebA readers read their real file layouts."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from infogan.config import load_preset
from infogan.errors import ConfigError, DataUnavailableError
from infogan.models import build_model
from infogan.models.infogan import InfoGAN
from infogan.nets.paper import (
    ChairsGenerator,
    ChairsTrunk,
    MNISTGenerator,
    MNISTTrunk,
    SVHNGenerator,
    SVHNTrunk,
)

from .conftest import TINY

SHAPES = {"svhn": (3, 32, 32), "celeba": (3, 32, 32), "faces": (1, 32, 32), "chairs": (1, 64, 64)}
NETS = {
    "svhn": (SVHNGenerator, SVHNTrunk),
    "celeba": (SVHNGenerator, SVHNTrunk),
    "faces": (MNISTGenerator, MNISTTrunk),
    "chairs": (ChairsGenerator, ChairsTrunk),
}
# (G input, Q output) and parameter counts of G, D (trunk + D head) and Q's head at the paper's widths.
# SVHN's G by hand (168 = 124 noise + 4 x 10 one-hot + 4 continuous; BN has 2 parameters per channel):
#   FC 168 -> 2*2*448 without bias: 168 * 1792 = 301,056; BN1d(1792): 3,584
#   up-conv 448 -> 256 4x4 without bias: 448 * 256 * 16 = 1,835,008; BN2d(256): 512
#   up-conv 256 -> 128 4x4 with bias: 524,288 + 128 = 524,416
#   up-conv 128 -> 64 with bias: 131,072 + 64 = 131,136;  up-conv 64 -> 3 with bias: 3,072 + 3 = 3,075
#   total 2,798,787.
# SVHN's D: conv 3 -> 64 with bias 3,136; conv 64 -> 128 131,072 + BN 256; conv 128 -> 256 524,288 + BN 512;
#   trunk 659,264; D head FC 4096 -> 1: 4,097; total 663,361.
# SVHN's Q head: FC 4096 -> 128 without bias 524,288 + BN 256 + FC 128 -> 48 (4 x 10 logits, 4 x (mean, log-std))
#   6,192: 530,736.
# CelebA: SVHN's networks with 128 noise + 10 x 10 one-hot (228 inputs, 100 logits): G's FC grows by 60 x 1792 =
#   107,520 to 2,906,307; D is SVHN's; Q's last FC is 128 -> 100, 12,900 in place of 6,192: 537,444.
# Faces (MNIST's networks at 32x32, 128 noise + 5 continuous = 133 inputs, Q 5 x (mean, log-std)):
#   G: FC 133 -> 1024 136,192 + BN 2,048; FC 1024 -> 128*8*8 8,388,608 + BN 16,384; up-conv 128 -> 64 131,072
#   + BN 128; up-conv 64 -> 1 with bias 1,025: 8,675,457.
#   D: conv 1 -> 64 with bias 1,088; conv 64 -> 128 131,072 + BN 256; FC 8192 -> 1024 8,388,608 + BN 2,048;
#   D head 1,025: 8,524,097.  Q: FC 1024 -> 128 131,072 + BN 256 + FC 128 -> 10 1,290: 132,618.
# Chairs (128 noise + 1 continuous + 3 x 20 one-hot = 189 inputs, Q 2 + 60 = 62 outputs; "same" convs 4x4
#   256 -> 256 without bias 1,048,576 each):
#   G: FC 189 -> 1024 193,536 + BN 2,048; FC 1024 -> 256*8*8 16,777,216 + BN 32,768; two same convs + BN
#   2,098,176; up-conv 256 -> 128 524,288 + BN 256; up-conv 128 -> 64 131,072 + BN 128; up-conv 64 -> 1 with
#   bias 1,025: 19,760,513.
#   D: conv 1 -> 64 1,088; conv 64 -> 128 131,328 with BN; conv 128 -> 256 524,800 with BN; two same convs + BN
#   2,098,176; FC 16384 -> 1024 16,777,216 + BN 2,048; D head 1,025: 19,535,681.
#   Q: 131,072 + BN 256 + FC 128 -> 62 7,998: 139,326.
EXPECTED = {
    "svhn": ((168, 48), 2_798_787, 663_361, 530_736),
    "celeba": ((228, 100), 2_906_307, 663_361, 537_444),
    "faces": ((133, 10), 8_675_457, 8_524_097, 132_618),
    "chairs": ((189, 62), 19_760_513, 19_535_681, 139_326),
}
TINY_NETS = [
    "model.latent.noise=4",
    "model.g_hidden=16",
    "model.d_hidden=16",
    "model.width=4",
    "model.q_hidden=8",
]


def count(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def layers(module: nn.Module, kind: type[nn.Module]) -> list:
    return [m for m in module.modules() if type(m) is kind]


@pytest.fixture(scope="module", params=list(SHAPES))
def paper_model(request):
    torch.manual_seed(0)
    cfg = load_preset(request.param)
    return request.param, build_model(cfg.model, SHAPES[request.param])


def test_preset_builds_the_papers_networks_with_pinned_sizes(paper_model):
    name, model = paper_model
    assert isinstance(model, InfoGAN)
    g_cls, trunk_cls = NETS[name]
    assert type(model.G) is g_cls and type(model.trunk) is trunk_cls
    (in_dim, q_dim), n_g, n_d, n_q = EXPECTED[name]
    assert (model.latent.dim, model.latent.q_dim) == (in_dim, q_dim)
    sizes = (count(model.G), count(model.trunk, model.d_head), count(model.q_head))
    print(f"{name}: G {sizes[0]:,} D {sizes[1]:,} Q {sizes[2]:,} parameters")
    assert sizes == (n_g, n_d, n_q)


def test_forward_shapes(paper_model):
    name, model = paper_model
    model.eval()
    x = model.sample(2, generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, *SHAPES[name]) and x.min() >= -1 and x.max() <= 1
    h = model.trunk(x)
    assert h.shape == (2, model.trunk.out_dim)
    assert model.d_head(h).shape == (2,)
    assert model.q_head(h).shape == (2, model.latent.q_dim)


def test_svhn_layers_follow_table_2():
    model = build_model(load_preset("svhn").model, (3, 32, 32))
    g_fc = layers(model.G, nn.Linear)
    assert [(m.in_features, m.out_features) for m in g_fc] == [(168, 2 * 2 * 448)]
    deconvs = layers(model.G, nn.ConvTranspose2d)
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding) for m in deconvs] == [
        (448, 256, (4, 4), (2, 2), (1, 1)),
        (256, 128, (4, 4), (2, 2), (1, 1)),
        (128, 64, (4, 4), (2, 2), (1, 1)),
        (64, 3, (4, 4), (2, 2), (1, 1)),
    ]
    # Batch norm after G's FC and first up-conv only, as in Table 2.
    assert [m.num_features for m in layers(model.G, nn.BatchNorm1d) + layers(model.G, nn.BatchNorm2d)] == [
        1792,
        256,
    ]
    convs = layers(model.trunk, nn.Conv2d)
    assert [(m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (64, (4, 4), (2, 2)),
        (128, (4, 4), (2, 2)),
        (256, (4, 4), (2, 2)),
    ]
    assert [m.num_features for m in layers(model.trunk, nn.BatchNorm2d)] == [128, 256]
    assert model.trunk.out_dim == 4 * 4 * 256 and model.d_head.fc.in_features == 4096
    # Sizes through D: 32 -> 16 -> 8 -> 4; through G: 2 -> 4 -> 8 -> 16 -> 32.
    assert spatial_sizes(model.trunk.net, torch.zeros(2, 3, 32, 32)) == [16, 8, 4]
    assert spatial_sizes(model.G.deconv, model.G.fc(torch.zeros(2, 168)).view(2, 448, 2, 2)) == [4, 8, 16, 32]


def spatial_sizes(net: nn.Sequential, x: torch.Tensor) -> list[int]:
    """The side of the feature map after each (up-)convolution of `net`."""
    sizes = []
    for layer in net:
        x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            sizes.append(x.shape[-1])
    return sizes


def test_chairs_layers_follow_table_6():
    model = build_model(load_preset("chairs").model, (1, 64, 64))
    assert [(m.in_features, m.out_features) for m in layers(model.G, nn.Linear)] == [
        (189, 1024),
        (1024, 8 * 8 * 256),
    ]
    g_convs = [m for m in model.G.deconv.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(type(m).__name__, m.out_channels, m.stride) for m in g_convs] == [
        ("Conv2d", 256, (1, 1)),  # the paper's stride-1 up-convs (see nets/paper.py: _same_conv)
        ("Conv2d", 256, (1, 1)),
        ("ConvTranspose2d", 128, (2, 2)),
        ("ConvTranspose2d", 64, (2, 2)),
        ("ConvTranspose2d", 1, (2, 2)),
    ]
    convs = layers(model.trunk, nn.Conv2d)
    assert [(m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (64, (4, 4), (2, 2)),
        (128, (4, 4), (2, 2)),
        (256, (4, 4), (2, 2)),
        (256, (4, 4), (1, 1)),
        (256, (4, 4), (1, 1)),
    ]
    assert [(m.in_features, m.out_features) for m in layers(model.trunk, nn.Linear)] == [(8 * 8 * 256, 1024)]
    assert len(layers(model.trunk, nn.BatchNorm2d)) == 4 and len(layers(model.G, nn.BatchNorm2d)) == 4


def test_faces_are_the_mnist_networks_at_32x32():
    model = build_model(load_preset("faces").model, (1, 32, 32))
    assert [(m.in_features, m.out_features) for m in layers(model.G, nn.Linear)] == [
        (133, 1024),
        (1024, 8 * 8 * 128),
    ]
    assert [(m.in_features, m.out_features) for m in layers(model.trunk, nn.Linear)] == [(8 * 8 * 128, 1024)]


def test_presets_record_the_papers_latents_and_optimisers():
    for name in SHAPES:
        m = load_preset(name).model
        assert (m.lr_d, m.lr_g, m.beta1) == (2e-4, 1e-3, 0.5), name
    assert load_preset("chairs").model.latent.codes == ["uniform:1", "cat:20", "cat:20", "cat:20"]
    assert load_preset("celeba").model.latent.codes == ["cat:10"] * 10


def test_gradient_penalty_still_requires_the_dcgan_backbone():
    with pytest.raises(ConfigError, match="gradient penalty needs"):
        load_preset("svhn", ["model.adversarial=wasserstein", "model.lipschitz=gp", "model.critic_norm=none"])


@pytest.mark.parametrize("name", list(SHAPES))
def test_tiny_copies_train_with_finite_logs(name):
    cfg = load_preset(name, TINY_NETS)
    torch.manual_seed(0)
    model = build_model(cfg.model, SHAPES[name])
    model.seed(0)
    g = torch.Generator().manual_seed(0)
    for step in range(2):
        logs = model.train_step({"x": torch.rand(8, *SHAPES[name], generator=g) * 2 - 1}, step)
        assert all(torch.isfinite(v) for v in logs.values())
    assert {f"mi_{c.name}" for c in model.latent.codes} <= set(logs)


# --- SVHN files -----------------------------------------------------------------------------------------------------
def write_svhn(folder, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = (np.arange(n) % 10 + 1).reshape(n, 1).astype(np.uint8)  # 1..10, 10 is the digit 0
    split = "train" if seed == 0 else "test"
    savemat(folder / f"{split}_32x32.mat", {"X": x, "y": y})
    return x, y


@pytest.fixture
def svhn_root(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    write_svhn(root, 40, seed=0)
    write_svhn(root, 20, seed=1)
    return root


def test_svhn_mat_files_are_read_in_torchvisions_convention(svhn_root):
    from infogan.data import DATASETS

    src = DATASETS["svhn"]
    assert src.available(svhn_root) and not src.available(svhn_root / "nowhere")
    x, y = write_svhn(svhn_root, 40, seed=0)
    images, labels = src.load(svhn_root, "train")
    assert images.shape == (40, 3, 32, 32) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert torch.equal(images[3, 1] * 255, torch.from_numpy(x[:, :, 1, 3]).float())
    assert labels is not None and labels.tolist() == [int(v) % 10 for v in y[:, 0]] and labels.max() == 9
    assert src.load(svhn_root, "test")[0].shape == (20, 3, 32, 32)


def test_missing_svhn_files_say_how_to_get_them(tmp_path):
    from infogan.data import DATASETS

    with pytest.raises(DataUnavailableError, match=r"train_32x32\.mat.*not found.*housenumbers"):
        DATASETS["svhn"].load(tmp_path, "train")


def test_short_svhn_training_run(svhn_root, tmp_path):
    from infogan import api

    overrides = [o for o in TINY if not o.startswith("data.")]
    cfg = load_preset(
        "svhn",
        [
            *overrides,
            f"data.root={svhn_root}",
            "data.download=false",
            "eval.metrics=[codes]",
            "model.width=4",
        ],
    )
    run = api.train(cfg, tmp_path / "run", progress=lambda s: None)
    assert run.model.image_shape == (3, 32, 32)
    assert (tmp_path / "run" / "metrics.jsonl").is_file()


# --- CelebA layout --------------------------------------------------------------------------------------------------
def test_celeba_layout_is_read_and_split_by_the_partition_file(tmp_path):
    from PIL import Image

    from infogan.data import DATASETS

    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    partitions = [0, 0, 0, 1, 2, 2, 0]
    lines = []
    for i, p in enumerate(partitions, start=1):
        name = f"{i:06d}.jpg"
        colour = (30 * i, 255 - 30 * i, 128)
        Image.new("RGB", (178, 218), colour).save(folder / "img_align_celeba" / name)
        lines.append(f"{name} {p}")
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    src = DATASETS["celeba"]
    assert src.available(tmp_path)
    train, labels = src.load(tmp_path, "train")
    test, _ = src.load(tmp_path, "test")
    assert train.shape == (4, 3, 32, 32) and test.shape == (2, 3, 32, 32) and labels is None
    assert train.min() >= 0 and train.max() <= 1
    # Sorted by file name: the first training image is 000001.jpg, a flat colour (up to JPEG error).
    assert torch.allclose(train[0, :, 16, 16] * 255, torch.tensor([30.0, 225.0, 128.0]), atol=4)
    with pytest.raises(DataUnavailableError, match="img_align_celeba"):
        src.load(tmp_path / "empty", "train")


# --- a few hundred steps on stand-in data in each preset's real on-disk format ---------------------------------------
def _standin_root(name: str, root: Path) -> list[str]:
    """Write stand-in data for preset `name` under `root` and return the data overrides that point at it."""
    from PIL import Image

    rng = np.random.default_rng(0)
    if name == "svhn":
        write_svhn(root, 160, seed=0)
        write_svhn(root, 20, seed=1)
        return [f"data.root={root}", "data.download=false"]
    if name == "celeba":
        folder = root / "celeba"
        (folder / "img_align_celeba").mkdir(parents=True)
        lines = []
        for i in range(1, 161):
            pixels = rng.integers(0, 256, size=(218, 178, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / "img_align_celeba" / f"{i:06d}.jpg")
            lines.append(f"{i:06d}.jpg {0 if i <= 140 else 2}")
        (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
        return [f"data.root={root}"]
    for i in range(160):  # faces and chairs: an image folder of RGB renderings
        Image.fromarray(rng.integers(0, 256, size=(80, 96, 3), dtype=np.uint8)).save(root / f"{i:04d}.png")
    return [f"data.name=folder:{root}"]


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_paper_preset_trains_for_200_steps_on_standin_data(name, tmp_path):
    from infogan import api

    root = tmp_path / "data"
    root.mkdir()
    overrides = [
        *TINY_NETS,
        *_standin_root(name, root),
        "train.steps=200",
        "train.batch_size=16",
        "train.log_every=50",
        "train.checkpoint_every=100",
        "train.sample_every=100",
        "eval.metrics=[codes]",
        "eval.mi_samples=256",
        "eval.fidelity_samples=50",
    ]
    run = api.train(load_preset(name, overrides), tmp_path / "run", progress=lambda s: None)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert run.step == 200 and [r["step"] for r in rows] == [50, 100, 150, 200]
    assert all(math.isfinite(v) for r in rows for v in r.values())
