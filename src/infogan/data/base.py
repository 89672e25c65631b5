"""The dataset contract: images in [-1, 1] as float (C, H, W) tensors, an optional label, held in memory or, for
a dataset too large to hold (dSprites' 737,280 images), made when indexed (`LazyImages`)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from infogan.environment import DATA_ROOT_ENV
from infogan.errors import DataUnavailableError
from infogan.images import Images

# The files a source stores; `data.build` also assembles "val" and "all" (config.DataSplit) from them.
Split = Literal["train", "test"]


class ImageSource(ABC):
    """Where a dataset's images come from. One subclass per source, one instance in the registry.

    `load` returns images as float (N, C, H, W) in [0, 1] (a tensor, or `LazyImages` when too many to hold) and
    integer labels (N,) or None.
    """

    name: str
    description: str
    how_to_get: str
    channels: int
    image_size: int
    num_classes: int | None = None
    # The validation split: the last `validation_size` images of the training split (which training still reads:
    # no labels are used), or None for a dataset without one.
    validation_size: int | None = None

    @abstractmethod
    def available(self, root: Path | None) -> bool:
        """Whether the files are present (never downloads)."""

    @abstractmethod
    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Images, Tensor | None]:
        """Read one split. Raises `DataUnavailableError` with a how-to-get line when files are missing."""


class LocalFilesSource(ImageSource):
    """A source read from files that sit together in the first of several candidate folders.

    Subclasses say where to look (`candidate_folders`), what must be there (`has_files`, and `expected_files` for
    the message) and, if they can, how to download (`fetch`); `locate` finds the folder or raises one line saying
    what was looked for, where, and how to get it.
    """

    # The files the source needs, as the "not found" message names them, e.g. "IDX files".
    expected_files: str

    def candidate_folders(self, root: Path | None) -> Sequence[Path]:
        """Folders to look in under one data root (None: the source's own default places), in order."""
        return [root] if root is not None else []

    def search_folders(self, root: Path | None) -> list[Path]:
        """Every folder searched, in order: those under `root` (--data-root), then under the folder named by the
        environment variable INFOGAN_DATA_ROOT, then the source's default places (its cache)."""
        env = os.environ.get(DATA_ROOT_ENV)
        folders: list[Path] = []
        roots = [r for r in (root, Path(env).expanduser() if env else None) if r is not None]
        for base in [*roots, None]:
            folders += [f for f in self.candidate_folders(base) if f not in folders]
        return folders

    @abstractmethod
    def has_files(self, folder: Path) -> bool:
        """Whether `folder` holds every file the source reads."""

    def fetch(self, root: Path | None) -> None:
        """Download the files into `root` (or the source's default folder); sources that cannot download raise
        `DataUnavailableError`."""
        raise DataUnavailableError(f"dataset {self.name} cannot be downloaded; {self.how_to_get}")

    def folder(self, root: Path | None) -> Path | None:
        """The first candidate folder holding the files, or None."""
        return next((f for f in self.search_folders(root) if self.has_files(f)), None)

    def available(self, root: Path | None) -> bool:
        return self.folder(root) is not None

    def locate(self, root: Path | None, *, download: bool) -> Path:
        """The folder holding the files, downloading them first when allowed and missing."""
        folder = self.folder(root)
        if folder is None and download:
            self.fetch(root)
            folder = self.folder(root)
        if folder is None:
            looked = ", ".join(str(p) for p in self.search_folders(root)) or "nowhere (no --data-root given)"
            raise DataUnavailableError(
                f"dataset {self.name}: {self.expected_files} not found (looked in {looked}); {self.how_to_get}"
            )
        return folder


def download_failure(exc: BaseException) -> str:
    """One line for a failed download. torchvision names the file on the first line of its error and gives each
    mirror's error on the lines after ("Error downloading X:", "Tried M, got:", "<urlopen error ...>"), so a
    first line ending in a colon is followed by the last line, the last mirror's error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return f"{lines[0]} {lines[-1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


class ImageTensorDataset(Dataset[dict[str, Tensor]]):
    """A whole dataset held as one tensor (or made when indexed, `LazyImages`), batched by index.

    Attributes:
        images: (N, C, H, W) float in [-1, 1].
        labels: (N,) long, or None for unlabelled data.
    """

    def __init__(self, name: str, images: Images, labels: Tensor | None = None) -> None:
        if images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        self.name = name
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        item = {"x": self.images[index]}
        if self.labels is not None:
            item["y"] = self.labels[index]
        return item

    def batch(self, index: Tensor) -> dict[str, Tensor]:
        """Gather a batch by an index tensor on the data's device."""
        out = {"x": self.images[index]}
        if self.labels is not None:
            out["y"] = self.labels[index]
        return out

    def to(self, device: torch.device | str) -> ImageTensorDataset:
        labels = None if self.labels is None else self.labels.to(device)
        return ImageTensorDataset(self.name, self.images.to(device), labels)

    @property
    def shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)


def resize01(images01: Tensor, image_size: int | None) -> Tensor:
    """[0, 1] images resized (antialiased bilinear) to image_size x image_size; unchanged if None or that size."""
    if image_size is None or tuple(images01.shape[-2:]) == (image_size, image_size):
        return images01
    return F.interpolate(
        images01, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False
    ).clamp(0, 1)


def to_model_range(images01: Tensor, image_size: int | None = None) -> Tensor:
    """Map [0, 1] images to [-1, 1], resizing (antialiased bilinear) to image_size x image_size if given."""
    return resize01(images01, image_size) * 2 - 1


def stratified_split(labels: Tensor, split: Split, test_per_class: int, seed: int = 0) -> Tensor:
    """Indices of a fixed class-balanced split: `test_per_class` images of each class are held out.

    The split belongs to the dataset, not to a run, so the seed is fixed and every run evaluates on the same images.
    """
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in torch.unique(labels):
        idx = torch.nonzero(labels == cls).flatten()
        idx = idx[torch.randperm(idx.numel(), generator=g)]
        chosen.append(idx[:test_per_class] if split == "test" else idx[test_per_class:])
    out = torch.cat(chosen)
    return out[torch.randperm(out.numel(), generator=g)]
