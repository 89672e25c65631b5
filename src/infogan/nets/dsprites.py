"""The networks of InfoGAN-CR's dSprites code (Lin et al. 2020, `fjxmlzn/InfoGAN-CR`, `InfoGAN-CR_dSprites/gan/
network.py`), the disentanglement literature's InfoGAN on 64x64 sprites.

G: FC 128, ReLU, BN; FC 4x4x64, ReLU, BN; three stride-2 4x4 up-convolutions (64, 32, 32 channels) each with leaky
ReLU then BN; a fourth to the image channels. Their output is a sigmoid on [0, 1]; this one is a tanh on [-1, 1]
(tanh(a) = 2 sigmoid(2a) - 1: the same function, its input scaled by two).
D's trunk: four stride-2 4x4 convolutions (32, 32, 64, 64 channels) and FC 128, each followed by leaky ReLU (0.2),
every layer spectrally normalised and none batch-normalised. Its heads (D's logit, Q's FC 128 - leaky ReLU - FC) are
spectrally normalised too (`heads.py`, `spectral=True`).

With `unit_range`, the networks work on pixels in [0, 1] as the authors' do (nets/pixel_range.py), while the images
outside them stay in [-1, 1]; under spectral normalisation, halving the distances between images also halves how far
apart D can put their logits.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from infogan.nets.pixel_range import image_from_logits, network_input

SIZE = 64  # the networks are laid out for dSprites' 64x64 images


def _check_size(image_size: int) -> None:
    if image_size != SIZE:
        raise ValueError(f"the dsprites backbone is built for {SIZE}x{SIZE} images, got {image_size}")


class DSpritesGenerator(nn.Module):
    """Latent (B, in_dim) -> images (B, C, 64, 64) in [-1, 1]."""

    def __init__(
        self,
        in_dim: int,
        channels: int = 1,
        image_size: int = SIZE,
        slope: float = 0.2,
        unit_range: bool = False,
    ) -> None:
        super().__init__()
        _check_size(image_size)
        self.unit_range = unit_range
        self.fc = nn.Sequential(
            nn.Linear(in_dim, 128),
            nn.ReLU(),
            nn.BatchNorm1d(128),
            nn.Linear(128, 4 * 4 * 64),
            nn.ReLU(),
            nn.BatchNorm1d(4 * 4 * 64),
        )
        blocks: list[nn.Module] = []
        for ch_in, ch in ((64, 64), (64, 32), (32, 32)):
            blocks += [
                nn.ConvTranspose2d(ch_in, ch, 4, stride=2, padding=1),
                nn.LeakyReLU(slope),
                nn.BatchNorm2d(ch),
            ]
        blocks += [nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1)]
        self.up = nn.Sequential(*blocks)

    def forward(self, latent: Tensor) -> Tensor:
        logits = self.up(self.fc(latent).view(-1, 64, 4, 4))
        return image_from_logits(logits, self.unit_range)


class DSpritesTrunk(nn.Module):
    """Images (B, C, 64, 64) -> features (B, 128)."""

    def __init__(
        self, channels: int = 1, image_size: int = SIZE, slope: float = 0.2, unit_range: bool = False
    ) -> None:
        super().__init__()
        _check_size(image_size)
        self.unit_range = unit_range
        blocks: list[nn.Module] = []
        for ch_in, ch in ((channels, 32), (32, 32), (32, 64), (64, 64)):
            blocks += [spectral_norm(nn.Conv2d(ch_in, ch, 4, stride=2, padding=1)), nn.LeakyReLU(slope)]
        blocks += [nn.Flatten(), spectral_norm(nn.Linear(64 * 4 * 4, 128)), nn.LeakyReLU(slope)]
        self.net = nn.Sequential(*blocks)
        self.out_dim = 128

    def forward(self, x: Tensor) -> Tensor:
        return self.net(network_input(x, self.unit_range))
