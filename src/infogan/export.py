"""A trained model for use without this package: its generator and its encoder (InfoGAN's Q, a VAE's encoder) as
ONNX or TorchScript files, and `model.json` saying how to feed and read them (latent layout and priors, image
shape and range, the label each category was matched to when the run was evaluated).

ONNX files come from PyTorch's torch.export-based exporter and run in onnxruntime (or a browser); TorchScript
files come from `torch.jit.trace` and load with `torch.jit.load` (or libtorch in C++) without this package.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from infogan.errors import ConfigError
from infogan.evaluation.record import EvalRecord
from infogan.files import write_text_atomic
from infogan.latent import Latent
from infogan.runs.loaded import Run
from infogan.version import __version__

Format = Literal["onnx", "torchscript"]
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
_PRIORS = {"uniform": "uniform(-1, 1)", "normal": "normal(0, 1)"}


class Generator(nn.Module):
    """G as a function of tensors: the inputs the latent spec has, in the order z (B, noise), c_cat (B, n_cat)
    int64 category indices, c_cont (B, n_cont); images (B, C, H, W) in [-1, 1] out."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.model = run.model
        spec = run.model.latent
        self.parts = [
            name
            for name, size in (
                ("z", spec.noise),
                ("c_cat", len(spec.categorical)),
                ("c_cont", len(spec.continuous)),
            )
            if size
        ]

    def forward(self, *inputs: Tensor) -> Tensor:
        given = dict(zip(self.parts, inputs, strict=True))
        first = inputs[0]
        b = first.shape[0]
        empty = first.new_zeros((b, 0), dtype=torch.float32)
        z = given.get("z", empty)
        c_cat = given.get("c_cat", first.new_zeros((b, 0), dtype=torch.long))
        c_cont = given.get("c_cont", empty)
        return self.model.generate(Latent(z, c_cat, c_cont))


class Encoder(nn.Module):
    """The codes an image carries, as a model that `encodes_images` reads them: for InfoGAN, each categorical
    code's probabilities (B, K) and the means of the continuous codes (B, n_cont); for an encoder that reads the
    whole latent (`can_reconstruct`: a VAE's), its means (B, latent_dim)."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.model = run.model
        self.whole_latent = run.model.can_reconstruct

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        if self.whole_latent:
            return (self.model.represent(images),)
        post = self.model.infer_codes(images)
        spec = self.model.latent
        outputs = [post[c.name]["logits"].softmax(dim=1) for c in spec.categorical]
        if spec.continuous:
            outputs.append(torch.stack([post[c.name]["mean"] for c in spec.continuous], dim=1))
        return tuple(outputs)


def encoder_outputs(run: Run) -> list[dict[str, Any]]:
    """What each output of `Encoder` is."""
    spec = run.model.latent
    if run.model.can_reconstruct:  # the encoder reads every latent: one output, a mean per latent
        return [
            {"name": "means", "shape": [None, len(spec.codes)], "what": "the encoder's mean of each latent"}
        ]
    outputs: list[dict[str, Any]] = [
        {"name": c.name, "shape": [None, c.k], "what": f"probabilities of {c.name}'s {c.k} categories"}
        for c in spec.categorical
    ]
    if spec.continuous:
        outputs.append(
            {
                "name": "continuous",
                "shape": [None, len(spec.continuous)],
                "codes": [c.name for c in spec.continuous],
                "what": "Q's mean of each continuous code",
            }
        )
    return outputs


def describe(run: Run, fmt: Format, files: dict[str, str]) -> dict[str, Any]:
    """model.json: everything another program needs to use the exported files."""
    spec = run.model.latent
    inputs: list[dict[str, Any]] = []
    if spec.noise:
        inputs.append(
            {"name": "z", "shape": [None, spec.noise], "dtype": "float32", "prior": _PRIORS[spec.noise_prior]}
        )
    if spec.categorical:
        inputs.append(
            {
                "name": "c_cat",
                "shape": [None, len(spec.categorical)],
                "dtype": "int64",
                "codes": [{"name": c.name, "categories": c.k} for c in spec.categorical],
                "what": "the index of each categorical code's category",
            }
        )
    if spec.continuous:
        inputs.append(
            {
                "name": "c_cont",
                "shape": [None, len(spec.continuous)],
                "dtype": "float32",
                "codes": [{"name": c.name, "prior": _PRIORS[c.kind]} for c in spec.continuous],
            }
        )
    mapping = EvalRecord.load(run.dir.eval).matched_labels() if run.dir.eval.is_file() else {}
    out: dict[str, Any] = {
        "format": fmt,
        "files": files,
        "model": run.config.model.name,
        "run": run.dir.path.resolve().name,
        "step": run.step,
        "image": {"shape": list(run.model.image_shape), "range": [-1.0, 1.0], "layout": "NCHW"},
        "generator": {"inputs": inputs, "output": "images"},
        "labels_of_categories": mapping,
        "infogan_version": __version__,
    }
    if "encoder" in files:
        out["encoder"] = {"input": "images", "outputs": encoder_outputs(run)}
    return out


def export_run(run: Run, fmt: Format, folder: Path) -> dict[str, Any]:
    """Write the generator (and the encoder, where the model has one) as `fmt` files and model.json into
    `folder`; return model.json's content."""
    if fmt not in SUFFIX:
        raise ConfigError(f"unknown export format '{fmt}' (onnx or torchscript)")
    folder.mkdir(parents=True, exist_ok=True)
    run.model.eval()
    generator = Generator(run).eval()
    latent = run.model.latent.sample(
        2, generator=torch.Generator(run.model.device).manual_seed(0), device=run.model.device
    )
    example = tuple(
        t
        for t, name in ((latent.z, "z"), (latent.c_cat, "c_cat"), (latent.c_cont, "c_cont"))
        if name in generator.parts
    )
    files = {"generator": f"generator{SUFFIX[fmt]}"}
    _write(generator, example, generator.parts, ["images"], folder / files["generator"], fmt)
    if run.model.encodes_images:
        encoder = Encoder(run).eval()
        images = torch.zeros(2, *run.model.image_shape, device=run.model.device)
        names = [o["name"] for o in encoder_outputs(run)]
        files["encoder"] = f"encoder{SUFFIX[fmt]}"
        _write(encoder, (images,), ["images"], names, folder / files["encoder"], fmt)
    stale = set(_exported_files(folder)) - set(files.values())
    description = describe(run, fmt, files)
    write_text_atomic(folder / "model.json", json.dumps(description, indent=1))
    for name in stale:  # an earlier export's files of another format, which model.json no longer describes
        (folder / name).unlink(missing_ok=True)
    return description


def _exported_files(folder: Path) -> list[str]:
    """The file names an earlier export into `folder` listed in its model.json ([] when there is none)."""
    try:
        files = json.loads((folder / "model.json").read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(files, dict):
        return []
    # only plain names of files of an export, never a path that reaches out of the folder
    return [name for name in files.values() if isinstance(name, str) and name in _EXPORT_NAMES]


_EXPORT_NAMES = {f"{part}{suffix}" for part in ("generator", "encoder") for suffix in SUFFIX.values()}


def _write(
    module: nn.Module,
    example: tuple[Tensor, ...],
    inputs: list[str],
    outputs: list[str],
    path: Path,
    fmt: str,
) -> None:
    """Trace `module` on `example` and save it, the batch dimension left free."""
    with torch.no_grad(), warnings.catch_warnings():
        # both exporters announce their own futures; the files they write are what is tested
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        # GroupNorm (a critic's layer norm) checks its input's size in Python while traced; the check only refuses
        # one value per group, which no image batch has, so freezing it into the trace changes nothing
        warnings.filterwarnings("ignore", "Converting a tensor to a Python boolean", torch.jit.TracerWarning)
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(module, example, check_trace=False), str(path))
            return
        batch = torch.export.Dim("batch", min=1, max=65536)
        program = torch.onnx.export(
            module,
            example,
            input_names=inputs,
            output_names=outputs,
            # the generator takes its inputs as *inputs, one argument to torch.export: its shapes are nested once
            dynamic_shapes=(tuple({0: batch} for _ in example),)
            if isinstance(module, Generator)
            else tuple({0: batch} for _ in example),
            dynamo=True,
            verbose=False,
        )
        assert program is not None
        program.save(str(path))
