"""Golden values: the first two `train_step`s' logs and a slice of `sample(4)` for every tiny model config, pinned
(as diffusers pins `expected_slice`), so that a change claiming "same numbers" is checked against the numbers from
before it and not only against itself. A deliberate change of a model's maths updates these values in the same
commit and says why.

Pinned on x86_64 CPUs with torch 2.14.1, one thread; the tolerance allows for other CPUs' kernels, not for changes.
"""

from __future__ import annotations

import pytest
import torch

from .test_models import batch, tiny_model

# name (+ variant): the extra overrides on top of the model's tiny config in conftest.TINY_MODELS
VARIANTS: dict[str, tuple[str, ...]] = {
    "infogan": (),
    "infogan-cr": (),
    "gan": (),
    "cgan": (),
    "wgan": (),
    "vae": (),
    "infogan+consistency": ("model.consistency.weight=1",),
    "infogan+translation": ("model.augment=[translation]",),
}

# per variant: the logs of steps 0 and 1, and 8 evenly spaced values of sample(4) (generator seed 1) after them
GOLDEN: dict[str, tuple[list[dict[str, float]], list[float]]] = {
    "infogan": (
        [
            {
                "d_loss": 1.437077,
                "g_loss": 0.706437,
                "info_loss": 2.778302,
                "mi_c1": -0.212825,
                "mi_c2": -0.636711,
                "mi_c3": -0.60592,
            },
            {
                "d_loss": 1.422393,
                "g_loss": 0.717605,
                "info_loss": 2.678057,
                "mi_c1": -0.128688,
                "mi_c2": -0.504744,
                "mi_c3": -0.576795,
            },
        ],
        [-0.012249, -0.007398, -0.014018, -0.005611, -0.029171, -0.000757, 0.000938, -0.002789],
    ),
    "infogan-cr": (
        [
            {
                "cr_accuracy": 0.375,
                "cr_loss": 1.151517,
                "d_loss": 1.401018,
                "g_loss": 0.710461,
                "info_loss": 0.182749,
                "mi_c1": -0.576611,
                "mi_c2": -0.374965,
                "mi_c3": -0.623955,
            },
            {
                "cr_accuracy": 0.375,
                "cr_loss": 1.187835,
                "d_loss": 1.401498,
                "g_loss": 0.71395,
                "info_loss": 0.178194,
                "mi_c1": -0.423666,
                "mi_c2": -0.598795,
                "mi_c3": -0.461978,
            },
        ],
        [-0.084297, -0.10587, -0.141602, -0.108121, -0.125403, -0.076969, -0.183632, -0.070379],
    ),
    "gan": (
        [
            {
                "d_fake": 0.495189,
                "d_loss": 1.3704,
                "d_real": 0.504783,
                "g_loss": 0.704769,
                "g_grad": 0.237333,
            },
            {
                "d_fake": 0.494464,
                "d_loss": 1.389051,
                "d_real": 0.493949,
                "g_loss": 0.706766,
                "g_grad": 0.261185,
            },
        ],
        [-0.442021, 0.007913, 0.05838, -0.175625, -0.394035, -0.411071, -0.379207, -0.267341],
    ),
    "cgan": (
        [
            {
                "d_fake": 0.455684,
                "d_loss": 1.454913,
                "d_real": 0.442961,
                "g_loss": 0.799958,
                "g_grad": 0.446761,
            },
            {
                "d_fake": 0.474672,
                "d_loss": 1.415982,
                "d_real": 0.475068,
                "g_loss": 0.765321,
                "g_grad": 0.43063,
            },
        ],
        [0.17789, 0.188977, 0.184515, 0.173355, 0.183256, 0.181868, 0.177118, 0.181896],
    ),
    "wgan": (
        [
            {"d_loss": -0.000112, "g_loss": 0.008804, "wasserstein": 0.000112},
            {"d_loss": -4.3e-05, "g_loss": 0.008776, "wasserstein": 4.3e-05},
        ],
        [-0.176093, -0.122628, -0.168685, -0.179337, -0.178125, -0.155419, -0.166635, -0.122523],
    ),
    "vae": (
        [
            {"elbo": -45.732765, "kl": 0.370538, "loss": 45.732765, "reconstruction": 45.362228},
            {"elbo": -44.789299, "kl": 0.069132, "loss": 44.789299, "reconstruction": 44.720165},
        ],
        [-0.018486, 0.211531, 0.023502, -0.062921, -0.423201, -0.140486, -0.191584, -0.129504],
    ),
    "infogan+consistency": (
        [
            {
                "d_loss": 1.437077,
                "g_loss": 0.706452,
                "info_loss": 2.778302,
                "mi_c1": -0.212825,
                "mi_c2": -0.636711,
                "mi_c3": -0.60592,
                "mi_real_c1": 0.000663,
            },
            {
                "d_loss": 1.433397,
                "g_loss": 0.700859,
                "info_loss": 2.553618,
                "mi_c1": -0.025867,
                "mi_c2": -0.323866,
                "mi_c3": -0.541497,
                "mi_real_c1": 0.000158,
            },
        ],
        [-0.012139, -0.00968, -0.014541, -0.006576, -0.029755, -0.002506, 0.000574, -0.002981],
    ),
    "infogan+translation": (
        [
            {
                "d_loss": 1.446297,
                "g_loss": 0.721468,
                "info_loss": 2.476313,
                "mi_c1": 0.047592,
                "mi_c2": -0.346347,
                "mi_c3": -0.480553,
            },
            {
                "d_loss": 1.435688,
                "g_loss": 0.705612,
                "info_loss": 2.567794,
                "mi_c1": -0.05027,
                "mi_c2": -0.346126,
                "mi_c3": -0.416964,
            },
        ],
        [-0.010064, -0.004463, -0.012705, -0.005221, -0.029232, 0.000814, 0.001816, -0.001598],
    ),
}


@pytest.mark.parametrize("key", list(VARIANTS))
def test_training_and_sampling_reproduce_the_pinned_numbers(key):
    torch.set_num_threads(1)
    model = tiny_model(key.split("+")[0], extra=VARIANTS[key])
    expected_logs, expected_sample = GOLDEN[key]
    for step, expected in enumerate(expected_logs):
        logs = model.train_step(
            batch(8 * model.real_batches_per_step, seed=step, shape=model.image_shape), step
        )
        assert sorted(logs) == sorted(expected)
        for name, value in expected.items():
            assert float(logs[name]) == pytest.approx(value, abs=1e-4), f"{key} step {step} {name}"
    flat = model.eval().sample(4, generator=torch.Generator().manual_seed(1)).flatten()
    got = flat[torch.linspace(0, flat.numel() - 1, 8).long()]
    assert got.tolist() == pytest.approx(expected_sample, abs=1e-4)


def test_every_registered_model_is_pinned():
    from infogan.models import MODELS

    assert set(MODELS) <= {key.split("+")[0] for key in GOLDEN}
