"""CelebA (Liu et al. 2015), aligned and cropped faces, at 32x32 RGB as in InfoGAN (arXiv:1606.03657, Sec. 5.3).

Read with Pillow from torchvision's layout: ``ROOT/celeba/img_align_celeba/*.jpg`` and
``ROOT/celeba/list_eval_partition.txt`` (lines ``000001.jpg 0``); ``ROOT`` itself may hold the two instead.
Split by the partition file: 0 -> train (162,770 images), 2 -> test (19,962); 1 (validation, 19,867) is not used,
so train and test are the official ones. Each 178x218 image is centre-cropped to 108x108 (the common DCGAN CelebA
crop, which keeps the face and drops most background; the InfoGAN paper does not state its crop) and resized to
32x32 with Pillow's antialiased bilinear filter. Unlabelled: the 40 attributes are not read.

Memory: images are decoded into a uint8 buffer and converted once; the full train split is ~2.0 GB as float32
(plus a transient copy when scaled to [-1, 1]). `limit` caps the images per split for smaller machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from infogan.data.base import LocalFilesSource, Split
from infogan.errors import DataUnavailableError

DEFAULT_ROOT = Path("~/.cache/infogan/data").expanduser()
PARTITIONS: dict[Split, int] = {"train": 0, "test": 2}
CROP = 108
SIZE = 32


def read_partition(path: Path) -> dict[str, int]:
    """File name -> partition (0 train, 1 validation, 2 test) from ``list_eval_partition.txt``."""
    out: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in {"0", "1", "2"}:
            raise DataUnavailableError(f"{path}, line {number}: expected '<file>.jpg <0|1|2>', got {line!r}")
        out[parts[0]] = int(parts[1])
    return out


def load_face(path: Path, crop: int = CROP, size: int = SIZE) -> np.ndarray:
    """One image, centre-cropped to crop x crop (or its short side if smaller) and resized: (3, size, size) uint8."""
    from PIL import Image

    try:
        with Image.open(path) as opened:
            rgb = opened.convert("RGB")
        w, h = rgb.size
        side = min(crop, w, h)
        left, top = (w - side) // 2, (h - side) // 2
        face = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(face, dtype=np.uint8).transpose(2, 0, 1)
    except OSError as exc:
        raise DataUnavailableError(f"cannot read CelebA image {path}: {exc}") from exc


class CelebA(LocalFilesSource):
    name = "celeba"
    description = "CelebA aligned faces, 162,770 train / 19,962 test, centre crop 108 resized to 32x32 RGB"
    how_to_get = (
        "download img_align_celeba.zip and list_eval_partition.txt (mmlab.ie.cuhk.edu.hk/projects/CelebA.html), "
        "unzip into DATA_ROOT/celeba/ so that DATA_ROOT/celeba/img_align_celeba/000001.jpg exists, "
        "and pass --data-root DATA_ROOT"
    )
    channels = 3
    image_size = SIZE

    expected_files = "img_align_celeba/ and list_eval_partition.txt"

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit

    def candidate_folders(self, root: Path | None) -> Sequence[Path]:
        base = root if root is not None else DEFAULT_ROOT
        return [base / "celeba", base]

    def has_files(self, folder: Path) -> bool:
        return (folder / "img_align_celeba").is_dir() and (folder / "list_eval_partition.txt").is_file()

    def fetch(self, root: Path | None) -> None:
        """No download: torchvision's CelebA download goes through Google Drive, which rate-limits and often
        fails; `locate` then reports the missing files with how to get them."""

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        folder = self.locate(root, download=download)
        wanted = PARTITIONS[split]
        names = sorted(
            n for n, p in read_partition(folder / "list_eval_partition.txt").items() if p == wanted
        )
        if self.limit is not None:
            names = names[: self.limit]
        images = np.empty((len(names), 3, SIZE, SIZE), dtype=np.uint8)  # (N, 3, 32, 32)
        for i, name in enumerate(names):
            path = folder / "img_align_celeba" / name
            if not path.is_file():
                raise DataUnavailableError(
                    f"dataset celeba: {path} is listed in list_eval_partition.txt but missing; {self.how_to_get}"
                )
            images[i] = load_face(path)
        return torch.from_numpy(images).float() / 255.0, None


SOURCE = CelebA()
