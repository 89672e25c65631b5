import pytest
import torch

from infogan.config import DataConfig
from infogan.data import DATASETS, build
from infogan.data.shapes import SPLITS, Shapes


def rows(*factors: tuple[int, int, int, int, int]) -> torch.Tensor:
    return torch.tensor(factors)


def centroid(image: torch.Tensor) -> tuple[float, float]:
    """(x, y) centre of mass of a (1, H, W) image in pixels."""
    w = image[0]
    ys, xs = torch.meshgrid(torch.arange(w.shape[0]), torch.arange(w.shape[1]), indexing="ij")
    return float((w * xs).sum() / w.sum()), float((w * ys).sum() / w.sum())


def test_factors_are_the_dsprites_ones():
    shapes = Shapes()
    assert shapes.factor_names == ("shape", "scale", "orientation", "position_x", "position_y")
    assert shapes.factor_sizes == (3, 6, 40, 32, 32)


def test_sampling_is_deterministic_from_the_seed():
    shapes = Shapes()
    f1, x1 = shapes.sample(16, torch.Generator().manual_seed(3))
    f2, x2 = shapes.sample(16, torch.Generator().manual_seed(3))
    f3 = shapes.sample_factors(16, torch.Generator().manual_seed(4))
    assert torch.equal(f1, f2) and torch.equal(x1, x2)
    assert not torch.equal(f1, f3)


def test_samples_have_the_documented_shapes_types_and_ranges():
    factors = Shapes().sample_factors(2000, torch.Generator().manual_seed(0))
    assert factors.dtype == torch.long and factors.shape == (2000, 5)
    assert (factors >= 0).all() and (factors < torch.tensor([3, 6, 40, 32, 32])).all()
    for k, size in enumerate((3, 6, 40, 32, 32)):
        assert factors[:, k].unique().numel() == size  # every value is drawn
    factors, images = Shapes().sample(64, torch.Generator().manual_seed(0))
    assert factors.shape == (64, 5)
    assert images.dtype == torch.float32 and images.shape == (64, 1, 64, 64)
    assert images.min() == 0 and images.max() == 1
    # Anti-aliased edges: some pixels are partly covered.
    assert ((images > 0) & (images < 1)).any()
    assert (images.flatten(1).sum(1) > 10).all()  # every sprite is visible


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_larger_scale_lights_more_pixels(shape):
    images = Shapes().render(rows(*[(shape, s, 3, 10, 20) for s in range(6)]))
    area = images.sum(dim=(1, 2, 3))
    assert (area[1:] > area[:-1]).all()
    # Area grows with the square of the scale (0.5 .. 1), up to edge pixels.
    assert area[-1] / area[0] == pytest.approx(4, rel=0.1)


def test_positions_move_the_centroid_right_and_down():
    shapes = Shapes()
    along_x = shapes.render(rows(*[(2, 3, 7, x, 16) for x in (0, 10, 20, 31)]))
    along_y = shapes.render(rows(*[(2, 3, 7, 16, y) for y in (0, 10, 20, 31)]))
    xs = [centroid(im)[0] for im in along_x]
    ys = [centroid(im)[1] for im in along_y]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 30
    assert ys == sorted(ys) and ys[-1] - ys[0] > 30
    assert all(abs(centroid(im)[1] - centroid(along_x[0])[1]) < 0.5 for im in along_x)  # y stays put


def test_orientation_turns_the_sprite():
    shapes = Shapes()
    square = shapes.render(rows((0, 5, 0, 16, 16), (0, 5, 5, 16, 16), (0, 5, 10, 16, 16)))
    assert (square[0] - square[1]).abs().sum() > 20  # 45 degrees differs
    assert (square[0] - square[2]).abs().mean() < 0.01  # 90 degrees maps a square onto itself
    # Half a turn equals the image rotated by 180 degrees around the sprite, i.e. both axes flipped.
    heart = shapes.render(rows((2, 4, 20, 5, 9), (2, 4, 0, 26, 22)))
    assert (heart[0] - heart[1].flip(-1, -2)).abs().mean() < 0.01
    # The heart is upright at orientation 0: its tip (bottom) is below its centroid of mass.
    bottom_row = int(torch.nonzero(heart[1, 0].sum(1)).max())
    assert bottom_row - centroid(heart[1])[1] > 5


def test_32x32_rendering_matches_the_64x64_one():
    factors = Shapes().sample_factors(32, torch.Generator().manual_seed(1))
    big = Shapes().render(factors)
    small = Shapes(image_size=32).render(factors)
    assert small.shape == (32, 1, 32, 32)
    assert torch.equal(small, Shapes().render(factors, size=32))
    pooled = torch.nn.functional.avg_pool2d(big, 2)
    assert (pooled - small).abs().mean() < 0.01


def test_bad_factor_rows_are_refused():
    with pytest.raises(ValueError, match="factors must be"):
        Shapes().render(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="must lie in"):
        Shapes().render(rows((3, 0, 0, 0, 0)))


def test_registered_source_builds_with_shape_labels():
    source = DATASETS["shapes"]
    assert source.available(None) and "generated" in source.how_to_get
    data = build(DataConfig(name="shapes"), "test")
    assert len(data) == SPLITS["test"][0] and data.shape == (1, 64, 64)
    assert data.images.min() == -1 and data.images.max() == 1
    ground_truth = getattr(source, "ground_truth", None)
    assert ground_truth is not None and isinstance(ground_truth(), Shapes)
    factors = source.split_factors("test")  # type: ignore[attr-defined]
    assert data.labels is not None and torch.equal(data.labels, factors[:, 0])
    assert torch.equal(data.images[:4], Shapes().render(factors[:4]) * 2 - 1)
    assert ground_truth(image_size=32).render(factors[:2]).shape == (2, 1, 32, 32)


def test_ground_truth_renders_at_a_model_size_exactly_as_the_dataset_resizes():
    from infogan.data import build
    from infogan.data.base import to_model_range
    from infogan.data.shapes import SOURCE

    factors = SOURCE.split_factors("test")[:16]
    images = build(DataConfig(name="shapes", image_size=32), "test").images[:16]
    assert torch.equal(to_model_range(SOURCE.ground_truth(32).render(factors)), images)


def test_held_out_sprites_are_combinations_the_training_split_lacks():
    from infogan.data.shapes import SOURCE, row_keys

    train, test = SOURCE.split_factors("train"), SOURCE.split_factors("test")
    assert len(test) == 5_000
    assert not set(row_keys(train).tolist()) & set(row_keys(test).tolist())
