"""scikit-learn's 1,797 handwritten digits, 8x8: tiny, bundled, for quick experiments and tests.

Split: a fixed class-balanced split holding out 30 images per class (300 test, 1,497 train).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from infogan.data.base import ImageSource, Split, stratified_split

TEST_PER_CLASS = 30


class Digits(ImageSource):
    name = "digits"
    description = "1,797 handwritten digits, 8x8, labelled (scikit-learn)"
    how_to_get = "installed with infogan (scikit-learn's load_digits)"
    channels = 1
    image_size = 8
    num_classes = 10

    def available(self, root: Path | None) -> bool:
        return True

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
        labels = torch.as_tensor(bunch.target, dtype=torch.long)
        idx = stratified_split(labels, split, TEST_PER_CLASS)
        return images[idx], labels[idx]


SOURCE = Digits()
