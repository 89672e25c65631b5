"""infogan: interpretable generative models — InfoGAN (arXiv:1606.03657) and the family it builds on.

Quick start::

    from infogan import load_preset, train, load_run
    cfg = load_preset("mnist", ["train.steps=200"])
    run = train(cfg, "runs/try")
    images = load_run("runs/try").sample(16, codes={"c1": 3})

Layout, top to bottom (DESIGN.md, "Layout"): a module imports only from its own layer or the ones below, with no
cycle; pyproject.toml's import-linter contracts state it and .ci/run checks it. ``a | b``: siblings that do not
import each other; ``a : b``: siblings of which one imports the other.

    cli                     one Typer file per command (``__main__``, the script, sits above it)
    api | explore | export  the Python facade (the names above); the web explorer; exporting a generator
    experiments             multi-run work: sweep, the MI experiment, model selection
    reporting               the HTML report, the compare table and its page
    runs : evaluation       a run on disk (directory and resume rules, the loaded Run, training and averaging
                            one, what a report reads of it); running an evaluation and its eval.json record
    viz | training          figures; the generic Trainer, checkpoints, precision, data-parallel ranks
    metrics | data          pure metric functions; the datasets
    config                  the run config, presets and ``--set`` overrides
    models                  GenerativeModel and the family, each owning its train_step
    latent : nets : losses  the latent spec; network modules; pure losses
    config_base | environment | errors | files | images | machine | metric_groups | progress | version | world:
                            import nothing of infogan
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
