"""infogan export: the generator and encoder as ONNX (run in onnxruntime) and TorchScript files match PyTorch within
1e-4, and model.json says how to feed and read them; infogan.load(RUN).generate/.encode for Python users."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from infogan.api import load, train
from infogan.config import load_preset
from infogan.data import build
from infogan.errors import ConfigError

from .conftest import TINY, invoke

ort = pytest.importorskip(
    "onnxruntime", reason="the export extra is not installed: pip install -e '.[export]'"
)

# the paper's MNIST networks (narrow, on 8x8 digits) and the DCGAN backbone (InfoGAN on WGAN-GP, 28x28)
RUNS = {
    "paper": ("digits", [*TINY, "eval.metrics=[codes]"]),
    "dcgan": (
        "infogan-wgan-gp",
        [
            "data.name=mnist-sample",
            "data.fallback=null",
            "data.download=false",
            "model.latent.noise=4",
            "model.width=4",
            "model.q_hidden=8",
            "train.steps=2",
            "train.batch_size=8",
            "eval.metrics=[codes]",
            "eval.mi_samples=16",
        ],
    ),
    "vae": (
        "vae",
        [
            "data.name=digits",
            "data.fallback=null",
            "data.download=false",
            "model.latent_dim=3",
            "model.hidden=[16]",
            "train.steps=2",
            "train.batch_size=8",
            "eval.metrics=[codes]",
        ],
    ),
}


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    for name, (preset, overrides) in RUNS.items():
        train(load_preset(preset, overrides), folder / name, progress=quiet)
    return folder


def reference(run, images):
    spec = run.model.latent
    latent = spec.sample(5, generator=torch.Generator().manual_seed(3))
    inputs = {"z": latent.z, "c_cat": latent.c_cat, "c_cont": latent.c_cont}
    with torch.no_grad():
        fake = run.model.generate(latent)
        read = run.encode(images)
    return inputs, fake, read


def encoder_reference(run, read) -> list[np.ndarray]:
    spec = run.model.latent
    if run.config.model.name == "vae":
        return [torch.stack([read[c.name] for c in spec.codes], dim=1).numpy()]
    out = [read[c.name].numpy() for c in spec.categorical]
    if spec.continuous:
        out.append(torch.stack([read[c.name] for c in spec.continuous], dim=1).numpy())
    return out


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("paper", "onnx"),
        ("paper", "torchscript"),
        ("dcgan", "onnx"),
        ("dcgan", "torchscript"),
        ("vae", "onnx"),
    ],
)
def test_exported_files_match_pytorch(runs, tmp_path, name, fmt):
    result = invoke("export", str(runs / name), "--format", fmt, "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "out" / "model.json").read_text())
    run = load(runs / name)
    images = build(run.config.data, "test").images[:6]
    inputs, fake, read = reference(run, images)
    names = [i["name"] for i in meta["generator"]["inputs"]]
    feeds = [inputs[n].numpy() for n in names]
    if fmt == "onnx":
        generator = ort.InferenceSession(str(tmp_path / "out" / meta["files"]["generator"]))
        got = generator.run(None, dict(zip(names, feeds, strict=True)))[0]
        encoder = ort.InferenceSession(str(tmp_path / "out" / meta["files"]["encoder"]))
        codes = encoder.run(None, {"images": images.numpy()})
    else:
        generator = torch.jit.load(str(tmp_path / "out" / meta["files"]["generator"]))
        encoder = torch.jit.load(str(tmp_path / "out" / meta["files"]["encoder"]))
        with torch.no_grad():
            got = generator(*(torch.from_numpy(f) for f in feeds)).numpy()
            codes = [t.numpy() for t in encoder(images)]
    assert got.shape == tuple(fake.shape) and np.abs(got - fake.numpy()).max() < 1e-4
    for exported, expected in zip(codes, encoder_reference(run, read), strict=True):
        assert exported.shape == expected.shape and np.abs(exported - expected).max() < 1e-4
    assert meta["image"] == {"shape": list(run.model.image_shape), "range": [-1.0, 1.0], "layout": "NCHW"}
    if name == "paper":
        assert (
            names == ["z", "c_cat", "c_cont"]
            and meta["labels_of_categories"]["c1"]
            == json.loads((runs / name / "eval.json").read_text())["codes"]["c1"]["mapping"]
        )
        assert [o["name"] for o in meta["encoder"]["outputs"]] == ["c1", "continuous"]


def test_load_generates_for_given_codes_and_noise_and_encodes(runs):
    run = load(runs / "paper")
    noise = torch.zeros(3, run.model.latent.noise)
    a = run.generate({"c1": 4, "c2": 0.5}, noise=noise)
    b = run.generate({"c1": 4, "c2": 0.5}, noise=noise, seed=9)  # the seed draws only what is not given: c3
    assert a.shape == (3, 1, 8, 8) and not torch.equal(a, b)
    assert torch.equal(a, run.generate({"c1": 4, "c2": 0.5}, noise=noise))
    read = run.encode(a)
    assert set(read) == {"c1", "c2", "c3"} and read["c1"].shape == (3, 10)
    assert torch.allclose(read["c1"].sum(1), torch.ones(3))
    with pytest.raises(ConfigError, match=r"noise must have shape \(n, 4\)"):
        run.generate(noise=torch.zeros(2, 5))


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            torch.zeros(2, 1, 28, 28),
            r"images must have shape \(B, 1, 8, 8\) for this model, got \(2, 1, 28, 28\)",
        ),
        (torch.zeros(1, 8, 8), r"must have shape \(B, 1, 8, 8\) for this model, got \(1, 8, 8\)"),
        (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), r"floating point in \[-1, 1\], got torch.uint8"),
        (torch.full((2, 1, 8, 8), 255.0), r"got values from 255 to 255: scale images in \[0, 255\]"),
        ([[0.0]], "images must be a torch.Tensor"),
    ],
)
def test_encode_names_what_is_wrong_with_its_images(runs, images, message):
    with pytest.raises(ConfigError, match=message):
        load(runs / "paper").encode(images)


def test_a_run_reads_in_one_line(runs):
    text = repr(load(runs / "paper"))
    assert text == f"Run({str(runs / 'paper')!r}: infogan on digits, step 6)" and len(text) < 200


def test_a_bad_format_is_one_line(runs):
    result = invoke("export", str(runs / "paper"), "--format", "pickle")
    assert (
        result.returncode == 2
        and result.stderr.strip() == "error: --format is onnx or torchscript, not 'pickle'"
    )


def test_exporting_again_in_another_format_leaves_no_files_of_the_first(runs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")  # a file of the user's, which no export wrote
    for fmt in ("torchscript", "onnx"):
        assert invoke("export", str(runs / "paper"), "--format", fmt, "-o", str(out)).returncode == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["format"] == "onnx"
    assert sorted(p.name for p in out.iterdir()) == [
        "encoder.onnx",
        "generator.onnx",
        "model.json",
        "notes.txt",
    ]
