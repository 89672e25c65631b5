import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import Tensor

from infogan.evaluation.semantics import _sweep_properties, code_semantics
from infogan.latent import Latent, LatentSpec
from infogan.metrics.code_semantics import (
    PROPERTIES,
    _best_property,
    _centre_per_draw,
    _spearman_table,
    image_properties,
)


def render_ellipses(
    half_width: Tensor,
    half_height: Tensor,
    *,
    slant: Tensor | float = 0.0,
    angle: Tensor | float = 0.0,
    centre_x: Tensor | float = 0.0,
    gap: Tensor | float = 0.0,
    size: int = 28,
    supersample: int = 4,
) -> Tensor:
    """(N, 1, size, size) images in [-1, 1] of filled ellipses, anti-aliased by supersampling.

    The ellipse has semi-axes (half_width, half_height) in pixels, is sheared so that x moves by `slant` per pixel
    up, then turned `angle` radians clockwise, and centred `centre_x` pixels right of the image centre. With a
    `gap` there are two such ellipses, their centres `gap` pixels apart (an "11").
    """
    n = half_width.shape[0]
    slant, angle, centre_x, gap = (
        torch.as_tensor(v).float().expand(n).view(n, 1, 1) for v in (slant, angle, centre_x, gap)
    )
    coords = (torch.arange(size * supersample) + 0.5) / supersample - size / 2  # origin at the centre
    x, y = coords.view(1, 1, -1) - centre_x, -coords.view(1, -1, 1)  # y up
    v = x * torch.sin(angle) + y * torch.cos(angle)  # along the turned vertical axis
    u = x * torch.cos(angle) - y * torch.sin(angle) - slant * v
    a, b = half_width.view(n, 1, 1), half_height.view(n, 1, 1)
    inside = ((u - gap / 2) / a) ** 2 + (v / b) ** 2 <= 1
    inside |= ((u + gap / 2) / a) ** 2 + (v / b) ** 2 <= 1
    return torch.nn.functional.avg_pool2d(inside.float().unsqueeze(1), supersample) * 2 - 1


def rho(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> float:
    return float(spearmanr(np.asarray(a), np.asarray(b)).statistic)


# --- image_properties -------------------------------------------------------------------------------------------


def test_slant_and_width_are_recovered_and_independent():
    # A full factorial grid: the set slant and the set width are exactly uncorrelated by construction.
    set_slant, set_half_width = torch.meshgrid(
        torch.linspace(-0.5, 0.5, 7), torch.linspace(2.0, 6.0, 7), indexing="ij"
    )
    set_slant, set_half_width = set_slant.flatten(), set_half_width.flatten()
    props = image_properties(render_ellipses(set_half_width, torch.full((49,), 9.0), slant=set_slant))
    assert rho(set_slant, props["slant"]) > 0.99
    assert rho(set_half_width, props["width"]) > 0.99
    assert abs(rho(set_slant, props["width"])) < 0.2  # width is measured on the deskewed ink
    assert abs(rho(set_half_width, props["slant"])) < 0.2
    assert abs(rho(props["slant"], props["width"])) < 0.2
    # Hand-checked values: the shear itself, and sqrt(12 var) with var = a^2 / 4 for a filled ellipse plus 1 / 12
    # for the spread of ink within each unit pixel.
    assert torch.allclose(props["slant"], set_slant, atol=0.03)
    assert torch.allclose(props["width"], torch.sqrt(3 * set_half_width**2 + 1), rtol=0.02)
    assert torch.allclose(props["height"], torch.full((49,), math.sqrt(3 * 9.0**2 + 1)), rtol=0.02)


def test_rotation_is_the_major_axis_angle_from_vertical():
    angles = torch.tensor([-0.6, -0.3, 0.0, 0.3, 0.6])
    props = image_properties(render_ellipses(torch.full((5,), 1.5), torch.full((5,), 10.0), angle=angles))
    assert torch.allclose(props["rotation"], angles, atol=0.03)
    assert torch.equal(props["slant"] > 0, angles > 0)  # clockwise = leaning right = positive slant


def test_mass_thickness_brightness_and_centroid_of_a_bar():
    x = torch.full((2, 1, 28, 28), -1.0)
    x[:, :, 4:24, 12:15] = 1.0  # a bar 20 long and 3 thick; its centre, column 13, is 0.5 px left of 13.5
    x[1] = x[1] * 0.5 - 0.5  # the same bar at half intensity
    props = image_properties(x)
    assert props["mass"].tolist() == pytest.approx([60.0, 30.0])
    assert props["brightness"].tolist() == pytest.approx([1.0, 0.5])
    # 2 * area / perimeter = 20 * 3 / (20 + 3), plus a small error from counting the corners.
    assert props["thickness"].tolist() == pytest.approx([60 / 23] * 2, rel=0.03)
    assert props["centroid_x"].tolist() == pytest.approx([-0.5, -0.5])
    assert props["centroid_y"].tolist() == pytest.approx([0.0, 0.0], abs=1e-5)
    assert props["slant"].abs().max() < 1e-6 and props["rotation"].abs().max() < 1e-6


def test_empty_images_give_nan_and_leave_the_others_alone():
    x = torch.full((3, 3, 16, 16), -1.0)  # several channels are averaged
    x[1, :, 8, 8] = 1.0  # one pixel: no extent, but defined
    x[2, :, 4:12, 6:9] = 1.0
    props = image_properties(x)
    assert set(props) == set(PROPERTIES)
    for name, value in props.items():
        assert value.shape == (3,)
        assert math.isnan(value[0]), name
        assert torch.isfinite(value[1:]).all(), name
    assert props["width"][1] == 0 and props["slant"][1] == 0


def test_background_haze_below_the_threshold_is_not_ink():
    clean = render_ellipses(torch.tensor([3.0]), torch.tensor([9.0]), slant=0.3)
    hazy = clean.clamp_min(-0.95)  # intensity 0.025 everywhere off the digit
    for name, value in image_properties(clean).items():
        assert image_properties(hazy)[name] == pytest.approx(value, rel=1e-2), name


# --- Spearman table -----------------------------------------------------------------------------------------------


def test_spearman_table_on_known_relations():
    rng = np.random.default_rng(0)
    c = np.linspace(-1, 1, 500)
    with_nan = np.exp(3 * c)
    with_nan[::7] = np.nan
    table = _spearman_table(
        c,
        {
            "monotone": np.exp(3 * c),
            "decreasing": -(c**3),
            "independent": rng.normal(size=500),
            "with_nan": with_nan,
            "constant": np.ones(500),
        },
    )
    assert table["monotone"] == pytest.approx(1.0) and table["with_nan"] == pytest.approx(1.0)
    assert table["decreasing"] == pytest.approx(-1.0)
    assert abs(table["independent"]) < 0.1
    assert math.isnan(table["constant"])
    assert _best_property({"a": 0.3, "b": -0.9, "c": math.nan}) == ("b", -0.9)
    assert _best_property({"a": math.nan}) == (None, pytest.approx(math.nan, nan_ok=True))


def test_centring_per_draw_ignores_nan():
    values = np.array([[1.0, 2.0, 3.0], [10.0, math.nan, 14.0], [math.nan] * 3])
    centred = _centre_per_draw(values)
    assert centred[0].tolist() == [-1.0, 0.0, 1.0]
    assert centred[1, 0] == -2.0 and centred[1, 2] == 2.0 and math.isnan(centred[1, 1])
    assert np.isnan(centred[2]).all()


# --- code_semantics on a stand-in generator -----------------------------------------------------------------------


class FakeDigits:
    """Stand-in generator: an "11" whose slant follows c2 and width (the gap between its strokes) c3, plus large
    per-draw offsets from z (one "digit" is slanted and wide whatever the codes), a height from z and a horizontal
    shift from the categorical c1. Widening moves the strokes apart without adding ink, so width is the one
    property c3 controls (a filled ellipse would gain mass and stroke thickness at the same time)."""

    device = torch.device("cpu")

    def __init__(self) -> None:
        self.latent = LatentSpec.parse(4, ["cat:3", "uniform:2"])

    def generate(self, latent: Latent) -> Tensor:
        z, c = latent.z, latent.c_cont
        return render_ellipses(
            torch.full((len(latent),), 1.5),
            10.0 + z[:, 2],
            slant=0.35 * z[:, 0] + 0.2 * c[:, 0],
            gap=6.0
            + 1.2 * z[:, 1]
            + 1.5 * c[:, 1],  # 3.3..8.7: the strokes (3 px) never touch, the "11" stays taller than wide
            centre_x=latent.c_cat[:, 0].float() - 1,
        )


def test_code_semantics_names_slant_and_width():
    result = code_semantics(FakeDigits(), n_draws=20, steps=7, generator=torch.Generator().manual_seed(0))
    assert list(result) == ["c2", "c3"]  # continuous codes only
    assert set(result["c2"]["table"]) == set(PROPERTIES)
    assert result["c2"]["property"] == "slant" and result["c2"]["spearman"] > 0.9
    assert result["c3"]["property"] == "width" and result["c3"]["spearman"] > 0.9
    assert abs(result["c2"]["table"]["width"]) < 0.3 and abs(result["c3"]["table"]["slant"]) < 0.3


def test_centring_per_draw_recovers_what_plain_pooling_understates():
    values = torch.linspace(-1, 1, 7)
    props = _sweep_properties(
        FakeDigits(), "c2", values, n_draws=20, generator=torch.Generator().manual_seed(0), batch_size=50
    )
    assert props["slant"].shape == (20, 7)
    pooled = np.tile(values.double().numpy(), 20)
    plain = _spearman_table(pooled, {"slant": props["slant"].ravel()})["slant"]
    centred = _spearman_table(pooled, {"slant": _centre_per_draw(props["slant"]).ravel()})["slant"]
    # The per-draw offset (0.35 z) dwarfs the code's effect (0.2 c2) across draws, not along one sweep.
    assert plain < 0.7 and centred > 0.95


def test_centred_pooling_prefers_an_effect_of_the_same_size_in_every_draw():
    # Both properties rise with the code in every draw (per-draw rho = 1 for both), from offsets that differ
    # between draws; "alike" rises by the same amount everywhere, "uneven" by amounts spread over two decades.
    rng = np.random.default_rng(0)
    code = np.linspace(-1, 1, 11)
    offsets = rng.normal(0, 5, (50, 1))
    alike = offsets + code
    uneven = offsets + np.exp(rng.normal(0, 1.2, (50, 1))) * code
    assert all(rho(code, row) == pytest.approx(1.0) for row in np.concatenate([alike, uneven]))
    pooled = np.tile(code, 50)
    plain = _spearman_table(pooled, {"alike": alike.ravel()})["alike"]
    centred = _spearman_table(
        pooled, {"alike": _centre_per_draw(alike).ravel(), "uneven": _centre_per_draw(uneven).ravel()}
    )
    assert plain < 0.3  # the offsets drown the effect when draws are pooled as they are
    assert centred["alike"] == pytest.approx(
        math.sqrt(1 - 1 / 11**2), abs=1e-3
    )  # the most 11 tied values allow
    assert centred["uneven"] < centred["alike"] - 0.05
