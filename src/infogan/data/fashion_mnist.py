"""Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747): 60,000 train / 10,000 test clothing images, 28x28.

Read from IDX files; by default from Debian's package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from infogan.data.idx import IDXSource

DEBIAN_ROOT = Path("/usr/share/datasets/fashion-mnist")


class FashionMNIST(IDXSource):
    name = "fashion-mnist"
    description = "Fashion-MNIST, 60,000 train / 10,000 test clothing images, 28x28, labelled"
    how_to_get = (
        "apt-get install dataset-fashion-mnist (files land in /usr/share/datasets/fashion-mnist), "
        "or put the four IDX files in a folder and pass --data-root"
    )

    def candidate_folders(self, root: Path | None) -> Sequence[Path]:
        return [root, root / "FashionMNIST" / "raw"] if root is not None else [DEBIAN_ROOT]


SOURCE = FashionMNIST()
