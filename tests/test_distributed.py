"""Data-parallel training with torchrun on CPU (gloo): sharding, gradient averaging, rank 0 alone writing, faults
that stop every rank together, and resume. Each torchrun test has a timeout, so a hang fails instead of blocking."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
import yaml

from infogan.api import load_run
from infogan.errors import ConfigError
from infogan.training.checkpoint import list_checkpoints
from infogan.training.loop import BatchSchedule

from .conftest import TINY, invoke

WORKER = Path(__file__).with_name("ddp_worker.py")
SETS = [*TINY, "train.threads=1", "train.sample_every=1000000", "eval.metrics=[codes]"]
TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))


def set_args(sets: list[str]) -> list[str]:
    return [a for s in sets for a in ("--set", s)]


# the tiny digits config the data-parallel tests train unless they give another
DIGITS = ["--preset", "digits", *set_args(SETS)]


def torchrun_command(run_dir: Path, *args: str, procs: int = 2, setup: Sequence[str] = DIGITS) -> list[str]:
    """`infogan train` of `setup` (the tiny digits config) under torchrun, through the test worker."""
    return [
        TORCHRUN,
        f"--nproc-per-node={procs}",
        "--standalone",
        str(WORKER),
        "train",
        "--run-dir",
        str(run_dir),
        *setup,
        *args,
    ]


def torchrun(
    run_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    procs: int = 2,
    timeout: float = 180,
    setup: Sequence[str] = DIGITS,
) -> subprocess.CompletedProcess[str]:
    command = torchrun_command(run_dir, *args, procs=procs, setup=setup)
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=full_env, check=False)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in load_run(run_dir).model.state_dict().items()}


def test_ranks_share_each_global_batch_as_one_process_would():
    one = BatchSchedule(100, 8, seed=3, device=torch.device("cpu"))
    ranks = [BatchSchedule(100, 4, seed=3, device=torch.device("cpu"), rank=r, world=2) for r in range(2)]
    for step in (0, 5, 11, 12, 30):  # 12 steps per epoch: across epoch boundaries too
        assert torch.equal(one.indices(step), torch.cat([s.indices(step) for s in ranks]))
    with pytest.raises(ConfigError, match="global batch size 200"):
        BatchSchedule(100, 100, seed=0, device=torch.device("cpu"), rank=0, world=2)


def test_a_single_process_refuses_sync_bn_on_cpu(tmp_path):
    result = invoke(
        "train",
        "--preset",
        "digits",
        "--run-dir",
        str(tmp_path / "r"),
        *set_args([*SETS, "train.sync_bn=true"]),
    )
    assert result.returncode == 2
    assert "sync_bn needs CUDA" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun is not installed")
def test_two_ranks_train_one_run_written_by_rank_0(tmp_path):
    # four evaluation batches of 16, so that each rank generates two
    split_eval = ["eval.metrics=[codes,quality]", "eval.batch_size=16"]
    result = torchrun(tmp_path / "ddp", *set_args(split_eval))
    assert result.returncode == 0, result.stderr[-3000:]
    cfg = yaml.safe_load((tmp_path / "ddp" / "config.yaml").read_text())
    assert cfg["train"]["world_size"] == 2 and cfg["train"]["batch_size"] == 16
    assert result.stderr.count("run directory:") == 1  # rank 0 speaks for both
    assert "2 ranks x 16" in result.stderr
    lines = (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3  # steps 2, 4, 6, each once
    assert [p.name for p in list_checkpoints(tmp_path / "ddp" / "checkpoints")] == ["step-3", "step-6"]
    state = torch.load(tmp_path / "ddp" / "checkpoints" / "step-6" / "state.pt", weights_only=True)
    rngs = state["loop"]["rank_rngs"]
    assert len(rngs) == 2 and not torch.equal(rngs[0], rngs[1])  # each rank its own latents
    # The ranks split the evaluation's generated batches and rank 0 gets what one process computes from them.
    assert "generated samples split over 2 ranks" in result.stderr
    shared = json.loads((tmp_path / "ddp" / "eval.json").read_text())
    alone = invoke("eval", str(tmp_path / "ddp"), "--json")
    assert alone.returncode == 0, alone.stderr
    single = json.loads(alone.stdout)
    for key in ("fid", "kid", "precision", "recall"):
        assert shared[key] == pytest.approx(single[key], rel=1e-6, abs=1e-9), key
    for code in ("c1", "c2", "c3"):
        for key in ("mi_lower_bound", "mi_lower_bound_batch_stats"):
            assert shared["codes"][code][key] == pytest.approx(single["codes"][code][key], abs=1e-9)
    assert shared["codes"]["c1"]["accuracy"] == single["codes"]["c1"]["accuracy"]
    assert shared["features"]["n_fake"] == single["features"]["n_fake"] == 64
    # The checkpoint is an ordinary one: a single process loads it and can continue it (a note on the batch).
    resumed = invoke(
        "train",
        "--run-dir",
        str(tmp_path / "ddp"),
        "--resume",
        "--steps",
        "8",
        *set_args(SETS),
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (
        "written by 2 rank(s) and training continues on 1: the global batch is now 1 x 16" in resumed.stderr
    )


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun is not installed")
def test_gradient_averaging_keeps_a_single_process_s_maths(tmp_path):
    # Both ranks see the same images and latents: averaging their equal gradients must give exactly the single
    # process's update (a missing division by the world size, or mismatched buffers, would not).
    result = torchrun(tmp_path / "ddp", env={"INFOGAN_TEST_SAME_RANKS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    single = invoke(
        "train",
        "--preset",
        "digits",
        "--run-dir",
        str(tmp_path / "one"),
        *set_args(SETS),
    )
    assert single.returncode == 0, single.stderr
    a, b = weights(tmp_path / "ddp"), weights(tmp_path / "one")
    assert max(float((a[k].double() - b[k].double()).abs().max()) for k in a) < 1e-6


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun is not installed")
def test_two_ranks_of_batch_b_train_as_one_process_of_batch_2b(tmp_path):
    # Each rank its own share of the global batch and its own latents: without batch norm (the VAE's MLP), one
    # process of batch 2B whose shares draw as the ranks do must reach the same weights. (With batch norm that
    # needs SyncBatchNorm, which PyTorch has only for CUDA.)
    vae = ["data.name=digits", "model.latent_dim=2", "model.hidden=[16]", "train.threads=1", "train.steps=6"]
    setup = ["--preset", "vae", "--no-eval", "--seed", "3", *set_args(vae)]
    result = torchrun(tmp_path / "ddp", "--set", "train.batch_size=8", setup=setup)
    assert result.returncode == 0, result.stderr[-3000:]
    single = [sys.executable, str(WORKER), "train", "--run-dir", str(tmp_path / "one"), *setup]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "INFOGAN_TEST_AS_RANKS": "2", "INFOGAN_TEST_SEED": "3"}
    one = subprocess.run(
        [*single, "--set", "train.batch_size=16"], capture_output=True, text=True, timeout=180, env=env
    )
    assert one.returncode == 0, one.stderr[-3000:]
    a, b = weights(tmp_path / "ddp"), weights(tmp_path / "one")
    assert max(float((a[k].double() - b[k].double()).abs().max()) for k in a) < 1e-6


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun is not installed")
def test_a_nan_on_rank_1_stops_both_ranks_naming_rank_and_step(tmp_path):
    result = torchrun(
        tmp_path / "ddp", env={"INFOGAN_TEST_NAN_RANK": "1", "INFOGAN_TEST_NAN_STEP": "5"}, timeout=120
    )
    assert result.returncode != 0
    # Rank 1's real images were NaN: its D loss is the first to go. Its gradients, averaged into rank 0's, make
    # rank 0's G loss non-finite in the same step. Both stop at step 5 and say which ranks reported.
    assert "rank 1: loss d_loss" in result.stderr
    assert result.stderr.count("became non-finite at step 5 (ranks reporting non-finite values: ") == 2
    assert [p.name for p in list_checkpoints(tmp_path / "ddp" / "checkpoints")] == ["step-3"]


@pytest.mark.slow
@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun is not installed")
def test_sigterm_to_the_launcher_checkpoints_and_resume_continues_exactly(tmp_path):
    long = ["--steps", "400", "--checkpoint-every", "1000", "--log-every", "10"]
    whole = torchrun(tmp_path / "whole", *long, "--no-eval")
    assert whole.returncode == 0, whole.stderr[-3000:]
    command = torchrun_command(tmp_path / "cut", *long, "--no-eval")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert launcher.stderr is not None
    watchdog = threading.Timer(300, launcher.kill)  # a launcher that hangs ends the wait for its output
    watchdog.start()
    try:
        reached = any(line.startswith("step 50/") for line in launcher.stderr)
    finally:
        watchdog.cancel()
    assert reached, "the two-rank run never reached step 50"
    launcher.send_signal(signal.SIGTERM)
    launcher.communicate(timeout=120)
    checkpoints = list_checkpoints(tmp_path / "cut" / "checkpoints")
    assert checkpoints, "SIGTERM left no checkpoint"
    stopped = int(checkpoints[-1].name.removeprefix("step-"))
    assert 50 <= stopped < 400
    time.sleep(1)
    resumed = torchrun(tmp_path / "cut", *long, "--no-eval", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = weights(tmp_path / "whole"), weights(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_each_evaluation_batch_belongs_to_exactly_one_rank():
    from infogan.metrics.sharding import owns
    from infogan.world import World

    for size in (1, 2, 3):
        owners = [[r for r in range(size) if owns(World(rank=r, size=size), b)] for b in range(10)]
        assert all(len(o) == 1 for o in owners) and {o[0] for o in owners} == set(range(size))
