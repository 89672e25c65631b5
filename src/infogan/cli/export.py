"""`infogan export`: a run's generator and encoder as ONNX or TorchScript files, for use without infogan."""

from __future__ import annotations

from pathlib import Path

import typer

from infogan.cli.application import app
from infogan.errors import ConfigError


@app.command(short_help="Export the generator and encoder as ONNX or TorchScript.")
def export(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory, or a checkpoint folder inside one."),
    fmt: str = typer.Option(
        "onnx", "--format", help="onnx (onnxruntime, browsers) or torchscript (torch.jit.load)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Folder to write into [default: RUN/export-<format>]."
    ),
    device: str = typer.Option(
        "cpu", "--device", help="cpu, cuda, cuda:N or auto (where the model is traced)."
    ),
) -> None:
    """Write the generator (inputs z, c_cat, c_cont as the latent spec has them; images in [-1, 1] out), the
    encoder where the model has one (InfoGAN's Q: each categorical code's probabilities and the continuous codes'
    means; a VAE's encoder means) and model.json, which says how to feed and read them and which label each
    category was matched to."""
    if fmt not in ("onnx", "torchscript"):
        raise ConfigError(f"--format is onnx or torchscript, not '{fmt}'")
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401
            import onnxscript  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                f'exporting to ONNX needs the export extra ({exc.name} is missing): pip install -e ".[export]"'
            ) from None
    from infogan.api import load_run
    from infogan.export import export_run

    loaded = load_run(run, device=device)
    folder = output or loaded.dir.path / f"export-{fmt}"
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"-o {folder} is a file; give a folder")
    description = export_run(loaded, fmt, folder)  # type: ignore[arg-type]
    files = ", ".join(description["files"].values())
    typer.echo(f"wrote {files} and model.json ({loaded.where}) to {folder}", err=True)
