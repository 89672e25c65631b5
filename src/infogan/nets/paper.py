"""The networks of InfoGAN's appendix (arXiv:1606.03657): MNIST (Table 1, also the 3D faces at 32x32, Table 4),
SVHN and CelebA (Tables 2-3) and 3D chairs (Table 6).

MNIST G: FC1024-BN-ReLU, FC(7x7x128)-BN-ReLU, 4x4 up-conv 64 stride 2 BN ReLU, 4x4 up-conv C stride 2.
MNIST D: 4x4 conv 64 stride 2 lReLU, 4x4 conv 128 stride 2 BN lReLU, FC1024 BN lReLU, then the D head (FC 1) and
Q head (see heads.py). Widths are parameters so tests can run tiny copies; the defaults are the paper's.
"""

from __future__ import annotations

from torch import Tensor, nn

from infogan.nets.pixel_range import image_from_logits, network_input

_COUNT = {2: "two", 3: "three", 4: "four"}


def _base(image_size: int, halvings: int, layers: str) -> int:
    """The side of the smallest feature map, image_size / 2**halvings; a ValueError if it is not a whole number."""
    factor = 2**halvings
    if image_size % factor:
        raise ValueError(
            f"image size must be a multiple of {factor} for {_COUNT[halvings]} stride-2 {layers}, got {image_size}"
        )
    return image_size // factor


def _strided_convs(channels: int, width: int, n: int, slope: float) -> list[nn.Module]:
    """The stem every appendix D starts with: n 4x4 stride-2 convolutions to width, 2 x width, 4 x width, ...
    channels, each followed by a leaky ReLU, with batch norm before it on all but the first."""
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(slope)]
    for i in range(1, n):
        c_in, c_out = width * 2 ** (i - 1), width * 2**i
        layers += [
            nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(slope),
        ]
    return layers


class MNISTGenerator(nn.Module):
    """Maps a latent vector (B, in_dim) to images (B, C, S, S) in [-1, 1].

    The paper does not name G's output activation; ours is tanh because every dataset here is scaled to [-1, 1].
    The official code draws Bernoulli means (a sigmoid) of [0, 1] data: `unit_range` (nets/pixel_range.py).
    """

    def __init__(
        self,
        in_dim: int,
        channels: int = 1,
        image_size: int = 28,
        hidden: int = 1024,
        width: int = 64,
        unit_range: bool = False,
    ) -> None:
        super().__init__()
        self.base = _base(image_size, 2, "up-convolutions")
        self.width = width
        self.unit_range = unit_range
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
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, 2 * self.width, self.base, self.base)  # (B, 2 * width, S/4, S/4)
        return image_from_logits(self.deconv(h), self.unit_range)  # (B, C, S, S)


class MNISTTrunk(nn.Module):
    """D's body shared with Q: images (B, C, S, S) -> features (B, hidden); with `unit_range` it reads the images
    on [0, 1], as the official code's D does."""

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 28,
        hidden: int = 1024,
        width: int = 64,
        slope: float = 0.1,
        unit_range: bool = False,
    ) -> None:
        super().__init__()
        base = _base(image_size, 2, "convolutions")
        self.out_dim = hidden
        self.unit_range = unit_range
        self.net = nn.Sequential(
            *_strided_convs(channels, width, 2, slope),
            nn.Flatten(),  # (B, 2 * width * (S/4)^2)
            nn.Linear(2 * width * base**2, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(slope),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(network_input(x, self.unit_range))


# --- SVHN and CelebA (Tables 2 and 3 of the appendix: the same networks for both) ----------------------------------
class SVHNGenerator(nn.Module):
    """Latent (B, in_dim) -> images (B, C, S, S) in [-1, 1], S = 16 * base (32 for SVHN and CelebA).

    FC(2x2x448)-BN-ReLU, 4x4 up-conv 256 stride 2 BN ReLU, up-conv 128 stride 2 ReLU, up-conv 64 stride 2 ReLU,
    up-conv C stride 2 tanh: the paper puts batch norm on the first two layers only, and so do we.
    """

    def __init__(
        self, in_dim: int, channels: int = 3, image_size: int = 32, fc_channels: int = 448, width: int = 64
    ) -> None:
        super().__init__()
        self.base = _base(image_size, 4, "up-convolutions")
        self.fc_channels = fc_channels
        self.fc = nn.Sequential(
            nn.Linear(in_dim, fc_channels * self.base**2, bias=False),
            nn.BatchNorm1d(fc_channels * self.base**2),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(fc_channels, 4 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(4 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, self.fc_channels, self.base, self.base)  # (B, fc_channels, S/16, S/16)
        return self.deconv(h)  # (B, C, S, S)


class SVHNTrunk(nn.Module):
    """D's body shared with Q: images (B, C, S, S) -> features (B, 4 * width * (S / 8)^2), 4096 at 32x32.

    Three 4x4 stride-2 convolutions (64 lReLU, 128 BN lReLU, 256 BN lReLU), flattened. The paper's D then has a
    single "FC" output layer (our LogitHead) and Q "FC128-BN-lReLU-FC" (our QHead), both on these features.
    """

    def __init__(self, channels: int = 3, image_size: int = 32, width: int = 64, slope: float = 0.1) -> None:
        super().__init__()
        self.out_dim = 4 * width * _base(image_size, 3, "convolutions") ** 2
        self.net = nn.Sequential(
            *_strided_convs(channels, width, 3, slope),
            nn.Flatten(),  # (B, 4 * width * (S/8)^2)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


# --- 3D chairs (Table 6 of the appendix) ---------------------------------------------------------------------------
def _same_conv(ch_in: int, ch_out: int) -> nn.Sequential:
    """A 4x4 stride-1 convolution keeping the spatial size, padded like TensorFlow's "SAME" (1 before, 2 after).

    Used for the paper's stride-1 "up-conv" layers too: a stride-1 transposed convolution is a convolution (with
    the kernel flipped), and PyTorch's ConvTranspose2d cannot keep the size with an even kernel.
    """
    return nn.Sequential(nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(ch_in, ch_out, 4, bias=False))


class ChairsGenerator(nn.Module):
    """Latent (B, in_dim) -> images (B, C, S, S) in [-1, 1], S = 8 * base (64 for the chairs).

    FC1024-BN-ReLU, FC(8x8x256)-BN-ReLU, two 4x4 stride-1 up-convs 256 BN ReLU, 4x4 up-conv 128 stride 2 BN ReLU,
    4x4 up-conv 64 stride 2 BN ReLU, 4x4 up-conv C stride 2. The paper's output is a sigmoid on [0, 1] data; ours is
    tanh because every dataset here is scaled to [-1, 1] (the same function up to an affine map).
    """

    def __init__(
        self, in_dim: int, channels: int = 1, image_size: int = 64, hidden: int = 1024, width: int = 64
    ) -> None:
        super().__init__()
        self.base = _base(image_size, 3, "up-convolutions")
        self.top = 4 * width
        self.fc = nn.Sequential(
            nn.Linear(in_dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, self.top * self.base**2, bias=False),
            nn.BatchNorm1d(self.top * self.base**2),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            _same_conv(self.top, self.top),
            nn.BatchNorm2d(self.top),
            nn.ReLU(),
            _same_conv(self.top, self.top),
            nn.BatchNorm2d(self.top),
            nn.ReLU(),
            nn.ConvTranspose2d(self.top, 2 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).view(-1, self.top, self.base, self.base)  # (B, top, S/8, S/8)
        return self.deconv(h)  # (B, C, S, S)


class ChairsTrunk(nn.Module):
    """D's body shared with Q: images (B, C, S, S) -> features (B, hidden).

    4x4 convs: 64 stride 2 lReLU, 128 stride 2 BN lReLU, 256 stride 2 BN lReLU, 256 stride 1 BN lReLU (twice),
    then FC1024-BN-lReLU; the D and Q heads sit on the 1024 features.
    """

    def __init__(
        self, channels: int = 1, image_size: int = 64, hidden: int = 1024, width: int = 64, slope: float = 0.1
    ) -> None:
        super().__init__()
        base = _base(image_size, 3, "convolutions")
        self.out_dim = hidden
        self.net = nn.Sequential(
            *_strided_convs(channels, width, 3, slope),
            _same_conv(4 * width, 4 * width),
            nn.BatchNorm2d(4 * width),
            nn.LeakyReLU(slope),
            _same_conv(4 * width, 4 * width),
            nn.BatchNorm2d(4 * width),
            nn.LeakyReLU(slope),
            nn.Flatten(),  # (B, 4 * width * (S/8)^2)
            nn.Linear(4 * width * base**2, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(slope),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
