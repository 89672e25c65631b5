"""The conditional GAN (Mirza & Osindero 2014, arXiv:1411.1784): G and D both receive a class label y,

min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 - D(G(z | y) | y))].

The label is the latent spec's one categorical code, c1: `sample(n, codes={"c1": 7})` draws class 7.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import Tensor, nn

from infogan.errors import ConfigError
from infogan.latent import Latent, LatentSpec
from infogan.losses.adversarial import ADVERSARIAL, AdversarialLoss
from infogan.models.base import (
    AdversarialConfig,
    AdversarialModel,
    Batch,
    adam,
    eval_mode,
    frozen,
    gradient_norm,
)
from infogan.models.gan import refuse_wasserstein
from infogan.nets.dcgan import DCGANGenerator, DCGANTrunk
from infogan.nets.heads import LogitHead
from infogan.nets.mlp import Maxout


class CGANConfig(AdversarialConfig):
    """The conditional GAN's hyperparameters; the defaults are the paper's MNIST networks (the `cgan-mlp` preset;
    the `cgan` preset puts the model on DCGAN's networks)."""

    name: Literal["cgan"] = "cgan"
    num_classes: int = Field(10, ge=2)
    noise: int = Field(100, ge=1)
    # The paper draws z uniformly from the unit hypercube; ours is U(-1, 1)^noise (or N(0, 1)).
    noise_prior: Literal["uniform", "normal"] = "uniform"
    backbone: Literal["mlp", "dcgan"] = "mlp"
    adversarial: AdversarialLoss = "non-saturating"
    lr_d: float = Field(2e-4, gt=0)
    lr_g: float = Field(2e-4, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    # MLP backbone: the paper applies dropout 0.5 to both G and D.
    dropout: float = Field(0.5, ge=0, lt=1)
    # DCGAN backbone: channels of D's first (and G's last) convolution.
    width: int = Field(64, gt=0)

    @field_validator("adversarial")
    @classmethod
    def _not_wasserstein(cls, loss: AdversarialLoss) -> AdversarialLoss:
        return refuse_wasserstein(loss)


class ConditionalMLPGenerator(nn.Module):
    """The paper's MNIST G: z -> 200 ReLU and y -> 1000 ReLU, both mapped to a combined 1200 ReLU layer, then
    dropout and the image. The paper's output is a sigmoid (pixels in [0, 1]); ours is tanh, for data in [-1, 1].

    (B, noise), one-hot (B, K) -> images (B, C, H, W) in [-1, 1].
    """

    def __init__(
        self, noise: int, num_classes: int, image_shape: tuple[int, int, int], dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        c, h, w = image_shape
        self.z_branch = nn.Sequential(nn.Linear(noise, 200), nn.ReLU())
        self.y_branch = nn.Sequential(nn.Linear(num_classes, 1000), nn.ReLU())
        self.joint = nn.Sequential(
            nn.Linear(1200, 1200), nn.ReLU(), nn.Dropout(dropout), nn.Linear(1200, c * h * w), nn.Tanh()
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = torch.cat([self.z_branch(z), self.y_branch(y)], dim=1)  # (B, 200 + 1000)
        return self.joint(h).view(-1, *self.image_shape)


class ConditionalMLPDiscriminator(nn.Module):
    """The paper's MNIST D: x -> maxout 240 units x 5 pieces and y -> maxout 50 x 5, both mapped to a joint
    maxout 240 x 4, then the logit; dropout after each maxout layer.

    Images (B, C, H, W), one-hot (B, K) -> logits (B,).
    """

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        c, h, w = image_shape
        self.x_branch = nn.Sequential(nn.Flatten(), Maxout(c * h * w, 240, 5), nn.Dropout(dropout))
        self.y_branch = nn.Sequential(Maxout(num_classes, 50, 5), nn.Dropout(dropout))
        self.joint = nn.Sequential(Maxout(240 + 50, 240, 4), nn.Dropout(dropout), LogitHead(240))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.joint(torch.cat([self.x_branch(x), self.y_branch(y)], dim=1))  # (B, 240 + 50) -> (B,)


class ConditionalDCGANGenerator(nn.Module):
    """DCGAN's G with the one-hot label appended to its input: (B, noise), (B, K) -> (B, C, S, S) in [-1, 1]."""

    def __init__(self, noise: int, num_classes: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        self.net = DCGANGenerator(noise + num_classes, channels, image_size, width)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.net(torch.cat([z, y], dim=1))


class ConditionalDCGANDiscriminator(nn.Module):
    """DCGAN's D with the one-hot label broadcast as K extra input channels: (B, C, S, S), (B, K) -> (B,)."""

    def __init__(self, channels: int, num_classes: int, image_size: int, width: int) -> None:
        super().__init__()
        self.trunk = DCGANTrunk(channels + num_classes, image_size, width, norm="batch")
        self.head = LogitHead(self.trunk.out_dim)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        maps = y[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, S, S)
        return self.head(self.trunk(torch.cat([x, maps], dim=1)))  # (B, C + K, S, S) -> (B,)


class CGAN(AdversarialModel):
    """Conditional generator G(z, y), conditional discriminator D(x, y), and the GAN update with labels."""

    Config = CGANConfig
    cfg: CGANConfig
    conditional_code = "c1"

    def __init__(self, cfg: CGANConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__(cfg, image_shape)
        channels, size, _ = image_shape
        k = cfg.num_classes
        self.latent = LatentSpec.parse(cfg.noise, [f"cat:{k}"], noise_prior=cfg.noise_prior)
        self.G: ConditionalMLPGenerator | ConditionalDCGANGenerator
        self.D: ConditionalMLPDiscriminator | ConditionalDCGANDiscriminator
        if cfg.backbone == "mlp":
            self.G = ConditionalMLPGenerator(cfg.noise, k, image_shape, cfg.dropout)
            self.D = ConditionalMLPDiscriminator(image_shape, k, cfg.dropout)
        else:
            self.G = ConditionalDCGANGenerator(cfg.noise, k, channels, size, cfg.width)
            self.D = ConditionalDCGANDiscriminator(channels, k, size, cfg.width)
        self.d_loss_fn, self.g_loss_fn = ADVERSARIAL[cfg.adversarial]

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        # The paper trains with SGD and momentum (lr 0.1 decayed to 1e-6); we use DCGAN's Adam (see the preset).
        betas = (self.cfg.beta1, self.cfg.beta2)
        return {
            "d": adam(self.D.parameters(), lr=self.cfg.lr_d, betas=betas),
            "g": adam(self.G.parameters(), lr=self.cfg.lr_g, betas=betas),
        }

    def one_hot(self, y: Tensor) -> Tensor:
        """Class indices (B,) -> one-hot float (B, K), the form G and D take labels in."""
        return F.one_hot(y, self.cfg.num_classes).float()

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        x_real, y_real = batch["x"], self._labels(batch, step)
        opt_d, opt_g = self.optimizers["d"], self.optimizers["g"]
        # Fakes are made for labels drawn from the prior (uniform over classes), and D judges them under those.
        latent = self.latent.sample(x_real.shape[0], generator=self.rng, device=x_real.device)
        y_fake = self.one_hot(latent.c_cat[:, 0])
        x_fake = self.G(latent.z, y_fake)  # one G pass, reused by the D and G steps

        # D step: real images with their labels, fakes with theirs, through D separately (batch norm).
        d_real = self.D(self._augment(x_real), self.one_hot(y_real))
        d_fake = self.D(self._augment(x_fake.detach()), y_fake)
        d_loss = self.d_loss_fn(d_real, d_fake)
        self.update(opt_d, d_loss)

        # G step against the updated D; D is frozen so only G's parameters receive gradients.
        with frozen(self.D):
            g_loss = self.g_loss_fn(self.D(self._augment(x_fake), y_fake))
            self.update(opt_g, g_loss)

        logs = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": d_real.sigmoid().mean(),
            "d_fake": d_fake.sigmoid().mean(),
            # G's gradient norm in its step, as the GAN logs it (not under fp16's scaler: see GAN)
            **({} if self.grad_scaler is not None else {"g_grad": gradient_norm(self.G)}),
        }
        return {k: v.detach() for k, v in logs.items()}

    def _labels(self, batch: Batch, step: int) -> Tensor:
        if "y" not in batch:
            raise ConfigError(
                "the conditional GAN needs a labelled dataset; this training data has no labels y "
                "(use a dataset with labels such as mnist, fashion-mnist or digits, or the gan model)"
            )
        y = batch["y"]
        # Checked on the first step only: a check on every step would be a host-device sync in the hot loop.
        if step == 0 and int(y.max()) >= self.cfg.num_classes:
            raise ConfigError(
                f"the training data has label {int(y.max())} but the conditional GAN has num_classes "
                f"{self.cfg.num_classes}; set model.num_classes to the dataset's number of classes"
            )
        return y

    @torch.no_grad()
    def generate(self, latent: Latent) -> Tensor:
        with eval_mode(self.G):
            return self.G(latent.z, self.one_hot(latent.c_cat[:, 0]))
