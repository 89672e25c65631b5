"""Wasserstein GAN with a weight-clipped critic (WGAN, Arjovsky et al. 2017, arXiv:1701.07875) or a
gradient-penalised one (WGAN-GP, Gulrajani et al. 2017, arXiv:1704.00028), chosen by `lipschitz`.

min_G max_{||f||_L <= 1}  E_x[f(x)] - E_z[f(G(z))]
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor, nn

from infogan.latent import Latent
from infogan.losses.adversarial import ADVERSARIAL
from infogan.losses.penalties import clip_weights, gradient_penalty
from infogan.models.base import (
    AdversarialConfig,
    AdversarialModel,
    Batch,
    LatentConfig,
    adam,
    eval_mode,
    frozen,
    noise_only,
    positive_sizes,
)
from infogan.nets.backbones import build_backbone
from infogan.nets.heads import LogitHead


class WGANConfig(AdversarialConfig):
    """WGAN's and WGAN-GP's hyperparameters; the defaults are the WGAN paper's (Algorithm 1): RMSProp at 5e-5,
    clipping at 0.01, five critic steps per generator step, batch norm in the DCGAN critic."""

    name: Literal["wgan"] = "wgan"
    latent: LatentConfig = LatentConfig(noise=100, codes=[], noise_prior="normal")
    backbone: Literal["dcgan", "mlp"] = "dcgan"
    lipschitz: Literal["clip", "gp"] = "clip"
    clip: float = Field(0.01, gt=0)
    gp_lambda: float = Field(10.0, ge=0)
    n_critic: int = Field(5, ge=1)
    # Normalisation in the DCGAN critic's hidden layers; the MLP critic has none.
    critic_norm: Literal["batch", "layer", "none"] = "batch"
    optimizer: Literal["rmsprop", "adam"] = "rmsprop"
    lr_d: float = Field(5e-5, gt=0)
    lr_g: float = Field(5e-5, gt=0)
    # Adam's betas; RMSProp (PyTorch's defaults, as the official WGAN code) does not read them.
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    width: int = Field(64, gt=0)
    # The MLP backbone's hidden sizes: four linear layers of 512 units, as the official WGAN code's MLP_G/MLP_D.
    g_hidden: list[int] = Field(default_factory=lambda: [512, 512, 512], min_length=1)
    d_hidden: list[int] = Field(default_factory=lambda: [512, 512, 512], min_length=1)

    @field_validator("latent")
    @classmethod
    def _noise_only(cls, latent: LatentConfig) -> LatentConfig:
        return noise_only(latent, "WGAN")

    @field_validator("g_hidden", "d_hidden")
    @classmethod
    def _positive(cls, sizes: list[int]) -> list[int]:
        return positive_sizes(sizes)

    @model_validator(mode="after")
    def _critic_norm_fits(self) -> WGANConfig:
        if self.lipschitz == "gp" and self.critic_norm == "batch":
            # The penalty constrains each sample's gradient; batch norm makes a score depend on the whole batch.
            raise ValueError(
                "critic_norm 'batch' cannot be used with lipschitz 'gp' (the gradient penalty is per sample; "
                "WGAN-GP drops batch norm in the critic): set model.critic_norm=layer or none"
            )
        if self.backbone == "mlp" and self.critic_norm != "none":
            raise ValueError(
                f"the MLP critic has no normalisation layers, so critic_norm '{self.critic_norm}' would be "
                "ignored: set model.critic_norm=none"
            )
        return self


class WGAN(AdversarialModel):
    """Generator G, critic f = d_head(trunk(x)) with no sigmoid, and the Wasserstein update rule."""

    Config = WGANConfig
    cfg: WGANConfig

    def __init__(self, cfg: WGANConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__(cfg, image_shape)
        self.latent = cfg.latent.spec()
        nets = build_backbone(cfg.backbone, self.latent.dim, image_shape, cfg)
        self.G, self.trunk = nets.G, nets.trunk
        self.d_head = LogitHead(nets.features)
        self.d_loss_fn, self.g_loss_fn = ADVERSARIAL["wasserstein"]

    @property
    def real_batches_per_step(self) -> int:
        return self.cfg.n_critic

    def critic(self, x: Tensor) -> Tensor:
        """Critic scores f(x) (B,) for images x (B, C, H, W): unbounded reals, not probabilities."""
        return self.d_head(self.trunk(x))

    def critic_parameters(self) -> list[nn.Parameter]:
        return [*self.trunk.parameters(), *self.d_head.parameters()]

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        critic_params = self.critic_parameters()
        if self.cfg.optimizer == "rmsprop":
            # The WGAN paper avoids momentum: with clipping, Adam made the critic's training unstable.
            return {
                "d": torch.optim.RMSprop(critic_params, lr=self.cfg.lr_d),
                "g": torch.optim.RMSprop(self.G.parameters(), lr=self.cfg.lr_g),
            }
        betas = (self.cfg.beta1, self.cfg.beta2)
        return {
            "d": adam(critic_params, lr=self.cfg.lr_d, betas=betas),
            "g": adam(self.G.parameters(), lr=self.cfg.lr_g, betas=betas),
        }

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        """n_critic critic updates, each on its own real batch and fresh z, then one G update (Algorithm 1 of both
        papers). `batch["x"]` holds the n_critic real batches concatenated: (n_critic * B, C, H, W)."""
        x_all, k = batch["x"], self.cfg.n_critic
        if x_all.shape[0] % k:
            raise ValueError(
                f"WGAN's train_step takes n_critic={k} real batches concatenated (see real_batches_per_step), "
                f"got {x_all.shape[0]} images"
            )
        x_chunks = x_all.view(k, -1, *x_all.shape[1:])  # (n_critic, B, C, H, W)
        n = x_chunks.shape[1]
        opt_d, opt_g = self.optimizers["d"], self.optimizers["g"]
        logs: dict[str, Tensor] = {}

        for x_real in x_chunks:
            with torch.no_grad():  # the critic step needs no gradient through G
                x_fake = self._augment(self.G(self._noise(n)))
            x_real = self._augment(x_real)
            # Real and fake go through the critic separately, as in both papers' code, so a batch-normalised
            # critic never mixes their statistics.
            f_real, f_fake = self.critic(x_real), self.critic(x_fake)
            adv_loss = self.d_loss_fn(f_real, f_fake)
            d_loss = adv_loss
            if self.cfg.lipschitz == "gp":
                gp = gradient_penalty(self.critic, x_real, x_fake, generator=self.rng)
                d_loss = adv_loss + self.cfg.gp_lambda * gp
                logs["gp"] = gp
            self.update(opt_d, d_loss)
            if self.cfg.lipschitz == "clip":
                clip_weights(self.critic_parameters(), self.cfg.clip)
        # The estimate of W(P_r, P_g) (up to the Lipschitz constant) from the last critic step: the curve the
        # WGAN paper plots.
        logs["wasserstein"] = -adv_loss
        logs["d_loss"] = d_loss

        # G step on a fresh z; the critic is frozen, so only G's parameters receive gradients.
        with frozen(self.trunk, self.d_head):
            g_loss = self.g_loss_fn(self.critic(self._augment(self.G(self._noise(n)))))
            self.update(opt_g, g_loss)
        logs["g_loss"] = g_loss
        return {key: value.detach() for key, value in logs.items()}

    def _noise(self, n: int) -> Tensor:
        """Generator input (n, noise) drawn from the prior with the training generator."""
        return self.latent.to_input(self.latent.sample(n, generator=self.rng, device=self.device))

    def calibration_step(self, real: Tensor) -> None:
        self._calibration_passes(real, self.G, self.trunk)

    @torch.no_grad()
    def generate(self, latent: Latent) -> Tensor:
        with eval_mode(self.G):
            return self.G(self.latent.to_input(latent))
