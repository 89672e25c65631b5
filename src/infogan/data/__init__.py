"""Dataset registry: name -> image source. Adding a dataset = one file + one line here."""

from __future__ import annotations

from pathlib import Path

from infogan.config import DataConfig
from infogan.data import digits, fashion_mnist, mnist, mnist_sample, shapes
from infogan.data.base import ImageSource, ImageTensorDataset, Split, to_model_range
from infogan.errors import ConfigError, DataUnavailableError

DATASETS: dict[str, ImageSource] = {
    "mnist": mnist.SOURCE,
    "mnist-sample": mnist_sample.SOURCE,
    "fashion-mnist": fashion_mnist.SOURCE,
    "digits": digits.SOURCE,
    "shapes": shapes.SOURCE,
}

__all__ = ["DATASETS", "ImageSource", "ImageTensorDataset", "Split", "build", "resolve", "source"]


def source(name: str) -> ImageSource:
    """The registered source called `name`, or a one-line error listing the known ones."""
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset '{name}' (known: {', '.join(DATASETS)}; see `infogan datasets`)")
    return DATASETS[name]


def _root(cfg: DataConfig) -> Path | None:
    return Path(cfg.root).expanduser() if cfg.root else None


def resolve(cfg: DataConfig) -> tuple[DataConfig, str]:
    """Choose the dataset a run uses and fill in its image shape.

    `cfg.name` is used when its files are present (or, with `cfg.download`, can be downloaded); otherwise
    `cfg.fallback` if one is set. Returns the resolved config and one line saying what was chosen and why.
    """
    src = source(cfg.name)
    root = _root(cfg)
    reason = ""
    if not src.available(root) and cfg.download:
        try:
            src.load(root, "train", download=True)
        except DataUnavailableError as exc:
            reason = f" ({exc})"
    if not src.available(root):
        if cfg.fallback is None:
            src.load(root, "train")  # raises the source's own message saying where it looked and what to do
        missing = f"{cfg.name} is not available{reason or f' ({src.how_to_get})'}"
        cfg = cfg.model_copy(update={"name": cfg.fallback, "fallback": None})
        src = source(cfg.name)
        if not src.available(_root(cfg)):
            raise DataUnavailableError(f"{missing}, and neither is the fallback {cfg.name}: {src.how_to_get}")
        note = f"dataset: {cfg.name} - {src.description}; {missing}"
    else:
        note = f"dataset: {cfg.name} - {src.description}"
    cfg = cfg.model_copy(update={"channels": src.channels, "image_size": cfg.image_size or src.image_size})
    return cfg, note


def build(cfg: DataConfig, split: Split) -> ImageTensorDataset:
    """Load one split of the dataset named by `cfg` as images in [-1, 1], resized to `cfg.image_size` if set."""
    src = source(cfg.name)
    images, labels = src.load(_root(cfg), split, download=cfg.download)
    return ImageTensorDataset(cfg.name, to_model_range(images, cfg.image_size), labels)
