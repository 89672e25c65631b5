"""SVHN (Netzer et al. 2011): 73,257 train / 26,032 test house-number digits, 32x32 RGB, labelled 0-9.

Read from the cropped-digits files ``train_32x32.mat`` and ``test_32x32.mat`` (MATLAB v5: ``X`` of shape
(32, 32, 3, N) uint8, ``y`` of shape (N, 1) with the digit 0 stored as 10) with scipy, in ``ROOT``, ``ROOT/svhn``
or ``ROOT/SVHN``; without a root, in ``~/.cache/infogan/data/svhn``. Labels follow torchvision: 10 -> 0.
torchvision's reader is not used to load because it insists on the files' MD5 sums; it downloads them when allowed
and the machine has internet. The 'extra' split (531,131 digits) is not used, as in the InfoGAN paper's figures.
The train split is ~0.9 GB as float32 in memory.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from infogan.data.base import LocalFilesSource, Split, download_failure
from infogan.errors import DataUnavailableError

DEFAULT_ROOT = Path("~/.cache/infogan/data/svhn").expanduser()
FILES: dict[Split, str] = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


def read_svhn_mat(path: Path) -> tuple[Tensor, Tensor]:
    """Read one SVHN ``*_32x32.mat`` file.

    Returns:
        Images (N, 3, 32, 32) float in [0, 1] and labels (N,) long in 0..9 (the file's 10 for the digit 0 -> 0).
    """
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except (OSError, ValueError, NotImplementedError) as exc:
        raise DataUnavailableError(f"cannot read {path} as an SVHN .mat file: {exc}") from exc
    if "X" not in mat or "y" not in mat:
        raise DataUnavailableError(f"{path} is not an SVHN .mat file (expected variables X and y)")
    x, y = mat["X"], mat["y"]
    if x.ndim != 4 or x.shape[2] != 3 or y.size != x.shape[3]:
        raise DataUnavailableError(
            f"{path}: expected X of shape (32, 32, 3, N) and y of N labels, got {x.shape} and {y.shape}"
        )
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 2, 0, 1))).float() / 255.0  # (N, 3, H, W)
    labels = torch.from_numpy(y.reshape(-1).astype(np.int64) % 10)
    return images, labels


class SVHN(LocalFilesSource):
    name = "svhn"
    description = "SVHN cropped digits, 73,257 train / 26,032 test, 32x32 RGB, labelled"
    how_to_get = (
        "download train_32x32.mat and test_32x32.mat from http://ufldl.stanford.edu/housenumbers/ into DATA_ROOT "
        "and pass --data-root DATA_ROOT, or allow the download (data.download=true) on a machine with internet"
    )
    channels = 3
    image_size = 32
    num_classes = 10
    expected_files = " and ".join(FILES.values())

    def candidate_folders(self, root: Path | None) -> Sequence[Path]:
        return [root, root / "svhn", root / "SVHN"] if root is not None else [DEFAULT_ROOT]

    def has_files(self, folder: Path) -> bool:
        return all((folder / name).is_file() for name in FILES.values())

    def fetch(self, root: Path | None) -> None:
        """Download both splits with torchvision into `root` (or the default folder)."""
        from torchvision.datasets import SVHN as TorchvisionSVHN

        root = root or DEFAULT_ROOT
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                for split in FILES:
                    TorchvisionSVHN(str(root), split=split, download=True)
            except Exception as exc:  # network failures come in many types; each means "not downloaded"
                raise DataUnavailableError(
                    f"dataset svhn: download into {root} failed: {download_failure(exc)}"
                ) from exc

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        folder = self.locate(root, download=download)
        return read_svhn_mat(folder / FILES[split])


SOURCE = SVHN()
