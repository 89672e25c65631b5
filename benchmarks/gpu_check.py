"""The first run on a machine with CUDA: the CUDA-only tests, the main job in fp32 and in bf16 (images/s, c1's
accuracy on the validation digits, wall time), and `torchrun` on every GPU for 500 updates with NCCL. Prints one
JSON line per part as it finishes; exits 1 if a part failed. On one H100-class GPU it should finish within 8 minutes.

`--dry-run` runs the same parts, through the same commands, on the CPU at toy sizes (the 8x8 `digits` preset, a
few updates, torchrun with two gloo processes), so that the script is known to work before a GPU is at hand.

Usage: python benchmarks/gpu_check.py --data-root DIR [--out runs/gpu-check] [--steps 5000] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setup:
    """What each part runs: the device, the training command's dataset options, and the sizes."""

    device: str
    data: tuple[str, ...]
    steps: int
    torchrun_steps: int
    procs: int
    eval_split: str
    extra: tuple[str, ...] = field(default=())
    eval_extra: tuple[str, ...] = field(default=())


def gpu_setup(data_root: str, steps: int, procs: int) -> Setup:
    return Setup("cuda", ("--data-root", data_root), steps, 500, procs, "val")


def dry_setup() -> Setup:
    # digits has no validation split; its test split stands in for it
    return Setup(
        "cpu",
        ("--preset", "digits"),
        steps=4,
        torchrun_steps=4,
        procs=2,
        eval_split="test",
        extra=("--set", "train.log_every=2"),
        eval_extra=("--mi-samples", "200", "--fidelity-samples", "20"),
    )


def run(command: list[str], *, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run a command; its return code, its output (stdout then stderr) and its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=ROOT)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def infogan(*args: str) -> list[str]:
    return [sys.executable, "-m", "infogan", *args]


def tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def cuda_tests(setup: Setup) -> dict[str, Any]:
    """The tests marked `cuda`; in a dry run only collected, since they skip without a GPU."""
    files = sorted(str(p) for p in (ROOT / "tests").glob("test_*.py") if "mark.cuda" in p.read_text())
    command = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider", *files]
    if setup.device == "cpu":
        command.append("--collect-only")
    code, output, seconds = run(command)
    return {"ok": code == 0, "seconds": round(seconds, 1), "summary": tail(output, 1)}


def images_per_s(run_dir: Path) -> float | None:
    """The mean images/s the run logged over its second half (the first windows include start-up)."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    rates = [json.loads(line)["images_per_s"] for line in lines if "images_per_s" in line]
    half = rates[len(rates) // 2 :]
    return round(sum(half) / len(half), 1) if half else None


def main_job(setup: Setup, precision: str, out: Path) -> dict[str, Any]:
    """`infogan train` (the README's main job on this device) in one precision, then c1's accuracy."""
    run_dir = out / f"main-{precision}"
    shutil.rmtree(run_dir, ignore_errors=True)
    train = infogan(
        "train",
        *setup.data,
        "--device",
        setup.device,
        "--steps",
        str(setup.steps),
        "--seed",
        "0",
        "--run-dir",
        str(run_dir),
        "--no-eval",
        "--set",
        f"train.precision={precision}",
        *setup.extra,
    )
    code, output, seconds = run(train)
    result: dict[str, Any] = {"precision": precision, "ok": code == 0, "train_seconds": round(seconds, 1)}
    if code != 0:
        return {**result, "error": tail(output)}
    evaluate = infogan(
        "eval",
        str(run_dir),
        "--device",
        setup.device,
        "--split",
        setup.eval_split,
        "--metrics",
        "codes",
        "--json",
        *setup.eval_extra,
    )
    code, output, eval_seconds = run(evaluate)
    result.update(images_per_s=images_per_s(run_dir), eval_seconds=round(eval_seconds, 1))
    if code != 0:
        return {**result, "ok": False, "error": tail(output)}
    scores = json.loads(output[: output.rindex("}") + 1])
    return {**result, "split": setup.eval_split, "accuracy_c1": scores["codes"]["c1"].get("accuracy")}


def torchrun(setup: Setup, out: Path) -> dict[str, Any]:
    """The main job data-parallel over every GPU (NCCL), or two CPU processes (gloo) in a dry run."""
    run_dir = out / "torchrun"
    shutil.rmtree(run_dir, ignore_errors=True)
    launcher = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    command = [
        launcher,
        "--standalone",
        "--nproc-per-node",
        str(setup.procs),
        "-m",
        "infogan",
        "train",
        *setup.data,
        "--device",
        setup.device,
        "--steps",
        str(setup.torchrun_steps),
        "--run-dir",
        str(run_dir),
        "--no-eval",
        *setup.extra,
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    code, output, seconds = run(command, env=env)
    result: dict[str, Any] = {"procs": setup.procs, "ok": code == 0, "seconds": round(seconds, 1)}
    if code != 0:
        return {**result, "error": tail(output)}
    return {**result, "images_per_s": images_per_s(run_dir)}


def device_name(setup: Setup) -> str:
    if setup.device == "cpu":
        from infogan.machine import cpu_name

        return cpu_name()
    import torch

    return torch.cuda.get_device_name(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="full MNIST's folder (needed unless --dry-run)")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-check"), help="where the runs go")
    parser.add_argument("--steps", type=int, default=5000, help="the main job's updates")
    parser.add_argument("--dry-run", action="store_true", help="every part on the CPU at toy sizes")
    args = parser.parse_args()
    if args.dry_run:
        setup = dry_setup()
    else:
        import torch

        if not torch.cuda.is_available():
            parser.error("no CUDA device here: run with --dry-run to check the script on the CPU")
        if not args.data_root:
            parser.error("--data-root DIR (full MNIST) is needed")
        setup = gpu_setup(args.data_root, args.steps, torch.cuda.device_count())
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    context = {"benchmark": "gpu_check", "dry_run": args.dry_run, "device": device_name(setup)}
    start, ok = time.perf_counter(), True
    parts = [
        ("cuda_tests", lambda: cuda_tests(setup)),
        ("main_job_fp32", lambda: main_job(setup, "fp32", out)),
        ("main_job_bf16", lambda: main_job(setup, "bf16", out)),
        ("torchrun", lambda: torchrun(setup, out)),
    ]
    for name, part in parts:
        result = part()
        ok = ok and result["ok"]
        print(json.dumps({**context, "part": name, **result}), flush=True)
    total = {"part": "total", "ok": ok, "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps({**context, **total}), flush=True)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
