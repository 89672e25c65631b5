"""Full MNIST (LeCun et al. 1998): 60,000 train / 10,000 test digits, 28x28, from IDX files.

Looked for in ``ROOT/MNIST/raw`` (torchvision's layout) or directly in ``ROOT``, then in the default cache
``~/.cache/infogan/data/MNIST/raw``. Downloaded with torchvision (into ROOT, or the cache without one) when allowed
and the machine has internet.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

from infogan.data.base import download_failure
from infogan.data.idx import IDXSource
from infogan.errors import DataUnavailableError

DEFAULT_ROOT = Path("~/.cache/infogan/data").expanduser()


class MNIST(IDXSource):
    name = "mnist"
    description = "full MNIST, 60,000 train / 10,000 test digits, 28x28, labelled"
    how_to_get = (
        "put the four IDX files (train-images-idx3-ubyte.gz, ...) in DATA_ROOT/MNIST/raw and pass "
        "--data-root DATA_ROOT, or allow the download on a machine with internet"
    )

    def candidate_folders(self, root: Path | None) -> Sequence[Path]:
        return [root / "MNIST" / "raw", root] if root is not None else [DEFAULT_ROOT / "MNIST" / "raw"]

    def fetch(self, root: Path | None) -> None:
        from torchvision.datasets import MNIST as TorchvisionMNIST

        root = root or DEFAULT_ROOT
        # torchvision prints every mirror it tries; keep that out of our output and report one line instead.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                TorchvisionMNIST(str(root), train=True, download=True)
            except Exception as exc:  # network failures come in many types; each means "not downloaded"
                raise DataUnavailableError(
                    f"dataset mnist: download into {root} failed: {download_failure(exc)}"
                ) from exc


SOURCE = MNIST()
