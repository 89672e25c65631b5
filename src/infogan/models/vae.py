"""The variational autoencoder (Kingma & Welling 2014, arXiv:1312.6114), with beta-VAE's KL weight (Higgins et al.
2017, ICLR): an encoder q(z|x) = N(mu(x), diag(sigma^2(x))), a decoder p(x|z) and a N(0, I) prior, trained by
maximising the ELBO with the reparameterisation trick.

loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))      (beta = 1: the negative ELBO)

Every latent dimension is a continuous code c1..cd with a N(0, 1) prior (no noise), so traversals, code semantics
and disentanglement metrics read a VAE exactly as they read InfoGAN.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from infogan.config_base import ModelConfig
from infogan.images import Images
from infogan.latent import Latent, LatentSpec
from infogan.losses.vae import (
    bernoulli_nll,
    gaussian_nll,
    kl_to_standard_normal,
    reparameterise,
)
from infogan.models.base import Batch, GenerativeModel, adam, eval_mode
from infogan.nets.dcgan import DCGANGenerator, DCGANTrunk
from infogan.nets.mlp import mlp

# Lower bound on the Gaussian decoder's learned log-sigma: a numerical guard, so that a near-perfect reconstruction
# cannot drive the NLL towards -inf (sigma-VAE, Rybkin et al. 2021, clamps the same way).
LOG_SIGMA_MIN = math.log(1e-3)


class VAEConfig(ModelConfig):
    """The VAE's hyperparameters.

    likelihood: "bernoulli" models the data mapped to [0, 1] with per-pixel logits (binary cross-entropy, grey
    levels allowed); "gaussian" models the data in [-1, 1] as N(mean, sigma^2 I) with one learned scalar sigma,
    so the reconstruction term's weight against the KL is fitted rather than guessed (sigma-VAE, arXiv:2006.13202).
    backbone: "mlp" (the paper's kind of network, any image size) or "dcgan" (a DCGAN encoder and decoder,
    28x28, 32x32 or 64x64 images only), named as in the GAN models' configs.
    """

    name: Literal["vae"] = "vae"
    latent_dim: int = Field(10, gt=0)
    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"
    beta: float = Field(1.0, ge=0)
    backbone: Literal["mlp", "dcgan"] = "mlp"
    # MLP backbone: hidden layer sizes of the encoder; the decoder mirrors them.
    hidden: list[Annotated[int, Field(gt=0)]] = Field(default_factory=lambda: [512, 256], min_length=1)
    # DCGAN backbone: channels of the encoder's first (and the decoder's last) convolution, and the encoder's
    # normalisation (the DCGAN decoder always uses batch norm).
    width: int = Field(32, gt=0)
    norm: Literal["none", "batch"] = "none"
    lr: float = Field(1e-3, gt=0)


class VAE(GenerativeModel):
    """Encoder to (mu, logvar), decoder from z to per-pixel logits (Bernoulli) or means (Gaussian)."""

    Config = VAEConfig
    cfg: VAEConfig
    # The seed of the single posterior sample per image in `held_out_metrics`, so the test ELBO is repeatable.
    HELDOUT_SEED = 0
    # Var_x(E_q[z_d | x]) above which latent dimension d counts as active (Burda et al. 2016's threshold).
    ACTIVE_UNIT_VARIANCE = 1e-2

    def __init__(self, cfg: VAEConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__(cfg, image_shape)
        self.latent = LatentSpec.parse(0, [f"normal:{cfg.latent_dim}"])
        self.encoder, self.decoder = _build_nets(cfg, image_shape)
        if cfg.likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.zeros(()))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": adam(self.parameters(), lr=self.cfg.lr)}

    @property
    def encodes_images(self) -> bool:
        return True

    @property
    def can_reconstruct(self) -> bool:
        return True  # the encoder reads every latent dimension: there is no noise it leaves out

    @property
    def has_held_out_metrics(self) -> bool:
        return True

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior parameters for images x (B, C, H, W) in [-1, 1]: mu and logvar, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def reconstruction_nll(self, decoded: Tensor, x: Tensor) -> Tensor:
        """-log p(x|z) per image (B,) for decoder outputs `decoded` and images x in [-1, 1]."""
        if self.cfg.likelihood == "bernoulli":
            return bernoulli_nll(decoded, (x + 1) / 2)
        return gaussian_nll(decoded, x, self.log_sigma.clamp(min=LOG_SIGMA_MIN))

    def _elbo_terms(self, x: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """Single-sample reconstruction NLL and analytic KL, each (B,), in nats, and the encoder means mu
        (B, latent_dim)."""
        mu, logvar = self.encode(x)
        z = reparameterise(mu, logvar, generator)
        return self.reconstruction_nll(self.decoder(z), x), kl_to_standard_normal(mu, logvar), mu

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        x_real = batch["x"]
        opt = self.optimizers["vae"]
        reconstruction, kl = (t.mean() for t in self._elbo_terms(x_real, self.rng)[:2])
        loss = reconstruction + self.cfg.beta * kl
        self.update(opt, loss)
        # The ELBO is reported with beta = 1 whatever beta trains with, so runs with different betas compare.
        logs = {"loss": loss, "elbo": -(reconstruction + kl), "reconstruction": reconstruction, "kl": kl}
        return {k: v.detach() for k, v in logs.items()}

    def _to_image(self, decoded: Tensor) -> Tensor:
        """The decoder's mean in [-1, 1]: sigmoid of the logits (Bernoulli), or the clamped mean (Gaussian)."""
        if self.cfg.likelihood == "bernoulli":
            return torch.sigmoid(decoded) * 2 - 1
        return decoded.clamp(-1, 1)

    @torch.no_grad()
    def generate(self, latent: Latent) -> Tensor:
        with eval_mode(self.decoder):
            return self._to_image(self.decoder(self.latent.to_input(latent)))

    @torch.no_grad()
    def infer_codes(self, x: Tensor) -> dict[str, dict[str, Tensor]]:
        """The encoder's q(z|x) for images x (B, C, H, W) in [-1, 1], in eval mode, one entry per latent dimension.

        Returns:
            ``{name: {"mean": (B,), "log_std": (B,)}}`` for c1..cd: the posterior mean and log sigma = logvar / 2.
        """
        with eval_mode(self.encoder):
            mu, logvar = self.encode(x)
        return {
            c.name: {"mean": mu[:, i], "log_std": logvar[:, i] / 2} for i, c in enumerate(self.latent.codes)
        }

    @torch.no_grad()
    def represent(self, x: Tensor) -> Tensor:
        """The encoder means mu (B, latent_dim) of images x (B, C, H, W) in [-1, 1], in eval mode."""
        with eval_mode(self.encoder):
            return self.encode(x)[0]

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Images (B, C, H, W) in [-1, 1] decoded from the encoder means of x, in eval mode."""
        with eval_mode(self.decoder):
            return self._to_image(self.decoder(self.represent(x)))

    @torch.no_grad()
    def held_out_metrics(self, data: Images, batch_size: int = 500) -> dict[str, float]:
        """Per-image averages over held-out images (N, C, H, W) in [-1, 1], in eval mode and nats: the ELBO, its
        reconstruction term (one posterior sample per image, drawn with the fixed seed `HELDOUT_SEED`) and its
        analytic KL (the ELBO uses beta = 1); and the number of active units, the latent dimensions whose encoder
        mean varies across the images by more than `ACTIVE_UNIT_VARIANCE` (Burda et al. 2016, arXiv:1509.00519,
        Sec. 5.2): a dimension below it carries no information about x, which a large beta makes common."""
        generator = torch.Generator(self.device).manual_seed(self.HELDOUT_SEED)
        totals = torch.zeros(2, dtype=torch.float64, device=self.device)
        mu_moments = torch.zeros(2, self.cfg.latent_dim, dtype=torch.float64, device=self.device)
        with eval_mode(self.encoder, self.decoder):
            for start in range(0, len(data), batch_size):
                x = data[start : start + batch_size].to(self.device)
                reconstruction, kl, mu = self._elbo_terms(x, generator)
                totals += torch.stack([reconstruction.sum(), kl.sum()]).double()
                mu_moments += torch.stack([mu.sum(0), (mu**2).sum(0)]).double()
        n = max(len(data), 1)
        reconstruction_mean, kl_mean = (totals / n).tolist()
        mu_mean, mu_square = mu_moments / n
        return {
            "elbo": -(reconstruction_mean + kl_mean),
            "reconstruction": reconstruction_mean,
            "kl": kl_mean,
            "active_units": int(self.active_dimensions(mu_square - mu_mean**2).sum()),
        }

    @classmethod
    def active_dimensions(cls, mu_variance: Tensor) -> Tensor:
        """Which latent dimensions are active (bool, (latent_dim,)), given the variance of each dimension's encoder
        mean over a set of images."""
        return mu_variance > cls.ACTIVE_UNIT_VARIANCE


def _build_nets(cfg: VAEConfig, image_shape: tuple[int, int, int]) -> tuple[nn.Module, nn.Module]:
    """Encoder (B, C, H, W) -> (B, 2 * latent_dim) [mu, logvar] and decoder (B, latent_dim) -> (B, C, H, W)
    logits or means (no output activation)."""
    channels, height, width = image_shape
    if cfg.backbone == "mlp":
        pixels = channels * height * width
        mlp_encoder = nn.Sequential(nn.Flatten(), mlp([pixels, *cfg.hidden, 2 * cfg.latent_dim]))
        mlp_decoder = nn.Sequential(
            mlp([cfg.latent_dim, *reversed(cfg.hidden), pixels]), nn.Unflatten(1, image_shape)
        )
        return mlp_encoder, mlp_decoder
    if height != width:
        raise ValueError(f"the dcgan backbone needs square images, got {height}x{width}")
    trunk = DCGANTrunk(channels, height, cfg.width, norm=cfg.norm)
    encoder = nn.Sequential(trunk, nn.Linear(trunk.out_dim, 2 * cfg.latent_dim))
    decoder = DCGANGenerator(cfg.latent_dim, channels, height, cfg.width)
    # The decoder outputs logits or unbounded means: drop the generator's final tanh.
    decoder.deconv[-1] = nn.Identity()
    return encoder, decoder
