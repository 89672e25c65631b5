"""Dataset registry: name -> image source. Adding a dataset = one file + one line here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from infogan.config import DataConfig, DataSplit
from infogan.data import celeba, digits, dsprites, fashion_mnist, folder, mnist, mnist_sample, shapes, svhn
from infogan.data.base import ImageSource, ImageTensorDataset, Split, to_model_range
from infogan.errors import ConfigError, DataUnavailableError
from infogan.images import Images, LazyImages

DATASETS: dict[str, ImageSource] = {
    "mnist": mnist.SOURCE,
    "mnist-sample": mnist_sample.SOURCE,
    "fashion-mnist": fashion_mnist.SOURCE,
    "digits": digits.SOURCE,
    "shapes": shapes.SOURCE,
    "dsprites": dsprites.SOURCE,
    "svhn": svhn.SOURCE,
    "celeba": celeba.SOURCE,
}


class Parametrised(NamedTuple):
    """A family of sources named with an argument, "kind:ARG": factory(ARG, the data config) builds one."""

    factory: Callable[[str, DataConfig], ImageSource]
    description: str
    usage: str


PARAMETRISED: dict[str, Parametrised] = {
    "folder": Parametrised(folder.source_for, folder.DESCRIPTION, folder.USAGE),
}

__all__ = [
    "DATASETS",
    "PARAMETRISED",
    "DataSplit",
    "ImageSource",
    "ImageTensorDataset",
    "Split",
    "build",
    "image_shape",
    "resolve",
    "source",
]


def source(name: str, cfg: DataConfig | None = None) -> ImageSource:
    """The source called `name`, or a one-line error listing the known ones.

    A parametrised name ("kind:ARG") is built from its argument and `cfg` (channels, image size, ...).
    """
    kind, colon, arg = name.partition(":")
    if colon and kind in PARAMETRISED:
        if not arg:
            raise ConfigError(f"dataset '{name}' needs an argument after the colon, e.g. {kind}:PATH")
        return PARAMETRISED[kind].factory(arg, cfg if cfg is not None else DataConfig(name=name))
    if name not in DATASETS:
        known = [*DATASETS, *(f"{kind}:PATH" for kind in PARAMETRISED)]
        raise ConfigError(f"unknown dataset '{name}' (known: {', '.join(known)}; see `infogan datasets`)")
    return DATASETS[name]


def data_root(cfg: DataConfig) -> Path | None:
    """The data root a config names, or None."""
    return Path(cfg.root).expanduser() if cfg.root else None


def image_shape(cfg: DataConfig) -> tuple[int, int, int]:
    """(channels, height, width) of the images a model of `cfg` is built for: the configured values, else the
    dataset's own. Reads no data."""
    src = source(cfg.name, cfg)
    size = cfg.image_size or src.image_size
    return (cfg.channels or src.channels, size, size)


def resolve(cfg: DataConfig) -> tuple[DataConfig, str]:
    """Choose the dataset a run uses and fill in its image shape.

    `cfg.name` is used when its files are present (or, with `cfg.download`, can be downloaded); otherwise
    `cfg.fallback` if one is set. Returns the resolved config and one line saying what was chosen and why.
    """
    root = data_root(cfg)
    if root is not None and not root.exists():  # a mistyped path is never created, nor silently replaced
        raise ConfigError(f"data root {root} does not exist")
    src = source(cfg.name, cfg)
    failure: DataUnavailableError | None = None
    if not src.available(root) and cfg.download:
        try:
            src.load(root, "train", download=True)
        except DataUnavailableError as exc:
            failure = exc
    if not src.available(root):
        if failure is None:  # the source's own message: where it looked and how to get the files
            try:
                src.load(root, "train")
            except DataUnavailableError as exc:
                failure = exc
        if cfg.fallback is None:
            raise failure or DataUnavailableError(f"dataset {cfg.name} is not available: {src.how_to_get}")
        missing = f"{cfg.name} is not available" + (f" ({failure})" if failure else "")
        cfg = cfg.model_copy(update={"name": cfg.fallback, "fallback": None})
        src = source(cfg.name, cfg)
        if not src.available(data_root(cfg)):
            raise DataUnavailableError(f"{missing}, and neither is the fallback {cfg.name}: {src.how_to_get}")
        note = f"dataset: {cfg.name} - {src.description}; {missing}"
    else:
        note = f"dataset: {cfg.name} - {src.description}"
    if cfg.channels is not None and cfg.channels != src.channels:
        raise ConfigError(
            f"dataset {cfg.name} has {src.channels}-channel images; channels {cfg.channels} cannot be used with it"
        )
    cfg = cfg.model_copy(update={"channels": src.channels, "image_size": cfg.image_size or src.image_size})
    return cfg, note


def build(cfg: DataConfig, split: DataSplit) -> ImageTensorDataset:
    """Load one split of the dataset named by `cfg` as images in [-1, 1], resized to `cfg.image_size` if set:
    the training or test file, the validation images (the last `validation_size` of the training file) or
    both files together ("all")."""
    src = source(cfg.name, cfg)
    images, labels = _load(src, cfg, split)
    if isinstance(images, LazyImages):
        size = cfg.image_size or images.image_shape[-1]
        lazy = images.map(lambda x: to_model_range(x, cfg.image_size), (images.image_shape[0], size, size))
        return ImageTensorDataset(cfg.name, lazy, labels)
    return ImageTensorDataset(cfg.name, to_model_range(images, cfg.image_size), labels)


def _load(src: ImageSource, cfg: DataConfig, split: DataSplit) -> tuple[Images, Tensor | None]:
    """One split as the source gives it ([0, 1] images and labels), "val" and "all" assembled from its files."""
    root = data_root(cfg)
    if split in ("train", "test"):
        return src.load(root, split, download=cfg.download)
    if split == "val":
        if src.validation_size is None:
            raise ConfigError(f"dataset {cfg.name} has no validation split; evaluate on train, test or all")
        images, labels = src.load(root, "train", download=cfg.download)
        keep = slice(len(images) - src.validation_size, len(images))
        return images[keep], None if labels is None else labels[keep]
    parts = [src.load(root, part, download=cfg.download) for part in ("train", "test")]
    if any(isinstance(images, LazyImages) for images, _ in parts):
        raise ConfigError(
            f"dataset {cfg.name} is made when indexed and has no 'all' split; use train or test"
        )
    both_images = [part for part, _ in parts if isinstance(part, Tensor)]
    both_labels = [part for _, part in parts if part is not None]
    return torch.cat(both_images), torch.cat(both_labels) if len(both_labels) == len(parts) else None
