"""`infogan average`: the mean of a run's checkpoints, with batch-norm statistics recomputed for it."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from infogan.api import average, load_run, train
from infogan.config import load_preset
from infogan.models import MODELS
from infogan.train.averaging import recompute_norm_statistics
from infogan.train.checkpoint import list_checkpoints

from .conftest import TINY, invoke
from .test_models import tiny_model


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny InfoGAN run with checkpoints at steps 2, 4 and 6."""
    cfg = load_preset("digits", [*TINY, "train.checkpoint_every=2", "train.keep_last=10"])
    path = tmp_path_factory.mktemp("average") / "run"
    train(cfg, path, progress=quiet)
    return path


def first_norm(module: nn.Module) -> nn.modules.batchnorm._BatchNorm:
    return next(m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))


def test_the_averaged_weights_are_the_mean_of_the_checkpoints(run_dir):
    averaged = average(run_dir, first=2, calibration_images=64, progress=quiet)
    saved = [load_file(str(run_dir / f"checkpoints/step-{s}/model.safetensors")) for s in (2, 4, 6)]
    params = dict(averaged.model.named_parameters())
    assert len(params) > 4
    for name, value in params.items():
        expected = sum(w[name] for w in saved) / 3
        torch.testing.assert_close(value.detach(), expected, msg=name)
    assert not torch.equal(
        saved[0]["G.fc.0.weight"], saved[2]["G.fc.0.weight"]
    )  # the mean is not one of them
    assert averaged.step == 6


def test_the_default_range_is_the_second_half_of_training(run_dir):
    lines: list[str] = []
    average(run_dir, calibration_images=64, progress=lines.append)
    assert lines[0] == "averaging 2 checkpoints, steps 4 to 6"
    folder = run_dir / "checkpoints" / "average-4-6"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["averaged_steps"] == [4, 6] and manifest["step"] == 6
    average(run_dir, calibration_images=64, progress=quiet)  # again: replaced in place, nothing left over
    names = [p.name for p in (run_dir / "checkpoints").iterdir()]
    assert names.count("average-4-6") == 1 and not [n for n in names if n.startswith(".")]
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step-2", "step-4", "step-6"]


def test_batch_norm_statistics_are_recomputed_over_the_calibration_images_and_prior_draws():
    model = tiny_model("infogan")
    images = torch.rand(64, 1, 8, 8) * 2 - 1
    seen: dict[str, torch.Tensor] = {}
    assert recompute_norm_statistics(model, images, batch_size=16, seed=3)

    def capture(name: str):
        return lambda _module, inputs: seen.__setitem__(name, inputs[0])

    trunk_norm, g_norm = first_norm(model.trunk), first_norm(model.G)
    trunk_norm.register_forward_pre_hook(capture("trunk"))
    g_norm.register_forward_pre_hook(capture("G"))
    model.infer_codes(images)  # eval mode: the input of the first norm does not depend on any statistics
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        model.G.eval()(
            torch.cat([model.latent.to_input(model.latent.sample(16, generator=generator)) for _ in range(4)])
        )
    for name, norm in (("trunk", trunk_norm), ("G", g_norm)):
        x = seen[name]
        dims = [0, *range(2, x.dim())]
        torch.testing.assert_close(norm.running_mean, x.mean(dim=dims), msg=name)
        # PyTorch keeps the mean of the batches' unbiased variances: 4 equal batches of 16
        batch_var = torch.stack([x[i : i + 16].var(dim=dims) for i in range(0, 64, 16)]).mean(dim=0)
        torch.testing.assert_close(norm.running_var, batch_var, msg=name)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_recomputes_its_statistics_or_says_it_does_not(name):
    model = tiny_model(name)
    before = {k: v.clone() for k, v in model.named_parameters()}
    shape = model.image_shape
    recomputed = recompute_norm_statistics(model, torch.rand(32, *shape) * 2 - 1, batch_size=16)
    assert recomputed == (name in {"infogan", "gan", "wgan"})
    for key, value in model.named_parameters():
        assert torch.equal(value, before[key]), key


def test_the_cli_writes_a_checkpoint_that_eval_and_sample_take_and_training_leaves_alone(run_dir, tmp_path):
    run_dir = shutil.copytree(run_dir, tmp_path / "run")
    result = invoke("average", str(run_dir), "--from", "2", "--to", "4", "--calibration-images", "64")
    assert result.returncode == 0, result.stderr
    assert "averaging 2 checkpoints, steps 2 to 4" in result.stderr
    folder = run_dir / "checkpoints" / "average-2-4"
    assert load_run(folder).step == 4

    out = invoke("eval", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["step"] == 4
    assert invoke("sample", str(folder), "-n", "4", "-o", str(tmp_path / "s.png")).returncode == 0

    # resuming reads the newest step checkpoint, and its pruning keeps the averaged one
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step-2", "step-4", "step-6"]
    resumed = invoke(
        "train", "--run-dir", str(run_dir), "--resume", "--steps", "8", "--set", "train.keep_last=1"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step-8"]
    assert folder.is_dir() and load_run(folder).step == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "5", "--to", "6"],
            r"averaging needs at least two checkpoints from step 5 to 6; .* holds steps",
        ),
        (["--from", "7"], r"averaging needs at least two checkpoints from step 7 to "),
    ],
)
def test_too_few_checkpoints_is_one_clear_line(run_dir, args, message):
    result = invoke("average", str(run_dir), *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert re.search(message, result.stderr)


def test_a_checkpoint_folder_or_a_missing_run_is_refused_in_one_line(run_dir, tmp_path):
    for path, message in (
        (run_dir / "checkpoints" / "step-2", "is a checkpoint folder; give the run directory"),
        (tmp_path / "nowhere", "does not exist"),
    ):
        result = invoke("average", str(path))
        assert result.returncode == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
