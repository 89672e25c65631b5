"""Model registry: name -> class. Adding a model = one file + one line here."""

from __future__ import annotations

from infogan.models.base import Batch, GenerativeModel, LatentConfig, ModelConfig
from infogan.models.infogan import InfoGAN, InfoGANConfig

MODELS: dict[str, type[GenerativeModel]] = {
    "infogan": InfoGAN,
}

__all__ = [
    "MODELS",
    "Batch",
    "GenerativeModel",
    "InfoGAN",
    "InfoGANConfig",
    "LatentConfig",
    "ModelConfig",
    "build_model",
]


def build_model(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> GenerativeModel:
    """Instantiate the registered model named by `cfg.name` for images of shape (C, H, W)."""
    return MODELS[cfg.name](cfg, image_shape)
