"""Model registry: name -> class. Adding a model = one file + one line here."""

from __future__ import annotations

from infogan.config_base import ModelConfig
from infogan.models.base import Batch, GenerativeModel, LatentConfig
from infogan.models.cgan import CGAN, CGANConfig
from infogan.models.gan import GAN, GANConfig
from infogan.models.infogan import InfoGAN, InfoGANConfig
from infogan.models.infogan_cr import InfoGANCR, InfoGANCRConfig
from infogan.models.vae import VAE, VAEConfig
from infogan.models.wgan import WGAN, WGANConfig

MODELS: dict[str, type[GenerativeModel]] = {
    "infogan": InfoGAN,
    "infogan-cr": InfoGANCR,
    "gan": GAN,
    "cgan": CGAN,
    "vae": VAE,
    "wgan": WGAN,
}

__all__ = [
    "CGAN",
    "GAN",
    "MODELS",
    "VAE",
    "WGAN",
    "Batch",
    "CGANConfig",
    "GANConfig",
    "GenerativeModel",
    "InfoGAN",
    "InfoGANCR",
    "InfoGANCRConfig",
    "InfoGANConfig",
    "LatentConfig",
    "ModelConfig",
    "VAEConfig",
    "WGANConfig",
    "build_model",
]


def build_model(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> GenerativeModel:
    """Instantiate the registered model named by `cfg.name` for images of shape (C, H, W)."""
    return MODELS[cfg.name](cfg, image_shape)
