"""The `dsprites` source: dSprites' full factorial, rendered binary when indexed or looked up in its own file."""

import numpy as np
import pytest
import torch

from infogan.config import DataConfig, load_preset
from infogan.data import build, dsprites
from infogan.data.base import to_model_range
from infogan.data.dsprites import COMBINATIONS, FILE, SOURCE, DSprites, factor_rows
from infogan.data.shapes import FACTOR_SIZES, Shapes, row_keys
from infogan.errors import DataUnavailableError
from infogan.images import LazyImages


def test_combinations_are_numbered_as_dsprites_file_orders_them():
    assert COMBINATIONS == 737_280
    assert factor_rows(torch.tensor([0])).tolist() == [[0, 0, 0, 0, 0]]
    assert factor_rows(torch.tensor([COMBINATIONS - 1])).tolist() == [[s - 1 for s in FACTOR_SIZES]]
    assert factor_rows(torch.tensor([1, 32])).tolist() == [[0, 0, 0, 0, 1], [0, 0, 0, 1, 0]]  # y fastest
    index = torch.randint(COMBINATIONS, (1000,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(row_keys(factor_rows(index)), index)


def test_the_training_split_is_every_combination_once_made_when_indexed():
    data = build(DataConfig(name="dsprites"), "train")
    assert isinstance(data.images, LazyImages) and len(data) == COMBINATIONS and data.shape == (1, 64, 64)
    assert data.labels is not None and data.labels.bincount().tolist() == [COMBINATIONS // 3] * 3
    order = torch.randperm(COMBINATIONS, generator=torch.Generator().manual_seed(dsprites.ORDER_SEED))
    index = torch.tensor([0, 5, COMBINATIONS - 1])
    expected = to_model_range(DSprites().render(factor_rows(order[index])))
    assert torch.equal(data.batch(index)["x"], expected)
    assert torch.equal(data.images[5], expected[1]) and torch.equal(data.images[-1], expected[2])
    assert torch.equal(data.images[:6:5], expected[:2])
    assert torch.equal(data.labels[index], factor_rows(order[index])[:, 0])
    assert set(data.images[:64].unique().tolist()) == {-1.0, 1.0}  # binary, as dSprites is
    with pytest.raises(IndexError, match="out of range"):
        data.images[torch.tensor([COMBINATIONS])]


def test_binary_sprites_differ_from_the_antialiased_shapes_only_at_their_edges():
    factors = Shapes().sample_factors(64, torch.Generator().manual_seed(0))
    binary, smooth = DSprites().render(factors), Shapes().render(factors)
    assert set(binary.unique().tolist()) == {0.0, 1.0}
    inside, outside = smooth == 1, smooth == 0
    assert (binary[inside] == 1).all() and (binary[outside] == 0).all()
    ink = binary.sum((1, 2, 3)), smooth.sum((1, 2, 3))
    relative = (ink[0] - ink[1]).abs() / ink[1]
    # edge pixels are a large part of a small sprite's ink, and that part differs most
    assert relative.median() < 0.03 and relative.max() < 0.2


def test_the_held_out_split_and_a_model_sized_ground_truth():
    data = build(DataConfig(name="dsprites", image_size=32), "test")
    assert len(data) == dsprites.TEST_IMAGES and data.shape == (1, 32, 32)
    factors = Shapes().sample_factors(dsprites.TEST_IMAGES, torch.Generator().manual_seed(dsprites.TEST_SEED))
    assert data.labels is not None and torch.equal(data.labels, factors[:, 0])
    truth = SOURCE.ground_truth(32)
    assert torch.equal(to_model_range(truth.render(factors[:8])), data.images[:8])


def test_dsprites_own_file_is_read_when_the_data_root_holds_it(tmp_path, monkeypatch):
    # A stand-in for the 2.9 GB file: zeros (never touched, so never allocated) with two marked rows.
    fake = np.zeros((COMBINATIONS, 64, 64), dtype=np.uint8)
    fake[7, :2] = 1
    fake[COMBINATIONS - 1, :, :3] = 1
    (tmp_path / "dsprites").mkdir()
    (tmp_path / "dsprites" / FILE).write_bytes(b"")
    monkeypatch.setattr(dsprites, "read_file", lambda path: fake)
    assert SOURCE.file(tmp_path) == tmp_path / "dsprites" / FILE and SOURCE.file(None) is None
    truth = SOURCE.ground_truth(root=tmp_path)
    images = truth.render(factor_rows(torch.tensor([7, COMBINATIONS - 1, 0])))
    assert images.shape == (3, 1, 64, 64)
    assert images[0, 0, :2].eq(1).all() and images[0].sum() == 128
    assert images[1, 0, :, :3].eq(1).all() and images[1].sum() == 192 and images[2].sum() == 0
    with pytest.raises(ValueError, match="factor values must lie"):
        truth.render(torch.tensor([[3, 0, 0, 0, 0]]))


def test_a_bad_file_or_root_is_one_line(tmp_path):
    bad = tmp_path / FILE
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataUnavailableError, match="cannot read"):
        dsprites.read_file(bad)
    small = tmp_path / "small" / FILE
    small.parent.mkdir()
    np.savez_compressed(small, imgs=np.zeros((2, 64, 64), dtype=np.uint8))
    with pytest.raises(DataUnavailableError, match=r"holds images of shape \(2, 64, 64\)"):
        dsprites.read_file(small)
    with pytest.raises(DataUnavailableError, match="does not exist"):
        SOURCE.ground_truth(root=tmp_path / "missing")


def test_the_preset_is_the_literature_setup():
    cfg = load_preset("dsprites", [])
    assert cfg.data.name == "dsprites" and cfg.data.image_size == 64
    assert cfg.model.latent.noise == 5 and cfg.model.latent.codes == ["uniform:5"]
    assert cfg.model.latent.noise_prior == "uniform" and cfg.model.lambda_cont == 0.05
    assert cfg.train.batch_size == 64


def test_a_made_when_indexed_reference_is_a_fixed_random_subset(monkeypatch):
    from infogan.evaluation import data
    from infogan.evaluation.data import reference_images

    monkeypatch.setattr(data, "REFERENCE_IMAGES", 100)
    REFERENCE_IMAGES = 100
    made = []

    def make(rows: torch.Tensor) -> torch.Tensor:
        made.append(rows)
        return rows.float().view(-1, 1, 1, 1)

    lazy = LazyImages(REFERENCE_IMAGES + 10, make, (1, 1, 1))
    subset = reference_images(lazy)
    assert isinstance(subset, LazyImages) and len(subset) == REFERENCE_IMAGES and not made  # nothing made yet
    values = subset[torch.arange(REFERENCE_IMAGES)].flatten()
    assert values.unique().numel() == REFERENCE_IMAGES and values.max() < REFERENCE_IMAGES + 10
    assert torch.equal(reference_images(lazy)[:5], subset[:5])  # the same subset every time
    small = torch.zeros(3, 1, 2, 2)
    assert reference_images(small) is small


@pytest.mark.slow
def test_train_and_score_a_dsprites_run_from_the_command_line(tmp_path):
    from .conftest import invoke

    run = tmp_path / "run"
    small = ["--set", "model.q_hidden=16", "--set", "train.log_every=2"]
    result = invoke(
        "train", "--preset", "dsprites", "--steps", "4", "--run-dir", str(run), "--no-eval", *small
    )
    assert result.returncode == 0, result.stderr
    result = invoke("eval", str(run), "--metrics", "disentanglement", "--json")
    assert result.returncode == 0, result.stderr
    assert '"mig"' in result.stdout and '"factorvae"' in result.stdout
