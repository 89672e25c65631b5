"""Backbones by name: the generator and the discriminator trunk each model builds for its `backbone` setting.

A model config carries the settings its backbones read (hidden sizes, width, leaky slope, critic normalisation,
dropout); settings a model does not have take the networks' own defaults. Adding a backbone = its builders + one
line in `BACKBONES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from torch import nn

from infogan.nets.dcgan import DCGANGenerator, DCGANTrunk
from infogan.nets.dsprites import DSpritesGenerator, DSpritesTrunk
from infogan.nets.mlp import MLPGenerator, MLPTrunk
from infogan.nets.paper import (
    ChairsGenerator,
    ChairsTrunk,
    MNISTGenerator,
    MNISTTrunk,
    SVHNGenerator,
    SVHNTrunk,
)

Shape = tuple[int, int, int]  # (C, H, W)


class Backbone(NamedTuple):
    """generator(latent_dim, image_shape, cfg) -> G; trunk(image_shape, cfg) -> D's body with an `out_dim`;
    `spectral_heads`: whether the heads on the trunk are spectrally normalised, as the trunk is."""

    generator: Callable[[int, Shape, Any], nn.Module]
    trunk: Callable[[Shape, Any], nn.Module]
    spectral_heads: bool = False


def _slope(cfg: Any, default: float) -> float:
    return float(getattr(cfg, "leaky_slope", default))


def _unit_range(cfg: Any) -> bool:
    return bool(getattr(cfg, "unit_range", False))


BACKBONES: dict[str, Backbone] = {
    # InfoGAN's appendix networks (nets/paper.py): MNIST's Table 1, SVHN/CelebA's Tables 2-3, 3D chairs' Table 6
    "paper": Backbone(
        lambda dim, s, cfg: MNISTGenerator(dim, s[0], s[1], cfg.g_hidden, cfg.width, _unit_range(cfg)),
        lambda s, cfg: MNISTTrunk(s[0], s[1], cfg.d_hidden, cfg.width, _slope(cfg, 0.1), _unit_range(cfg)),
    ),
    "svhn": Backbone(
        lambda dim, s, cfg: SVHNGenerator(dim, s[0], s[1], cfg.g_hidden, cfg.width),
        lambda s, cfg: SVHNTrunk(s[0], s[1], cfg.width, _slope(cfg, 0.1)),
    ),
    "chairs": Backbone(
        lambda dim, s, cfg: ChairsGenerator(dim, s[0], s[1], cfg.g_hidden, cfg.width),
        lambda s, cfg: ChairsTrunk(s[0], s[1], cfg.d_hidden, cfg.width, _slope(cfg, 0.1)),
    ),
    "dcgan": Backbone(
        lambda dim, s, cfg: DCGANGenerator(dim, s[0], s[1], cfg.width),
        lambda s, cfg: DCGANTrunk(
            s[0], s[1], cfg.width, getattr(cfg, "critic_norm", "batch"), _slope(cfg, 0.2)
        ),
    ),
    # InfoGAN-CR's dSprites networks (nets/dsprites.py): 64x64, spectral norm in D and its heads
    "dsprites": Backbone(
        lambda dim, s, cfg: DSpritesGenerator(dim, s[0], s[1], _slope(cfg, 0.2), _unit_range(cfg)),
        lambda s, cfg: DSpritesTrunk(s[0], s[1], _slope(cfg, 0.2), _unit_range(cfg)),
        spectral_heads=True,
    ),
    "mlp": Backbone(
        lambda dim, s, cfg: MLPGenerator(dim, s, cfg.g_hidden),
        lambda s, cfg: MLPTrunk(s, cfg.d_hidden, getattr(cfg, "dropout", 0.0)),
    ),
}


class Networks(NamedTuple):
    """A backbone built: the generator, D's trunk, and the size of the trunk's features (B, features)."""

    G: nn.Module
    trunk: nn.Module
    features: int
    spectral_heads: bool = False


def build_backbone(name: str, latent_dim: int, image_shape: Shape, cfg: Any) -> Networks:
    """G and D's trunk of the backbone called `name`, configured from the model config `cfg`."""
    backbone = BACKBONES[name]
    # G first: initialisation draws from the global generator, so the order fixes every weight
    generator = backbone.generator(latent_dim, image_shape, cfg)
    trunk = backbone.trunk(image_shape, cfg)
    features: int = getattr(trunk, "out_dim")  # every trunk states the size of its features  # noqa: B009
    return Networks(generator, trunk, features, backbone.spectral_heads)
