"""`infogan reconstruct`: held-out images beside a model's reconstructions of them (models with an encoder)."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.cli.common import IMAGE_SUFFIXES, output_file, scale_option


@app.command(short_help="Held-out images beside a VAE's reconstructions of them.")
def reconstruct(
    run: Path = typer.Argument(
        ..., metavar="RUN", help="Run directory of a model with an encoder (vae), or a checkpoint in one."
    ),
    n: int = typer.Option(32, "-n", min=1, help="Number of held-out images."),
    output: Path = typer.Option(Path("reconstructions.png"), "--output", "-o", help="PNG file to write."),
    nrow: int = typer.Option(8, "--nrow", min=1, help="Images per row."),
    scale: int | None = scale_option(),
    labels: bool = typer.Option(False, "--labels", help="Label the rows (real, reconstructed) and the grid."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Write a grid of the first n held-out images of the run's dataset, each row of originals followed by a row of
    their reconstructions."""
    import torch

    from infogan.api import load_run
    from infogan.viz.grids import save_grid

    output = output_file(output, IMAGE_SUFFIXES)
    loaded = load_run(run, device=device)
    x, recon = loaded.reconstruct(n)
    if len(x) < n:
        typer.echo(
            f"note: the held-out split has {len(x)} images, fewer than -n {n}: showing all of them", err=True
        )
        n = len(x)
    rows = []
    for start in range(0, n, nrow):  # originals row, then the same images reconstructed
        rows += [x[start : start + nrow], recon[start : start + nrow]]
    pad = [torch.full_like(x[:1], -1.0).expand(nrow - len(r), *x.shape[1:]) for r in rows]
    grid = torch.cat([torch.cat([r, p]) for r, p in zip(rows, pad, strict=True)])
    row_labels = ["real", "reconstructed"] * (len(rows) // 2) if labels else None
    caption = f"{loaded.dir.path.name}: {loaded.where}" if labels else None
    save_grid(grid, output, nrow, scale=scale, caption=caption, row_labels=row_labels)
    typer.echo(
        f"wrote {n} held-out images and their reconstructions from {loaded.where} to {output}", err=True
    )
