"""Shared fixtures: tiny configs that train in well under a second on a CPU."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
import torch

from infogan.config import RunConfig, load_preset

# Feature classifiers the tests train are cached here, never in the user's cache.
FEATURE_CACHE = tempfile.mkdtemp(prefix="infogan-test-features-")
atexit.register(shutil.rmtree, FEATURE_CACHE, ignore_errors=True)

# Small, fixed thread count: the suite's numbers must not depend on the machine's core count.
torch.set_num_threads(1)

TINY = [
    "data.name=digits",
    "model.latent.noise=4",
    "model.g_hidden=32",
    "model.d_hidden=32",
    "model.width=8",
    "model.q_hidden=16",
    "train.batch_size=16",
    "train.steps=6",
    "train.log_every=2",
    "train.sample_every=3",
    "train.checkpoint_every=3",
    "eval.mi_samples=64",
    "eval.batch_size=64",
    "eval.fid_samples=64",
    "eval.fidelity_samples=50",
    "eval.feature_steps=20",
    f"eval.feature_cache={FEATURE_CACHE}",
    "eval.semantics_draws=4",
    "eval.semantics_steps=3",
    "eval.factor_samples=200",
    "eval.factor_votes=10",
    "eval.dci_predictor=forest",
]


# Every registered model at a tiny size: (preset, overrides, image shape). Contract tests run over all of them;
# a model registered without an entry here fails `test_every_registered_model_has_a_tiny_config`.
TINY_MODELS: dict[str, tuple[str, list[str], tuple[int, int, int]]] = {
    "infogan": ("digits", TINY, (1, 8, 8)),
    "infogan-cr": (
        "dsprites-cr",
        [
            *TINY,
            "data.image_size=8",
            "model.backbone=paper",
            "model.latent.codes=[uniform:3]",
            "model.cr_start=0",
        ],
        (1, 8, 8),
    ),
    "gan": ("gan", ["model.latent.noise=4", "model.g_hidden=[16]", "model.d_hidden=[16]"], (1, 8, 8)),
    "cgan": ("cgan", ["model.noise=4", "model.backbone=dcgan", "model.width=4"], (1, 28, 28)),
    "wgan": ("wgan", ["model.latent.noise=4", "model.width=4", "model.n_critic=2"], (1, 28, 28)),
    "vae": ("vae", ["model.latent_dim=2", "model.hidden=[16]"], (1, 8, 8)),
}


# The developer's data root, read before the fixture below hides it from every test: tests of real datasets (full
# MNIST's files) look there and skip, saying so, when it does not hold them.
DATA_ROOT = os.environ.get("INFOGAN_DATA_ROOT")


@pytest.fixture(autouse=True)
def _no_data_root_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands read --data-root from INFOGAN_DATA_ROOT; a developer's setting must not reach the tests."""
    monkeypatch.delenv("INFOGAN_DATA_ROOT", raising=False)


@pytest.fixture
def no_mnist_in_the_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """MNIST's default cache folder, which is searched after any data root, is an empty folder."""
    monkeypatch.setattr("infogan.data.mnist.DEFAULT_ROOT", tmp_path_factory.mktemp("empty-cache"))


@pytest.fixture
def tiny_config() -> RunConfig:
    """InfoGAN on 8x8 digits with very narrow networks."""
    return load_preset("digits", TINY)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py loaded as a module in this process, for tests that call its functions or main()."""
    path = Path(__file__).parents[1] / "benchmarks" / f"{name}.py"
    if str(path.parent) not in sys.path:  # a script imports its siblings, as when it is run
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    sys.modules[name] = script  # dataclasses look their module up there
    spec.loader.exec_module(script)
    return script


def run_cli(*args: str, timeout: float = 120) -> CliResult:
    """Run the real `infogan` entry point in a new process (python -m infogan) and capture its output."""
    env = {k: v for k, v in os.environ.items() if k != "INFOGAN_DATA_ROOT"} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "infogan", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def invoke(*args: str) -> CliResult:
    """Run the `infogan` script's entry function in this process (the same code path, without the seconds a new
    Python process spends importing torch)."""
    from infogan.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with (
        mock.patch.object(sys, "argv", ["infogan", *args]),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    return CliResult(
        code if isinstance(code, int) else (0 if code is None else 1), out.getvalue(), err.getvalue()
    )
