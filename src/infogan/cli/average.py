"""`infogan average`: one checkpoint from the mean of a run's checkpoints."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app


@app.command(short_help="Average the weights of a run's checkpoints into a new checkpoint.")
def average(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory."),
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
    check_samples: int = typer.Option(
        5_000,
        "--check-samples",
        min=0,
        help="For InfoGAN: generated samples to compare L_I per code before and after averaging on (0 skips).",
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Average the weights of a run's checkpoints from --from to --to and write them as the checkpoint folder
    RUN/checkpoints/average-FIRST-LAST, which sample, traverse and eval take like any checkpoint.

    For InfoGAN, GAN and WGAN, batch-norm statistics are recomputed for the averaged weights by running the forward
    passes of training steps over real training images; for other models they are averaged with the weights.
    For InfoGAN, L_I per code is then estimated for the newest checkpoint averaged and for the average, on the
    same latent draws, with a warning when the average lowers a categorical code's by more than 0.05 nats.
    Training never resumes from nor prunes an averaged checkpoint. Keep the checkpoints to average with
    --checkpoint-every and --set train.keep_last=N when training.
    """
    from infogan.api import average as average_run

    average_run(
        run,
        first=first,
        last=last,
        calibration_images=calibration_images,
        check_samples=check_samples,
        device=device,
    )
