"""Train every model of the family on one dataset at equal wall time, for the family table (family_table.py).

Each (preset, seed) is an ordinary run `OUT/<variant>-s<seed>` trained by `infogan train --minutes M --resume auto`
one after another on `--threads` threads, so the runs share nothing but the machine, and running the script again
continues or skips what is done. `gan-minimax` is the `gan` preset with the minimax generator loss. Prints one JSON line per run when it is finished (its directory, training
minutes and updates), then runs nothing else. Usage:
    python benchmarks/family_train.py --data-root ../shared/data --minutes 15 --seeds 0 1 --out runs/family
    python benchmarks/family_table.py runs/family/* --markdown
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from infogan.files import read_log

# variant -> (preset, extra --set overrides)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "gan": ("gan", []),
    "gan-minimax": ("gan", ["model.adversarial=minimax"]),
    "cgan": ("cgan", []),
    "cgan-mlp": ("cgan-mlp", []),
    "dcgan": ("dcgan", []),
    "wgan": ("wgan", []),
    "wgan-gp": ("wgan-gp", []),
    "vae": ("vae", []),
    "mnist": ("mnist", []),
}
# The step budget is only an upper bound here: the wall time ends each run.
MAX_STEPS = 1_000_000


def command(variant: str, seed: int, args: argparse.Namespace) -> list[str]:
    preset, sets = VARIANTS[variant]
    out = [
        sys.executable,
        "-m",
        "infogan",
        "train",
        "--preset",
        preset,
        "--seed",
        str(seed),
        "--run-dir",
        str(args.out / f"{variant}-s{seed}"),
        "--resume",
        "auto",
        "--minutes",
        str(args.minutes),
        "--steps",
        str(MAX_STEPS),
        "--checkpoint-every",
        str(args.checkpoint_every),
        "--set",
        f"train.threads={args.threads}",
        "--set",
        "train.keep_last=1000",
    ]
    if args.data_root:
        out += ["--data-root", args.data_root]
    for item in sets:
        out += ["--set", item]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/family"))
    parser.add_argument("--data-root")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), help="Train these variants only.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for variant in args.only or VARIANTS:
            run = args.out / f"{variant}-s{seed}"
            if not (run / "eval.json").is_file():
                with (args.out / f"{variant}-s{seed}.log").open("a") as log:
                    done = subprocess.run(command(variant, seed, args), stdout=log, stderr=log, check=False)
                if done.returncode != 0:
                    print(json.dumps({"run": str(run), "failed": done.returncode}), flush=True)
                    continue
            rows = read_log(run / "metrics.jsonl")
            print(
                json.dumps(
                    {
                        "run": str(run),
                        "train_minutes": round(rows[-1]["elapsed_s"] / 60, 2),
                        "updates": rows[-1]["step"],
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
