"""The MNIST networks of InfoGAN's appendix (arXiv:1606.03657, Table 1).

G: FC1024-BN-ReLU, FC(7x7x128)-BN-ReLU, 4x4 up-conv 64 stride 2 BN ReLU, 4x4 up-conv C stride 2.
D: 4x4 conv 64 stride 2 lReLU, 4x4 conv 128 stride 2 BN lReLU, FC1024 BN lReLU, then the D head (FC 1) and
Q head (see heads.py). Widths are parameters so tests can run tiny copies; the defaults are the paper's.
"""

from __future__ import annotations

from torch import Tensor, nn


class MNISTGenerator(nn.Module):
    """Maps a latent vector (B, in_dim) to images (B, C, S, S) in [-1, 1].

    The paper does not name G's output activation (the official code uses a sigmoid on [0, 1] data); ours is tanh
    because every dataset here is scaled to [-1, 1].
    """

    def __init__(
        self, in_dim: int, channels: int = 1, image_size: int = 28, hidden: int = 1024, width: int = 64
    ) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(
                f"image size must be a multiple of 4 for two stride-2 up-convolutions, got {image_size}"
            )
        self.base = image_size // 4
        self.width = width
        self.fc = nn.Sequential(
            nn.Linear(in_dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * width * self.base**2, bias=False),
            nn.BatchNorm1d(2 * width * self.base**2),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, 2 * self.width, self.base, self.base)  # (B, 128, 7, 7)
        return self.deconv(h)  # (B, C, 28, 28)


class MNISTTrunk(nn.Module):
    """D's body shared with Q: images (B, C, S, S) -> features (B, hidden)."""

    def __init__(
        self, channels: int = 1, image_size: int = 28, hidden: int = 1024, width: int = 64, slope: float = 0.1
    ) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(
                f"image size must be a multiple of 4 for two stride-2 convolutions, got {image_size}"
            )
        base = image_size // 4
        self.out_dim = hidden
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(slope),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(slope),
            nn.Flatten(),  # (B, 128 * 7 * 7)
            nn.Linear(2 * width * base**2, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(slope),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
