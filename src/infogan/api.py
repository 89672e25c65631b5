"""The Python API: train a run, load it back, sample, traverse and evaluate — the same steps the CLI takes.

A facade over runs/, where each name is defined (`runs.loaded`: Run, load, load_run, average; `runs.train`:
train), so that the experiments, the explorer and export, which sit below or beside this module, import them from
there.
"""

from __future__ import annotations

from infogan.runs.loaded import Run, average, load, load_run
from infogan.runs.train import train

__all__ = ["Run", "average", "load", "load_run", "train"]
