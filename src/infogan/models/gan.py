"""The GAN (Goodfellow et al. 2014, arXiv:1406.2661): a generator G and a discriminator D in the two-player game

min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],

trained by the paper's Algorithm 1: k steps of D, then one step of G.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator
from torch import Tensor

from infogan.latent import Latent
from infogan.losses.adversarial import ADVERSARIAL, AdversarialLoss
from infogan.models.base import (
    AdversarialConfig,
    AdversarialModel,
    Batch,
    LatentConfig,
    adam,
    eval_mode,
    frozen,
    gradient_norm,
    noise_only,
    positive_sizes,
)
from infogan.nets.backbones import build_backbone
from infogan.nets.heads import LogitHead


def refuse_wasserstein(loss: AdversarialLoss) -> AdversarialLoss:
    """Config check shared by the GAN and the conditional GAN: any adversarial loss but the Wasserstein one."""
    if loss == "wasserstein":
        raise ValueError(
            "the wasserstein loss needs a Lipschitz constraint on the critic (weight clipping or a gradient "
            "penalty): use the wgan model"
        )
    return loss


class GANConfig(AdversarialConfig):
    """The GAN's hyperparameters; the defaults are the `gan` preset's MLP GAN."""

    name: Literal["gan"] = "gan"
    latent: LatentConfig = LatentConfig(noise=100, codes=[], noise_prior="normal")
    backbone: Literal["mlp", "dcgan"] = "mlp"
    # minimax and non-saturating are the paper's two generator losses (Sec. 3); wasserstein is refused below.
    adversarial: AdversarialLoss = "non-saturating"
    d_steps: int = Field(1, ge=1)  # k in the paper's Algorithm 1
    lr_d: float = Field(2e-4, gt=0)
    lr_g: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    # MLP backbone: hidden layer sizes of G (ReLU) and D (leaky ReLU, with dropout as the paper's D).
    g_hidden: list[int] = Field(default_factory=lambda: [1200, 1200], min_length=1)
    d_hidden: list[int] = Field(default_factory=lambda: [512, 256], min_length=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    # DCGAN backbone: channels of D's first (and G's last) convolution.
    width: int = Field(64, gt=0)

    @field_validator("latent")
    @classmethod
    def _noise_only(cls, latent: LatentConfig) -> LatentConfig:
        return noise_only(latent, "GAN")

    @field_validator("adversarial")
    @classmethod
    def _not_wasserstein(cls, loss: AdversarialLoss) -> AdversarialLoss:
        return refuse_wasserstein(loss)

    @field_validator("g_hidden", "d_hidden")
    @classmethod
    def _positive(cls, sizes: list[int]) -> list[int]:
        return positive_sizes(sizes)


class GAN(AdversarialModel):
    """Generator G, discriminator trunk with a logit head, and the GAN's alternating update."""

    Config = GANConfig
    cfg: GANConfig

    def __init__(self, cfg: GANConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__(cfg, image_shape)
        self.latent = cfg.latent.spec()
        nets = build_backbone(cfg.backbone, self.latent.dim, image_shape, cfg)
        self.G, self.trunk = nets.G, nets.trunk
        self.d_head = LogitHead(nets.features)
        self.d_loss_fn, self.g_loss_fn = ADVERSARIAL[cfg.adversarial]

    @property
    def real_batches_per_step(self) -> int:
        return self.cfg.d_steps  # a fresh real batch for each of the k D steps

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        d_params = [*self.trunk.parameters(), *self.d_head.parameters()]
        return {
            "d": adam(d_params, lr=self.cfg.lr_d, betas=betas),
            "g": adam(self.G.parameters(), lr=self.cfg.lr_g, betas=betas),
        }

    def D(self, x: Tensor) -> Tensor:
        """D's logits (B,) for images x (B, C, H, W); D(x) in the paper is their sigmoid."""
        return self.d_head(self.trunk(x))

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        x_all, k = batch["x"], self.cfg.d_steps
        if x_all.shape[0] % k:
            raise ValueError(
                f"the GAN's train_step takes d_steps={k} real batches concatenated (see real_batches_per_step), "
                f"got {x_all.shape[0]} images"
            )
        opt_d, opt_g = self.optimizers["d"], self.optimizers["g"]
        for x_real in x_all.view(k, -1, *x_all.shape[1:]):  # (k, B, C, H, W): a fresh real batch per D step
            latent = self.latent.sample(x_real.shape[0], generator=self.rng, device=x_real.device)
            x_fake = self.G(self.latent.to_input(latent))  # the last pass is reused by the G step

            # D step: ascend V(D, G). Real and fake go through D separately so batch norm never mixes them.
            d_real, d_fake = self.D(self._augment(x_real)), self.D(self._augment(x_fake.detach()))
            d_loss = self.d_loss_fn(d_real, d_fake)
            self.update(opt_d, d_loss)

        # G step against the updated D; D is frozen so only G's parameters receive gradients.
        with frozen(self.trunk, self.d_head):
            g_loss = self.g_loss_fn(self.D(self._augment(x_fake)))
            self.update(opt_g, g_loss)

        # d_real / d_fake: D's mean confidence that real and fake images are real, in the last D step. g_grad: the
        # norm of G's gradient in its step, which the minimax loss lets vanish while D rejects every sample (the
        # paper's Sec. 3: log(1 - D(G(z))) saturates; d/dlogit is -D(G(z)) for it, -(1 - D(G(z))) non-saturating).
        logs = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": d_real.sigmoid().mean(),
            "d_fake": d_fake.sigmoid().mean(),
            **self._g_gradient_log(),
        }
        return {k: v.detach() for k, v in logs.items()}

    def _g_gradient_log(self) -> dict[str, Tensor]:
        """{"g_grad": norm of G's gradient in its step}; nothing under fp16's gradient scaler, whose skipped
        steps leave infinite gradients that are not a divergence."""
        return {} if self.grad_scaler is not None else {"g_grad": gradient_norm(self.G)}

    def calibration_step(self, real: Tensor) -> None:
        self._calibration_passes(real, self.G, self.trunk)

    @torch.no_grad()
    def generate(self, latent: Latent) -> Tensor:
        with eval_mode(self.G):
            return self.G(self.latent.to_input(latent))
