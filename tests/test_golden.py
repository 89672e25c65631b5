"""Golden values: the first two `train_step`s' logs and a slice of `sample(4)` for every tiny model config, pinned
(as diffusers pins `expected_slice`), so that a change claiming "same numbers" is checked against the numbers from
before it and not only against itself. A deliberate change of a model's maths updates these values in the same
commit and says why.

Pinned on x86_64 CPUs with torch 2.14.1, one thread, with `python -m tests.test_golden` (which prints every value
below to seven significant digits); the tolerance allows for other CPUs' kernels, not for changes.
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
                "g_loss": 0.7064365,
                "info_loss": 2.778302,
                "mi_c1": -0.2128248,
                "mi_c2": -0.6367114,
                "mi_c3": -0.60592,
            },
            {
                "d_loss": 1.422393,
                "g_loss": 0.7176045,
                "info_loss": 2.678057,
                "mi_c1": -0.1286883,
                "mi_c2": -0.5047443,
                "mi_c3": -0.5767953,
            },
        ],
        [
            -0.01224882,
            -0.007397592,
            -0.01401841,
            -0.00561104,
            -0.02917125,
            -0.0007573821,
            0.0009384981,
            -0.002788575,
        ],
    ),
    "infogan-cr": (
        [
            {
                "d_loss": 1.401018,
                "g_loss": 0.7104605,
                "info_loss": 0.1827487,
                "mi_c1": -0.5766114,
                "mi_c2": -0.374965,
                "mi_c3": -0.6239555,
                "cr_loss": 1.151517,
                "cr_accuracy": 0.375,
            },
            {
                "d_loss": 1.401498,
                "g_loss": 0.7139503,
                "info_loss": 0.178194,
                "mi_c1": -0.4236661,
                "mi_c2": -0.5987939,
                "mi_c3": -0.4619778,
                "cr_loss": 1.187829,
                "cr_accuracy": 0.375,
            },
        ],
        [-0.08429679, -0.1058699, -0.1416024, -0.1081211, -0.1254026, -0.0769688, -0.183632, -0.07037903],
    ),
    "gan": (
        [
            {
                "d_loss": 1.3704,
                "g_loss": 0.7047691,
                "d_real": 0.5047829,
                "d_fake": 0.4951887,
                "g_grad": 0.2373329,
            },
            {
                "d_loss": 1.389051,
                "g_loss": 0.7067661,
                "d_real": 0.4939493,
                "d_fake": 0.4944635,
                "g_grad": 0.2611853,
            },
        ],
        [-0.4420208, 0.007912601, 0.0583802, -0.1756248, -0.3940347, -0.4110706, -0.3792067, -0.2673415],
    ),
    "cgan": (
        [
            {
                "d_loss": 1.454913,
                "g_loss": 0.7999584,
                "d_real": 0.4429612,
                "d_fake": 0.4556845,
                "g_grad": 0.4467614,
            },
            {
                "d_loss": 1.415982,
                "g_loss": 0.7653208,
                "d_real": 0.4750679,
                "d_fake": 0.4746716,
                "g_grad": 0.4306296,
            },
        ],
        [0.17789, 0.188977, 0.1845146, 0.173355, 0.1832555, 0.1818676, 0.1771183, 0.1818955],
    ),
    "wgan": (
        [
            {"wasserstein": 0.0001119878, "d_loss": -0.0001119878, "g_loss": 0.008804254},
            {"wasserstein": 4.34462e-05, "d_loss": -4.34462e-05, "g_loss": 0.008775856},
        ],
        [-0.1760934, -0.1226276, -0.168685, -0.1793369, -0.1781253, -0.1554189, -0.1666351, -0.1225225],
    ),
    "vae": (
        [
            {"loss": 45.73277, "elbo": -45.73277, "reconstruction": 45.36223, "kl": 0.3705378},
            {"loss": 44.7893, "elbo": -44.7893, "reconstruction": 44.72017, "kl": 0.06913227},
        ],
        [-0.01848596, 0.211531, 0.02350199, -0.06292135, -0.4232012, -0.1404865, -0.191584, -0.1295044],
    ),
    "infogan+consistency": (
        [
            {
                "d_loss": 1.437077,
                "g_loss": 0.7064525,
                "info_loss": 2.778302,
                "mi_real_c1": 0.000662577,
                "mi_c1": -0.2128248,
                "mi_c2": -0.6367114,
                "mi_c3": -0.60592,
            },
            {
                "d_loss": 1.433397,
                "g_loss": 0.7008591,
                "info_loss": 2.553618,
                "mi_real_c1": 0.0001580403,
                "mi_c1": -0.0258677,
                "mi_c2": -0.3238659,
                "mi_c3": -0.541497,
            },
        ],
        [
            -0.01213863,
            -0.009679789,
            -0.01454073,
            -0.006576052,
            -0.02975542,
            -0.00250608,
            0.0005739256,
            -0.002981402,
        ],
    ),
    "infogan+translation": (
        [
            {
                "d_loss": 1.446297,
                "g_loss": 0.7214682,
                "info_loss": 2.476313,
                "mi_c1": 0.04759169,
                "mi_c2": -0.3463473,
                "mi_c3": -0.4805533,
            },
            {
                "d_loss": 1.435688,
                "g_loss": 0.7056121,
                "info_loss": 2.567794,
                "mi_c1": -0.05027032,
                "mi_c2": -0.3461263,
                "mi_c3": -0.4169639,
            },
        ],
        [
            -0.01006361,
            -0.004462519,
            -0.01270465,
            -0.005220648,
            -0.02923198,
            0.0008144703,
            0.001816074,
            -0.00159828,
        ],
    ),
}


def measure(key: str) -> tuple[list[dict[str, float]], list[float]]:
    """What GOLDEN pins for a variant: the logs of its first two training steps, then 8 evenly spaced values of
    sample(4) (generator seed 1)."""
    torch.set_num_threads(1)
    model = tiny_model(key.split("+")[0], extra=VARIANTS[key])
    logs = []
    for step in range(2):
        logged = model.train_step(
            batch(8 * model.real_batches_per_step, seed=step, shape=model.image_shape), step
        )
        logs.append({name: float(value) for name, value in logged.items()})
    flat = model.eval().sample(4, generator=torch.Generator().manual_seed(1)).flatten()
    return logs, flat[torch.linspace(0, flat.numel() - 1, 8).long()].tolist()


def pinned(value: float) -> object:
    """A pinned value as the tests compare it: to 1e-4 of its size, and within 1e-6 where it is near zero."""
    return pytest.approx(value, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("key", list(VARIANTS))
def test_training_and_sampling_reproduce_the_pinned_numbers(key):
    expected_logs, expected_sample = GOLDEN[key]
    logs, sample = measure(key)
    for step, (got, expected) in enumerate(zip(logs, expected_logs, strict=True)):
        assert sorted(got) == sorted(expected)
        for name, value in expected.items():
            assert got[name] == pinned(value), f"{key} step {step} {name}"
    assert sample == [pinned(v) for v in expected_sample]


def test_every_registered_model_is_pinned():
    from infogan.models import MODELS

    assert set(MODELS) <= {key.split("+")[0] for key in GOLDEN}


if __name__ == "__main__":  # python -m tests.test_golden: the values to pin, measured on this machine
    import pprint

    def rounded(value: float) -> float:
        return float(f"{value:.7g}")

    pprint.pprint(
        {
            key: ([{k: rounded(v) for k, v in step.items()} for step in logs], [rounded(v) for v in sample])
            for key, (logs, sample) in ((key, measure(key)) for key in VARIANTS)
        },
        width=120,
        sort_dicts=False,
    )
