"""DCGAN backbones (Radford et al. 2015, arXiv:1511.06434) for 28x28, 32x32 and 64x64 images, shared by GAN,
conditional GAN, WGAN and InfoGAN.

G: FC to a (base x base x C0) map, then stride-2 4x4 up-convolutions halving the channels, batch norm and ReLU,
and a tanh output. D/critic trunk: stride-2 4x4 convolutions doubling the channels with leaky ReLU (no
normalisation on the first layer, as in the paper), flattened to features; heads (heads.py) sit on top. WGAN-GP's
critic must not use batch norm (the penalty is per sample), so the trunk's normalisation is a choice.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

Norm = Literal["batch", "layer", "none"]
# image size -> (size of the first feature map, number of stride-2 layers)
LAYOUTS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _layout(image_size: int) -> tuple[int, int]:
    if image_size not in LAYOUTS:
        raise ValueError(f"DCGAN backbones are built for image sizes {sorted(LAYOUTS)}, got {image_size}")
    return LAYOUTS[image_size]


def _norm2d(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # layer norm over (C, H, W), as WGAN-GP's paper suggests for critics
    return nn.Identity()


class DCGANGenerator(nn.Module):
    """Latent (B, in_dim) -> images (B, C, S, S) in [-1, 1], S in {28, 32, 64}."""

    def __init__(self, in_dim: int, channels: int = 1, image_size: int = 28, width: int = 64) -> None:
        super().__init__()
        self.base, layers = _layout(image_size)
        self.top = width * 2 ** (layers - 1)
        self.fc = nn.Sequential(
            nn.Linear(in_dim, self.top * self.base**2, bias=False),
            nn.BatchNorm1d(self.top * self.base**2),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        ch = self.top
        for _ in range(layers - 1):
            blocks += [
                nn.ConvTranspose2d(ch, ch // 2, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(),
            ]
            ch //= 2
        blocks += [nn.ConvTranspose2d(ch, channels, 4, stride=2, padding=1), nn.Tanh()]
        self.deconv = nn.Sequential(*blocks)

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, self.top, self.base, self.base)  # (B, C0, base, base)
        return self.deconv(h)  # (B, C, S, S)


class DCGANTrunk(nn.Module):
    """Images (B, C, S, S) -> features (B, out_dim): the body of D, a WGAN critic, or InfoGAN's shared D/Q."""

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 28,
        width: int = 64,
        norm: Norm = "batch",
        slope: float = 0.2,
    ) -> None:
        super().__init__()
        base, layers = _layout(image_size)
        blocks: list[nn.Module] = []
        ch_in, ch = channels, width
        for i in range(layers):
            blocks += [
                nn.Conv2d(ch_in, ch, 4, stride=2, padding=1, bias=i == 0 or norm == "none"),
                _norm2d("none" if i == 0 else norm, ch),
                nn.LeakyReLU(slope),
            ]
            ch_in, ch = ch, ch * 2
        blocks.append(nn.Flatten())  # (B, C_last * base * base)
        self.net = nn.Sequential(*blocks)
        self.out_dim = ch_in * base * base

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
