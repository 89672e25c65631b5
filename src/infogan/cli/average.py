"""`infogan average`: one checkpoint from the mean of a run's checkpoints."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli import app


@app.command()
def average(
    run: Path = typer.Argument(..., help="Run directory."),
    first: int | None = typer.Option(
        None, "--from", min=0, help="Earliest step averaged [default: half the newest checkpoint's step]."
    ),
    last: int | None = typer.Option(
        None, "--to", min=0, help="Latest step averaged [default: the newest checkpoint's]."
    ),
    calibration_images: int = typer.Option(
        10_000,
        "--calibration-images",
        min=1,
        help="At most this many training images, in full batches, to recompute batch-norm statistics with.",
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Average the weights of a run's checkpoints from --from to --to and write them as the checkpoint folder
    RUN/checkpoints/average-FIRST-LAST, which sample, traverse and eval take like any checkpoint.

    For InfoGAN, GAN and WGAN, batch-norm statistics are recomputed for the averaged weights by running the forward
    passes of training steps over real training images; for other models they are averaged with the weights.
    Training never resumes from nor prunes an averaged checkpoint. Keep the checkpoints to average with
    --checkpoint-every and --set train.keep_last=N when training.
    """
    from infogan.api import average as average_run

    average_run(run, first=first, last=last, calibration_images=calibration_images, device=device)
