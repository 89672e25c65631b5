import pytest
import torch

from infogan.config import config_differences, dump_config, load_preset, preset_names, validate
from infogan.errors import ConfigError
from infogan.models.infogan import InfoGANConfig


def test_presets_load_and_mnist_paper_is_the_paper_setup():
    assert {"mnist", "mnist-paper", "digits"} <= set(preset_names())
    cfg = load_preset("mnist-paper")
    assert isinstance(cfg.model, InfoGANConfig)
    assert cfg.model.latent.noise == 62 and cfg.model.latent.codes == ["cat:10", "uniform:2"]
    assert cfg.model.latent.noise_prior == "uniform"
    assert (cfg.model.lr_d, cfg.model.lr_g, cfg.model.beta1) == (2e-4, 1e-3, 0.5)
    assert cfg.model.lambda_cat == 1.0 and cfg.model.lambda_cont < 1.0
    assert cfg.train.batch_size == 128 and cfg.train.steps == 5000
    assert cfg.data.name == "mnist" and cfg.data.fallback == "mnist-sample"
    assert cfg.model.consistency.weight == 0 and cfg.model.augment == []


def test_mnist_is_the_paper_setup_plus_the_consistency_term():
    paper, default = load_preset("mnist-paper"), load_preset("mnist")
    differences = config_differences(paper.model_dump(mode="json"), default.model_dump(mode="json"))
    assert [(key, now) for key, _, now in differences] == [
        ("model.consistency.shear", 0.3),
        ("model.consistency.thickness", 1.0),
        ("model.consistency.weight", 3.0),
        ("preset", "mnist"),
    ]


def test_overrides_parse_yaml_values():
    cfg = load_preset(
        "mnist",
        [
            "train.steps=7",
            "model.latent.codes=[cat:5,uniform:3]",
            "model.latent.fixed_std=true",
            "data.root=/tmp/x",
        ],
    )
    assert cfg.train.steps == 7 and cfg.model.latent.codes == ["cat:5", "uniform:3"]
    assert cfg.model.latent.fixed_std is True and cfg.data.root == "/tmp/x"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.stepz=3", r"unknown key 'train.stepz' \(keys under train: steps, "),
        ("model.lambda_kat=1", "unknown key 'model.lambda_kat'"),
        ("nothing", "expected key.path=value"),
        ("train.steps=-1", "train.steps: Input should be greater than or equal to 1"),
        ("train.steps=many", "train.steps: Input should be a valid integer"),
        ("model.adversarial=hinged", "model.adversarial: Input should be 'minimax', 'non-saturating', "),
        ("model.name=vae2", "unknown model 'vae2'"),
        ("model.latent.codes=[]", "InfoGAN needs at least one latent code"),
        ("train.batch_size=1", "train.batch_size: Input should be greater than or equal to 2"),
    ],
)
def test_bad_overrides_give_one_clear_line(override, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_preset("mnist", [override])
    assert "\n" not in str(info.value)


def test_unknown_preset_and_missing_file():
    with pytest.raises(ConfigError, match=r"unknown preset 'nope'.*mnist"):
        load_preset("nope")
    with pytest.raises(ConfigError, match="does not exist"):
        load_preset("/no/such/file.yaml")


def test_yaml_round_trip_keeps_model_fields():
    import yaml

    cfg = load_preset("mnist", ["model.lambda_cont=0.3"])
    again = validate(yaml.safe_load(dump_config(cfg)), "round trip")
    assert again == cfg and again.model.lambda_cont == 0.3


def test_unknown_key_in_a_config_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("model:\n  name: infogan\n  widht: 3\n")
    with pytest.raises(ConfigError, match=r"model\.widht: unknown key"):
        load_preset(str(path))


@pytest.mark.parametrize("device", ["mps", "meta", "cpu:1", "cuda:x", "cuda", "cuda:0"])
def test_unsupported_or_absent_devices_are_config_errors(device):
    import torch

    from infogan.training.setup import resolve_device

    if torch.cuda.is_available():
        pytest.skip("checks the messages of a machine without CUDA")
    with pytest.raises(ConfigError, match="device"):
        resolve_device(device)
    assert str(resolve_device("auto")) == "cpu"


@pytest.mark.parametrize("name", preset_names())
def test_every_shipped_preset_builds_its_model_for_its_dataset(name):
    from infogan.data import source
    from infogan.models import build_model

    cfg = load_preset(name)
    src = source(cfg.data.fallback or cfg.data.name, cfg.data)
    shape = (src.channels, cfg.data.image_size or src.image_size, cfg.data.image_size or src.image_size)
    model = build_model(cfg.model, shape)
    assert model.sample(2, generator=torch.Generator().manual_seed(0)).shape == (2, *shape)
