"""infogan: interpretable generative models — InfoGAN (arXiv:1606.03657) and the family it builds on.

Quick start::

    from infogan import load_preset, train, load_run
    cfg = load_preset("mnist", ["train.steps=200"])
    run = train(cfg, "runs/try")
    images = load_run("runs/try").sample(16, codes={"c1": 3})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from infogan.errors import InfoganError
from infogan.version import __version__ as __version__

if TYPE_CHECKING:
    from infogan.api import Run, average, load, load_run, train
    from infogan.config import RunConfig, load_preset, preset_names
    from infogan.latent import LatentSpec

__all__ = [
    "InfoganError",
    "LatentSpec",
    "Run",
    "RunConfig",
    "average",
    "load",
    "load_preset",
    "load_run",
    "preset_names",
    "train",
]

# Imported on first use, so `import infogan.cli` and small scripts do not pay for torch, torchvision and
# TensorBoard before they need them.
_LAZY = {
    "Run": "infogan.api",
    "average": "infogan.api",
    "load": "infogan.api",
    "load_run": "infogan.api",
    "train": "infogan.api",
    "RunConfig": "infogan.config",
    "load_preset": "infogan.config",
    "preset_names": "infogan.config",
    "LatentSpec": "infogan.latent",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'infogan' has no attribute {name!r}")
