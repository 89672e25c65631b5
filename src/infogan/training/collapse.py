"""A generator-collapse detector: flags a generator whose output no longer varies with the noise z (mode collapse,
Goodfellow's GAN tutorial, arXiv:1701.00160, Sec. 5.1.1) or with one latent code (an InfoGAN code G has learnt to
ignore, arXiv:1606.03657).

A `CollapseProbe` fixes its latents once; each `check` generates from them and compares outputs that differ in z
only, or in one code only. It is cheap enough to run at every log window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from infogan.latent import Code, Latent, LatentSpec
from infogan.models.base import GenerativeModel, batch_statistics
from infogan.training.loop import Callback, Trainer

# vary_z is relative to the real images' own variation, ~1 for a generator as diverse as the data. Fresh and healthy
# generators of every preset score well above this threshold and collapsed ones well below it (the measurements are
# in docs/reliability.md): only collapse fires, not merely low diversity.
VARY_Z_MIN = 0.03
# vary_<code> is relative to G's own z-variation: a code G uses moves its output by a sizeable fraction of what a
# new z does, a code G ignores scores ~0 (docs/reliability.md). 0.01 flags only a code with almost no effect.
VARY_CODE_MIN = 0.01
# Guards the ratio when G's output does not vary with z at all; the z flag then already fires.
_EPS = 1e-8


@dataclass(frozen=True)
class CollapseReport:
    """How much a generator's output varies with each of its inputs.

    Attributes:
        vary_z: mean absolute pixel difference between outputs for different z (same codes), divided by the same
            statistic on real images: ~1 for a generator as diverse as the data, ~0 for a collapsed one.
        vary_code: by code name, the mean absolute pixel difference between outputs whose only difference is
            that code (two categories; or -1 vs +1 for a continuous code), divided by G's own z-variation.
        flags: one human-readable line per problem found; empty for a healthy generator.
    """

    vary_z: float
    vary_code: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def as_metrics(self) -> dict[str, float]:
        """Values for the metrics log: ``vary_z`` and ``vary_<code>`` (e.g. ``vary_c1``)."""
        return {"vary_z": self.vary_z, **{f"vary_{name}": v for name, v in self.vary_code.items()}}


class CollapseProbe:
    """Fixed probe latents and the real images' scale, to check a generator for collapse again and again.

    The probe latents come from their own `torch.Generator`, so building the probe consumes neither the model's
    training generator `model.rng` nor the global torch RNG: training is bit-for-bit the same with or without it.

    Outputs are made with `model.generate` (eval mode: dropout off, so no randomness is drawn) but with batch norm
    normalising by the statistics of the probe batch, as in training, and without touching its running
    statistics. Eval mode's running statistics would be the alternative without side effects, but they lag the
    weights early in training: at initialisation they are (0, 1) while the activations are far smaller, so a
    fresh generator's eval-mode output is nearly constant and would be flagged. Train mode would update the
    running statistics, and so change training. All comparisons are generated in one pass, so each pair of
    outputs is normalised alike.

    By default codes are checked when they come alongside noise (InfoGAN's codes, a conditional GAN's label). In a
    model without noise (the VAE, whose every latent dimension is a code) the whole latent plays the role of z:
    vary_z compares independent latent draws, and no dimension is checked alone, since the KL term leaves unused
    dimensions at the prior by design.

    Args:
        model: the model to probe; fixes the latent spec and the image shape.
        x_real: (N, C, H, W) real training images in [-1, 1], N >= 2, for the data's scale of variation.
        n: number of probe latents; each comparison averages over n // 2 pairs of outputs.
        seed: seeds the probe latents.
        codes: names of the codes to check, overriding the default above.
    """

    def __init__(
        self,
        model: GenerativeModel,
        x_real: Tensor,
        *,
        n: int = 64,
        seed: int = 0,
        codes: Sequence[str] | None = None,
    ) -> None:
        if n < 2:
            raise ValueError(f"the collapse probe needs at least 2 latents, got n={n}")
        if x_real.ndim != 4 or tuple(x_real.shape[1:]) != model.image_shape or len(x_real) < 2:
            raise ValueError(
                f"the collapse probe needs at least 2 real images of shape {model.image_shape}, "
                f"got a tensor of shape {tuple(x_real.shape)}"
            )
        half = len(x_real) // 2
        self.real_scale = float(_mean_abs_diff(x_real[:half], x_real[half : 2 * half]))
        if not self.real_scale > 0:
            raise ValueError(
                "the real images given to the collapse probe are all the same; pass a real batch"
            )
        self.spec = model.latent
        if codes is None:
            checked = self.spec.codes if self.spec.noise > 0 else ()
        else:
            checked = tuple(self.spec.code(name) for name in codes)
        self.latent, self.pairs = _probe_latents(self.spec, checked, n, torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def check(self, model: GenerativeModel) -> CollapseReport:
        """Generate from the probe latents and measure how the output varies with z and with each code.

        Args:
            model: the probed model (its latent spec must be the probe's); its training state is left untouched.

        Returns:
            The report; `flags` is empty unless G collapsed.
        """
        if model.latent != self.spec:
            raise ValueError("this collapse probe was built for a model with a different latent spec")
        with batch_statistics(model):
            x = model.generate(_to(self.latent, model.device))  # (P, C, H, W), all comparisons in one pass
        # One host sync for all comparisons.
        diffs = torch.stack([_mean_abs_diff(x[a], x[b]) for a, b in self.pairs.values()]).tolist()
        d = dict(zip(self.pairs, diffs, strict=True))
        d_z = d.pop("z")
        vary_code = {name: value / max(d_z, _EPS) for name, value in d.items()}
        return collapse_report(d_z / self.real_scale, vary_code)


def collapse_report(vary_z: float, vary_code: dict[str, float]) -> CollapseReport:
    """The report of given variation ratios, with a flag for each below its threshold (or not finite)."""
    flags = []
    if not math.isfinite(vary_z):
        flags.append(f"G's output is not finite (vary_z {vary_z})")
    elif vary_z < VARY_Z_MIN:
        flags.append(f"G's output does not vary with z (vary_z {vary_z:.3g} < {VARY_Z_MIN})")
    for name, value in vary_code.items():
        # Code ratios are relative to G's z-variation: meaningless once that is flagged (or not finite).
        if not flags and value < VARY_CODE_MIN:
            flags.append(
                f"G's output does not vary with code {name} (vary_{name} {value:.3g} < {VARY_CODE_MIN})"
            )
    return CollapseReport(vary_z, vary_code, flags)


def _mean_abs_diff(a: Tensor, b: Tensor) -> Tensor:
    """Mean absolute difference of paired images a, b (B, C, H, W): a 0-d tensor."""
    return (a - b).abs().mean()


def _probe_latents(
    spec: LatentSpec, codes: Sequence[Code], n: int, generator: torch.Generator
) -> tuple[Latent, dict[str, tuple[slice, slice]]]:
    """All probe latents, concatenated, and the two slices of them that each comparison sets against each other.

    The first n latents are prior draws whose second half repeats the first half's codes, so rows i and
    n // 2 + i differ in z only (comparison "z"; with no noise they are independent draws). Each of `codes` is
    then compared on the first n // 2 draws with only that code changed: moved to another category (one more
    block of n // 2), or set to -1 and to +1 (two blocks).

    Returns:
        (latent, {"z" or code name: (slice a, slice b)}), each pair of slices of length n // 2.
    """
    half = n // 2
    base = spec.sample(n, generator=generator)
    if spec.noise > 0:
        c_cat, c_cont = base.c_cat.clone(), base.c_cont.clone()
        c_cat[half : 2 * half], c_cont[half : 2 * half] = c_cat[:half], c_cont[:half]
        base = replace(base, c_cat=c_cat, c_cont=c_cont)
    first = Latent(base.z[:half], base.c_cat[:half], base.c_cont[:half])
    blocks, end = [base], n
    pairs = {"z": (slice(0, half), slice(half, 2 * half))}
    for code in codes:
        if code.is_categorical:
            i = spec.categorical.index(code)
            c_cat = first.c_cat.clone()
            # A shift in 1..k-1 always lands on another category.
            c_cat[:, i] = (c_cat[:, i] + torch.randint(1, code.k, (half,), generator=generator)) % code.k
            blocks.append(replace(first, c_cat=c_cat))
            pairs[code.name] = (slice(0, half), slice(end, end + half))
            end += half
        else:
            blocks += [spec.with_codes(first, {code.name: -1.0}), spec.with_codes(first, {code.name: 1.0})]
            pairs[code.name] = (slice(end, end + half), slice(end + half, end + 2 * half))
            end += 2 * half
    return _cat(blocks), pairs


def _cat(latents: list[Latent]) -> Latent:
    return Latent(
        torch.cat([lt.z for lt in latents]),
        torch.cat([lt.c_cat for lt in latents]),
        torch.cat([lt.c_cont for lt in latents]),
    )


def _to(latent: Latent, device: torch.device) -> Latent:
    return Latent(latent.z.to(device), latent.c_cat.to(device), latent.c_cont.to(device))


class CollapseCheck(Callback):
    """The collapse detector as a training-loop callback: a probe built from the first 64 training images when
    training starts; at every log step its figures go into the log row, and a collapse, or its end, is reported."""

    def __init__(self) -> None:
        self.probe: CollapseProbe | None = None
        self.report: CollapseReport | None = None
        self.flagged: list[str] = []

    def on_fit_start(self, trainer: Trainer, step: int) -> None:
        self.trainer = trainer
        real = trainer.data.batch(torch.arange(min(64, len(trainer.data)), device=trainer.model.device))["x"]
        self.probe = CollapseProbe(trainer.model, real, seed=trainer.cfg.seed)

    def log_values(self, step: int) -> dict[str, float]:
        assert self.probe is not None
        self.report = self.probe.check(self.trainer.model)
        return self.report.as_metrics()

    def on_log(self, step: int) -> None:
        assert self.report is not None
        flags = self.report.flags
        if flags != self.flagged:
            for flag in flags:
                self.trainer.progress(f"warning at step {step}: {flag}")
            if self.flagged and not flags:
                self.trainer.progress(f"step {step}: G's output varies with z and every code again")
        self.flagged = flags
