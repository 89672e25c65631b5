"""Where a conditional GAN's variety comes from: the per-pixel standard deviation of its images of one label over
noise draws with dropout off (how it samples), and, with G's dropout on (how it trains), over noise draws and over
dropout masks alone with one noise vector. A G that ignores z and takes its variety from dropout draws one image
per label when it samples. Loads a run; trains nothing.

Prints one JSON line. Usage:
    python benchmarks/cgan_noise.py runs/family/cgan-s0 [--label 3] [-n 256]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from infogan.api import load_run
from infogan.errors import InfoganError
from infogan.models.cgan import CGAN


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("--label", type=int, default=3)
    parser.add_argument("-n", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        model = load_run(args.run).model
    except InfoganError as exc:
        raise SystemExit(str(exc)) from None
    if not isinstance(model, CGAN):
        raise SystemExit(f"{args.run} is not a conditional GAN ({model.cfg.name})")
    name = model.conditional_code
    generator = torch.Generator(model.device).manual_seed(args.seed)
    latent = model.latent.with_codes(
        model.latent.sample(args.n, generator=generator, device=model.device), {name: args.label}
    )
    y = model.one_hot(latent.c_cat[:, 0])
    one_z = latent.z[:1].expand_as(latent.z)
    torch.manual_seed(args.seed)  # the dropout masks
    spread = {}
    with torch.no_grad():
        for key, train_mode, z in [
            ("over_z_dropout_off", False, latent.z),
            ("over_z_dropout_on", True, latent.z),
            ("over_dropout_one_z", True, one_z),
        ]:
            model.G.train(train_mode)
            spread[key] = round(float(model.G(z, y).std(0).mean()), 4)
    model.G.eval()
    print(
        json.dumps(
            {"benchmark": "cgan_noise", "run": str(args.run), "label": args.label, "n": args.n, **spread}
        )
    )


if __name__ == "__main__":
    main()
