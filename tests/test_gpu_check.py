"""benchmarks/gpu_check.py runs every part through its real commands; here in its CPU dry run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_check_dry_run_passes_every_part_on_the_cpu(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--dry-run", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stdout + done.stderr
    parts = {line["part"]: line for line in lines}
    assert list(parts) == ["cuda_tests", "main_job_fp32", "main_job_bf16", "torchrun", "total"]
    assert all(line["ok"] and line["dry_run"] for line in lines)
    assert re.search(r"\b3/\d+ tests collected", parts["cuda_tests"]["summary"]), parts["cuda_tests"]
    for precision in ("fp32", "bf16"):
        job = parts[f"main_job_{precision}"]
        assert 0 <= job["accuracy_c1"] <= 1 and job["images_per_s"] > 0
    assert parts["torchrun"]["procs"] == 2 and parts["torchrun"]["images_per_s"] > 0
