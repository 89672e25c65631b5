"""`infogan sample`: a grid of samples from a trained run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from infogan.cli.application import app
from infogan.cli.common import IMAGE_SUFFIXES, MAX_SEED, output_file, parse_codes, scale_option
from infogan.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from infogan.api import Run
    from infogan.models import GenerativeModel


@app.command(short_help="Write a grid of samples, with codes or a label fixed.")
def sample(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory, or a checkpoint folder inside one."),
    n: int = typer.Option(64, "-n", min=1, max=10_000, help="Number of images (at most 10,000: one grid)."),
    output: Path = typer.Option(Path("samples.png"), "--output", "-o", help="PNG file to write."),
    code: list[str] | None = typer.Option(
        None, "--code", help="Fix a code: c1=3 (category index) or c2=0.5 (repeatable)."
    ),
    label: str | None = typer.Option(
        None,
        "--label",
        help="Class to draw from a conditional model (cgan), e.g. --label 7, or `all`: one row of n images per "
        "class (--nrow does not apply), the same noise down each column. InfoGAN's codes are set with --code.",
    ),
    nrow: int | None = typer.Option(None, "--nrow", min=1, help="Images per row [default: sqrt(n)]."),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Random seed of the latent draws."),
    scale: int | None = scale_option(),
    labels: bool = typer.Option(
        False, "--labels", help="Write a caption (run, step, seed, fixed codes) above."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Write a grid of n samples, optionally with some codes fixed or, for a conditional model, one class."""
    from infogan.api import load_run
    from infogan.viz.grids import save_grid

    output = output_file(output, IMAGE_SUFFIXES)
    codes = parse_codes(code)
    if label is not None and label != "all":
        try:
            int(label)
        except ValueError:
            raise ConfigError(f"--label takes a class number or 'all', got '{label}'") from None
    loaded = load_run(run, device=device)
    for note in loaded.model.latent.far_from_training(
        {k: v for k, v in codes.items() if k in {c.name for c in loaded.model.latent.codes}}
    ):
        typer.echo(f"note: {note}", err=True)
    row_labels = None
    if label == "all":
        images = class_rows(loaded, n, codes, seed)
        k = images.shape[0] // n
        nrow, what, row_labels = n, f"{n} samples of each of {k} classes", [str(c) for c in range(k)]
    else:
        if label is not None:
            codes[label_code(loaded.model, int(label))] = int(label)
        images, what = loaded.sample(n, codes=codes, seed=seed), f"{n} samples"
    fixed = ", ".join(f"{k}={v:g}" for k, v in codes.items())
    caption = f"{loaded.dir.path.name}: {loaded.where}, seed {seed}" + (f", {fixed}" if fixed else "")
    save_grid(
        images,
        output,
        nrow or math.ceil(math.sqrt(n)),
        scale=scale,
        caption=caption if labels else None,
        row_labels=row_labels,
    )
    typer.echo(f"wrote {what} from {loaded.where} to {output}", err=True)


def class_rows(run: Run, n: int, codes: dict[str, float], seed: int) -> torch.Tensor:
    """n images of each class of a conditional run, class by class (K n, C, H, W): the same seed for every class,
    so the images of a column share their noise and differ only in the class."""
    import torch

    name = label_code(run.model, 0)
    classes = range(run.model.latent.code(name).k)
    return torch.cat([run.sample(n, codes={**codes, name: k}, seed=seed) for k in classes])


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
