"""Sources stored as IDX files (LeCun's format, used by MNIST and Fashion-MNIST), gzipped or not."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from infogan.data.base import LocalFilesSource, Split
from infogan.errors import DataUnavailableError

_DTYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file into an array of its stored shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataUnavailableError(f"cannot read {path}: {exc}") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataUnavailableError(f"{path} is not an IDX file (bad header)")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.dtype(_DTYPES[data[2]]), offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataUnavailableError(f"{path} is truncated: header says {dims}, found {body.size} values")
    return body.reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


class IDXSource(LocalFilesSource):
    """A 28x28 grayscale labelled source whose four IDX files sit together in one folder."""

    channels = 1
    image_size = 28
    num_classes = 10
    # The last 10,000 training images, as in the split of deeplearning.net's mnist.pkl.gz (50,000 / 10,000).
    validation_size = 10_000

    expected_files = "IDX files"

    def has_files(self, folder: Path) -> bool:
        return all(_find(folder, stem) for pair in FILES.values() for stem in pair)

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        folder = self.locate(root, download=download)
        image_path, label_path = (_find(folder, stem) for stem in FILES[split])
        assert image_path is not None and label_path is not None
        images = torch.from_numpy(read_idx(image_path).copy()).float().unsqueeze(1) / 255.0  # (N, 1, 28, 28)
        labels = torch.from_numpy(read_idx(label_path).astype(np.int64))
        if images.shape[0] != labels.shape[0]:
            raise DataUnavailableError(
                f"dataset {self.name}: {image_path.name} has {images.shape[0]} images but "
                f"{label_path.name} has {labels.shape[0]} labels"
            )
        return images, labels
