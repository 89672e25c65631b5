"""Multilayer perceptrons for images: the original GAN's networks (Goodfellow et al. 2014, arXiv:1406.2661) and
building blocks for the conditional GAN and the VAE."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import Tensor, nn


def mlp(sizes: Sequence[int], *, slope: float = 0.0, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers between consecutive `sizes`, (leaky) ReLU and optional dropout between them, none after the
    last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope) if slope else nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """Latent (B, in_dim) -> images (B, C, H, W) in [-1, 1] through ReLU hidden layers and a tanh output."""

    def __init__(
        self, in_dim: int, image_shape: tuple[int, int, int], hidden: Sequence[int] = (256, 512)
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        c, h, w = image_shape
        self.net = nn.Sequential(mlp([in_dim, *hidden, c * h * w]), nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, *self.image_shape)


class MLPTrunk(nn.Module):
    """Images (B, C, H, W) -> features (B, hidden[-1]) through leaky-ReLU layers (with dropout, as the GAN paper's
    discriminator); heads (heads.py) sit on top."""

    def __init__(
        self, image_shape: tuple[int, int, int], hidden: Sequence[int] = (512, 256), dropout: float = 0.0
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.out_dim = hidden[-1]
        self.net = nn.Sequential(
            nn.Flatten(), mlp([c * h * w, *hidden], slope=0.2, dropout=dropout), nn.LeakyReLU(0.2)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Maxout(nn.Module):
    """A maxout layer (Goodfellow et al. 2013, arXiv:1302.4389): (B, in_dim) -> (B, units), each unit the max of
    `pieces` linear functions of the input."""

    def __init__(self, in_dim: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.fc = nn.Linear(in_dim, units * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(x).view(-1, self.units, self.pieces).amax(dim=-1)  # (B, units, pieces) -> (B, units)
