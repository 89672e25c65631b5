"""`infogan sample`: a grid of samples from a trained run."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from infogan.cli import app
from infogan.cli.common import IMAGE_SUFFIXES, output_file, parse_codes
from infogan.errors import ConfigError
from infogan.models import GenerativeModel
from infogan.viz.grids import save_grid


@app.command()
def sample(
    run: Path = typer.Argument(..., help="Run directory, or a checkpoint folder inside one."),
    n: int = typer.Option(64, "-n", min=1, help="Number of images."),
    output: Path = typer.Option(Path("samples.png"), "--output", "-o", help="PNG file to write."),
    code: list[str] | None = typer.Option(
        None, "--code", help="Fix a code: c1=3 (category index) or c2=0.5 (repeatable)."
    ),
    label: int | None = typer.Option(
        None,
        "--label",
        help="Class to draw from a conditional model (cgan), e.g. --label 7; InfoGAN's codes are set with --code.",
    ),
    nrow: int | None = typer.Option(None, "--nrow", min=1, help="Images per row [default: sqrt(n)]."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the latent draws."),
    scale: int = typer.Option(1, "--scale", min=1, max=16, help="Enlarge each image this many times."),
    labels: bool = typer.Option(
        False, "--labels", help="Write a caption (run, step, seed, fixed codes) above."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Write a grid of n samples, optionally with some codes fixed or, for a conditional model, one class."""
    from infogan.api import load_run

    output = output_file(output, IMAGE_SUFFIXES)
    codes = parse_codes(code)
    loaded = load_run(run, device=device)
    if label is not None:
        codes[label_code(loaded.model, label)] = label
    images = loaded.sample(n, codes=codes, seed=seed)
    fixed = ", ".join(f"{k}={v:g}" for k, v in codes.items())
    caption = f"{loaded.dir.path.name}: {loaded.where}, seed {seed}" + (f", {fixed}" if fixed else "")
    save_grid(
        images, output, nrow or math.ceil(math.sqrt(n)), scale=scale, caption=caption if labels else None
    )
    typer.echo(f"wrote {n} samples from {loaded.where} to {output}", err=True)


def label_code(model: GenerativeModel, label: int) -> str:
    """The name of the code that carries `label` in a conditional model, after checking the label is one of its
    classes."""
    name = model.conditional_code
    if name is None:
        raise ConfigError(
            f"--label needs a conditional model (cgan); this run is {model.cfg.name}; use --code for InfoGAN codes"
        )
    k = model.latent.code(name).k
    if not 0 <= label < k:
        raise ConfigError(
            f"--label {label} is out of range: this {model.cfg.name} has {k} classes, 0..{k - 1}"
        )
    return name
