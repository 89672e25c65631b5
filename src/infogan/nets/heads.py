"""Heads on a shared discriminator trunk: D's real/fake logit and InfoGAN's Q (arXiv:1606.03657, Table 1)."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


class QHead(nn.Module):
    """FC(hidden)-BN-lReLU-FC(out_dim): the parameters of Q(c | x), read by `LatentSpec.posterior`. With
    `spectral`, both layers are spectrally normalised and there is no batch norm (InfoGAN-CR's Q)."""

    def __init__(
        self, in_dim: int, out_dim: int, hidden: int = 128, slope: float = 0.1, spectral: bool = False
    ) -> None:
        super().__init__()
        if spectral:
            self.net = nn.Sequential(
                spectral_norm(nn.Linear(in_dim, hidden)),
                nn.LeakyReLU(slope),
                spectral_norm(nn.Linear(hidden, out_dim)),
            )
            return
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(slope),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h)


class LogitHead(nn.Module):
    """A linear real/fake logit: (B, in_dim) -> (B,), spectrally normalised with `spectral`. No sigmoid: losses
    take logits."""

    def __init__(self, in_dim: int, spectral: bool = False) -> None:
        super().__init__()
        self.fc = spectral_norm(nn.Linear(in_dim, 1)) if spectral else nn.Linear(in_dim, 1)

    def forward(self, h: Tensor) -> Tensor:
        return self.fc(h).squeeze(1)
