"""InfoGAN-CR (Lin et al., ICML 2020, arXiv:1906.06034): InfoGAN with a contrastive regulariser.

A third network H is shown two generated images side by side (stacked on the channel axis) whose latents share the
noise z and the value of one code c_k, chosen at random, while the other codes are drawn independently; H predicts
k. H and G both minimise H's cross-entropy, so G is pushed to make every code change the image in its own way, one
H can tell apart from the others' - a pressure towards disentanglement that L_I alone does not exert.

Following the authors' dSprites code: H trains only from update `cr_start` (their dSprites run: from 288,000 of
about 322,000 updates, with the weight 2), with its own Adam (lr `lr_cr`); the codes that are not shared differ by
at least `cr_gap` (their "contrastive gap"; 0 on dSprites). H is the trunk of the run's backbone, built for two
stacked images, with a linear head, and sees only generated images.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from infogan.latent import Latent, LatentSpec
from infogan.models.base import Batch, LatentConfig, adam
from infogan.models.infogan import InfoGAN, InfoGANConfig
from infogan.nets.backbones import BACKBONES
from infogan.nets.init import official_init


class InfoGANCRConfig(InfoGANConfig):
    """InfoGAN's hyperparameters and the contrastive regulariser's."""

    name: Literal["infogan-cr"] = "infogan-cr"  # type: ignore[assignment]
    # The authors' dSprites latent: five regularised uniform codes, five uniform noise dimensions, Q's std fixed.
    latent: LatentConfig = LatentConfig(noise=5, codes=["uniform:5"], noise_prior="uniform", fixed_std=True)
    cr_weight: float = Field(2.0, ge=0)  # of H's cross-entropy in G's loss
    cr_start: int = Field(0, ge=0)  # the update at which H starts training and G feels it
    lr_cr: float = Field(2e-3, gt=0)
    cr_gap: float = Field(0.0, ge=0, lt=2)  # least difference of the codes not shared (uniform codes only)

    @model_validator(mode="after")
    def _codes_suit_the_regulariser(self) -> InfoGANCRConfig:
        codes = self.latent.spec().codes
        if any(c.is_categorical for c in codes) or len(codes) < 2:
            raise ValueError("infogan-cr needs two or more continuous codes and no categorical one")
        if self.cr_gap and any(c.kind != "uniform" for c in codes):
            raise ValueError("cr_gap needs uniform codes (the gap is a distance within [-1, 1])")
        return self

    def check_steps(self, steps: int) -> None:
        if self.cr_start >= steps:
            raise ValueError(
                f"model.cr_start {self.cr_start} is not below train.steps {steps}: H would never train and the run "
                f"would be plain InfoGAN; set model.cr_start below {steps} (the authors' last tenth: "
                f"{steps * 9 // 10})"
            )


def contrastive_pairs(
    spec: LatentSpec, n: int, gap: float, generator: torch.Generator, device: torch.device | str = "cpu"
) -> tuple[Latent, Latent, Tensor]:
    """n pairs of latents that share z and the continuous code k (n,), drawn uniformly; every other code is drawn
    independently for each side, at least `gap` apart (uniform codes)."""
    first, second = (
        spec.sample(n, generator=generator, device=device),
        spec.sample(n, generator=generator, device=device),
    )
    a, b = first.c_cont, second.c_cont
    if gap:
        # b is a moved round the circle [-1, 1) by a uniform amount in [gap, 2 - gap]: uniform whatever a is (so both
        # sides keep the prior), and |a - b|, the amount or 2 minus it, is at least gap.
        shift = gap + (b + 1) / 2 * (2 - 2 * gap)
        b = torch.remainder(a + 1 + shift, 2) - 1
    k = torch.randint(a.shape[1], (n,), generator=generator, device=device)
    rows = torch.arange(n, device=device)
    b = b.clone()
    b[rows, k] = a[rows, k]
    return Latent(first.z, first.c_cat, a), Latent(first.z, first.c_cat, b), k


class InfoGANCR(InfoGAN):
    """InfoGAN with the contrastive regulariser's network H and its step."""

    Config = InfoGANCRConfig
    cfg: InfoGANCRConfig

    def __init__(self, cfg: InfoGANCRConfig, image_shape: tuple[int, int, int]) -> None:
        # InfoGAN's networks first: the same seed gives them the same weights
        super().__init__(cfg, image_shape)
        c, h, w = image_shape
        self.H_trunk = BACKBONES[cfg.backbone].trunk((2 * c, h, w), cfg)
        features: int = getattr(self.H_trunk, "out_dim")  # every trunk states the size of its features  # noqa: B009
        head = nn.Linear(features, len(self.latent.continuous))
        self.H_head = spectral_norm(head) if self.spectral_heads else head
        if cfg.init == "normal":  # H as the authors draw it too, like the networks InfoGAN's __init__ drew
            official_init(self.H_trunk)
            official_init(self.H_head)
        # this update's pair: its latents, its images (with G's graph) and the shared code k
        self._pair: tuple[Latent, Latent, Tensor, Tensor, Tensor] | None = None

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        optimizers = super().configure_optimizers()
        params = [*self.H_trunk.parameters(), *self.H_head.parameters()]
        optimizers["cr"] = adam(params, lr=self.cfg.lr_cr, betas=(self.cfg.beta1, self.cfg.beta2))
        return optimizers

    def _h_logits(self, x1: Tensor, x2: Tensor) -> Tensor:
        return self.H_head(self.H_trunk(torch.cat([x1, x2], dim=1)))

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        if step < self.cfg.cr_start:
            return super().train_step(batch, step)
        # One pair per update: H steps on it detached, then G's step (inside InfoGAN's) on it with H frozen.
        n = batch["x"].shape[0] // self.cfg.n_critic
        first, second, k = contrastive_pairs(self.latent, n, self.cfg.cr_gap, self.rng, batch["x"].device)
        x1, x2 = (self.G(self.latent.to_input(latent)) for latent in (first, second))
        logits = self._h_logits(x1.detach(), x2.detach())
        h_loss = F.cross_entropy(logits, k)
        self.update(self.optimizers["cr"], h_loss)
        self._pair = (first, second, x1, x2, k)
        try:
            logs = super().train_step(batch, step)
        finally:
            self._pair = None
        accuracy = (logits.argmax(dim=1) == k).float().mean()
        return {**logs, "cr_loss": h_loss.detach(), "cr_accuracy": accuracy.detach()}

    def calibration_step(self, real: Tensor) -> None:
        # InfoGAN's passes, then those the regulariser adds once it is on: G draws a pair, H reads it.
        super().calibration_step(real)
        first, second, _ = contrastive_pairs(
            self.latent, real.shape[0], self.cfg.cr_gap, self.rng, real.device
        )
        self._h_logits(*(self.G(self.latent.to_input(latent)) for latent in (first, second)))

    @property
    def g_step_frozen(self) -> tuple[nn.Module, ...]:
        return (self.H_trunk, self.H_head)

    def g_step_terms(self, *, redraw: bool = False) -> Tensor | None:
        if self._pair is None:
            return None
        first, second, x1, x2, k = self._pair
        if redraw:
            x1, x2 = (self.G(self.latent.to_input(latent)) for latent in (first, second))
        return self.cfg.cr_weight * F.cross_entropy(self._h_logits(x1, x2), k)
