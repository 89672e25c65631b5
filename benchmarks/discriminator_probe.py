"""How well a run's discriminator tells its generator's images from real ones, and how well it could: the AUC of
the run's own D on held-out real (test split) and generated images, then the AUC of a fresh D of the same
architecture trained for --steps against the frozen G (a classifier two-sample test with the run's own network).

A D that separates little in its game while a fresh copy of it separates well says the game keeps D near chance
(G moves to fool the D of the moment) rather than that D cannot see the difference. Trains only the fresh D, with
the logistic loss and Adam (beta1 0.5) at the run's lr_d; scores both Ds on the same images, each run as in
training (real and generated images in separate batches of --batch-size).

Prints one JSON line. Usage:
    python benchmarks/discriminator_probe.py runs/dsprites-s0 [--steps 1000] [--images 10000] [--held-out 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.functional.classification import binary_auroc

from infogan import data
from infogan.api import Run, load_run
from infogan.data.base import Split
from infogan.errors import InfoganError
from infogan.losses.adversarial import d_bce_loss
from infogan.machine import cpu_name
from infogan.models import GenerativeModel, build_model


def discriminator(model: GenerativeModel, run: Path) -> tuple[nn.Module, nn.Module]:
    """The model's D as its trunk and its real/fake logit head."""
    trunk, head = getattr(model, "trunk", None), getattr(model, "d_head", None)
    if model.is_conditional or not isinstance(trunk, nn.Module) or not isinstance(head, nn.Module):
        raise SystemExit(
            f"{run}: needs an unconditional GAN with a trunk and a logit head, not {model.cfg.name}"
        )
    return trunk, head


def generated(run: Run, n: int, seed: int) -> Tensor:
    with torch.no_grad():
        return torch.cat([run.sample(min(500, n - i), seed=seed + i) for i in range(0, n, 500)])


def real(run: Run, split: Split, n: int, seed: int) -> Tensor:
    try:
        images = data.build(run.config.data, split).images
    except InfoganError as exc:
        raise SystemExit(str(exc)) from None
    if images.shape[0] < n:
        raise SystemExit(f"the {split} split holds {images.shape[0]} images, fewer than the {n} asked for")
    pick = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return images[pick.sort().values]


def scores(
    trunk: nn.Module, head: nn.Module, real_x: Tensor, fake_x: Tensor, batch_size: int
) -> dict[str, float]:
    """AUC of D's logit for real against generated, accuracy at logit 0, and the logits' std. D runs as it does in
    training (train mode, real and generated images in separate batches), so a D with batch norm is scored on the
    statistics it plays with."""
    trunk.train(), head.train()
    with torch.no_grad():
        logits = torch.cat([head(trunk(x)) for x in (*real_x.split(batch_size), *fake_x.split(batch_size))])
    target = torch.cat([torch.ones(len(real_x)), torch.zeros(len(fake_x))]).long()
    return {
        "auc": round(float(binary_auroc(logits, target)), 4),
        "accuracy": round(float(((logits > 0).long() == target).float().mean()), 4),
        "logit_std": round(float(logits.std()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "run", type=Path, help="a run directory (its newest checkpoint) or a checkpoint folder"
    )
    parser.add_argument("--steps", type=int, default=1000, help="updates of the fresh D")
    parser.add_argument("--every", type=int, default=250, help="score the fresh D every N updates")
    parser.add_argument("--images", type=int, default=10000, help="real and generated images it trains on")
    parser.add_argument(
        "--held-out", type=int, default=2000, help="real and generated images it is scored on"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, help="Adam's learning rate [default: the run's lr_d]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        run = load_run(args.run)
    except InfoganError as exc:
        raise SystemExit(str(exc)) from None
    own_trunk, own_head = discriminator(run.model, args.run)
    lr = args.lr or getattr(run.model.cfg, "lr_d", 2e-4)
    started = time.perf_counter()
    held_real = real(run, "test", args.held_out, args.seed)
    held_fake = generated(run, args.held_out, seed=10**6 + args.seed)
    own = scores(own_trunk, own_head, held_real, held_fake, args.batch_size)
    train_real = real(run, "train", args.images, args.seed)
    train_fake = generated(run, args.images, seed=args.seed)

    torch.manual_seed(args.seed)
    trunk, head = discriminator(build_model(run.config.model, run.model.image_shape), args.run)
    optimizer = torch.optim.Adam([*trunk.parameters(), *head.parameters()], lr, betas=(0.5, 0.999))
    draw = torch.Generator().manual_seed(args.seed)
    curve = []
    for step in range(1, args.steps + 1):
        i, j = (torch.randint(0, args.images, (args.batch_size,), generator=draw) for _ in range(2))
        # real and generated batches go through D separately, as in training, so batch norm never mixes them
        loss = d_bce_loss(head(trunk(train_real[i])), head(trunk(train_fake[j])))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.every == 0 or step == args.steps:
            curve.append({"step": step, **scores(trunk, head, held_real, held_fake, args.batch_size)})
    print(
        json.dumps(
            {
                "benchmark": "discriminator_probe",
                "run": str(args.run),
                "run_step": run.step,
                "own_d": own,
                "fresh_d": curve,
                "fresh_lr": lr,
                "images": args.images,
                "held_out": args.held_out,
                "seconds": round(time.perf_counter() - started, 1),
                "threads": args.threads,
                "cpu": cpu_name(),
            }
        )
    )


if __name__ == "__main__":
    main()
