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
from infogan.errors import ConfigError
from infogan.latent import Code
from infogan.metrics.mutual_info import mi_lower_bounds
from infogan.models import MODELS
from infogan.runs.averaging import MI_DROP_WARNING, mi_drop_warnings, recompute_norm_statistics
from infogan.training.checkpoint import list_checkpoints

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
    assert averaged.step == 6 and averaged.averaged_steps == [2, 4, 6]
    written = load_file(str(run_dir / "checkpoints/average-2-6/model.safetensors"))
    for key, value in averaged.model.state_dict().items():  # the file holds the recomputed statistics too
        assert torch.equal(written[key], value), key


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


def test_average_reports_l_i_of_the_newest_checkpoint_and_of_the_average_on_the_same_draws(run_dir):
    lines: list[str] = []
    averaged = average(run_dir, first=2, calibration_images=64, check_samples=600, progress=lines.append)
    newest = load_run(run_dir / "checkpoints" / "step-6").model
    before, after = (
        mi_lower_bounds(
            m,
            600,
            batch_size=averaged.config.eval.batch_size,  # the draws `infogan eval` makes
            generator=torch.Generator().manual_seed(averaged.config.eval.seed),
        )
        for m in (newest, averaged.model)
    )
    assert before != after
    expected = ", ".join(f"{c} {before[c]:.4f} -> {after[c]:.4f}" for c in ("c1", "c2", "c3"))
    assert f"L_I over 600 samples, step 6 -> average: {expected}" in lines

    lines.clear()
    average(run_dir, first=2, calibration_images=64, check_samples=0, progress=lines.append)
    assert not [line for line in lines if "L_I" in line]


def test_only_a_categorical_code_losing_more_than_the_margin_is_warned_about():
    codes = [Code("c1", "categorical", 10), Code("c2", "uniform"), Code("c3", "categorical", 4)]
    before = {"c1": 2.298, "c2": 1.70, "c3": 1.38}
    assert mi_drop_warnings(codes, before, {"c1": 2.150, "c2": 1.20, "c3": 1.39}) == [
        "warning: averaging lowered L_I(c1) by 0.148 nats; its categories moved within the range averaged and the "
        "average may blend them: check it with `infogan eval`, or average a shorter range (--from, --to)"
    ]
    just_inside = {"c1": 2.298 - MI_DROP_WARNING + 0.001, "c2": 0.0, "c3": 1.38 - MI_DROP_WARNING - 0.001}
    assert [w.split(";")[0] for w in mi_drop_warnings(codes, before, just_inside)] == [
        "warning: averaging lowered L_I(c3) by 0.051 nats"
    ]


def norm_inputs(norm: nn.Module) -> list[torch.Tensor]:
    """Record what a batch-norm layer reads on every call."""
    seen: list[torch.Tensor] = []
    norm.register_forward_pre_hook(lambda _module, inputs: seen.append(inputs[0].clone()))
    return seen


def test_statistics_are_the_mean_over_the_passes_of_training_steps_each_layer_sees():
    model = tiny_model("infogan").eval()
    images = torch.rand(64 + 5, 1, 8, 8) * 2 - 1  # four batches of 16 and five images left out
    q_norm = next(m for m in model.q_head.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
    layers = {"trunk": first_norm(model.trunk), "q_head": q_norm, "G": first_norm(model.G)}
    seen = {name: norm_inputs(norm) for name, norm in layers.items()}
    assert recompute_norm_statistics(model, images, batch_size=16) == sum(
        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()
    )
    # per batch: G draws the fakes once; the trunk reads the real batch and the fakes twice; Q only the fakes, twice
    assert {name: len(x) for name, x in seen.items()} == {"trunk": 12, "q_head": 8, "G": 4}
    for name, norm in layers.items():
        dims = [0, *range(2, seen[name][0].dim())]
        # PyTorch's cumulative statistics: the mean of the batches' means and of their unbiased variances
        torch.testing.assert_close(norm.running_mean, torch.stack([x.mean(dims) for x in seen[name]]).mean(0))
        torch.testing.assert_close(norm.running_var, torch.stack([x.var(dims) for x in seen[name]]).mean(0))
    assert not model.training and layers["trunk"].momentum == 0.1  # mode and momentum as before


def test_a_failed_recomputation_leaves_the_statistics_as_they_were(monkeypatch):
    model = tiny_model("infogan")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    calls = {"n": 0}
    original = type(model).calibration_step

    def failing(self, real):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("out of memory")
        original(self, real)

    monkeypatch.setattr(type(model), "calibration_step", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        recompute_norm_statistics(model, torch.rand(32, 1, 8, 8), batch_size=16)
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    assert model.training and first_norm(model.trunk).momentum == 0.1


def test_fewer_images_than_a_batch_is_a_clear_error():
    with pytest.raises(ConfigError, match="at least one batch of 16 images, got 15"):
        recompute_norm_statistics(tiny_model("infogan"), torch.rand(15, 1, 8, 8), batch_size=16)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_recomputes_its_statistics_or_says_it_does_not(name):
    model = tiny_model(name)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    before = [m.running_mean.clone() for m in norms]
    layers = recompute_norm_statistics(model, torch.rand(32, *model.image_shape) * 2 - 1, batch_size=16)
    assert model.can_recalibrate == (name in {"infogan", "infogan-cr", "gan", "wgan"})
    assert layers == (len(norms) if model.can_recalibrate else 0)
    for norm, mean in zip(norms, before, strict=True):
        assert torch.equal(norm.running_mean, mean) != bool(layers), norm


def test_the_cli_writes_a_checkpoint_that_eval_and_sample_take_and_training_leaves_alone(run_dir, tmp_path):
    run_dir = shutil.copytree(run_dir, tmp_path / "run")
    result = invoke(
        "average",
        str(run_dir),
        "--from",
        "2",
        "--to",
        "4",
        "--calibration-images",
        "64",
        "--check-samples",
        "200",
    )
    assert result.returncode == 0, result.stderr
    assert "averaging 2 checkpoints, steps 2 to 4" in result.stderr
    assert "L_I over 200 samples, step 4 -> average: c1 " in result.stderr
    folder = run_dir / "checkpoints" / "average-2-4"
    assert load_run(folder).step == 4

    out = invoke("eval", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    assert {k: json.loads(out.stdout)[k] for k in ("step", "averaged_steps")} == {
        "step": 4,
        "averaged_steps": [2, 4],
    }
    sampled = invoke("sample", str(folder), "-n", "4", "-o", str(tmp_path / "s.png"))
    assert sampled.returncode == 0 and "from the average of steps 2-4 to" in sampled.stderr
    traversed = invoke("traverse", str(folder), "-o", str(tmp_path / "t.png"))
    assert "at the average of steps 2-4 to" in traversed.stderr
    assert invoke("eval", str(folder), "--metrics", "codes").stdout.startswith("the average of steps 2-4, ")
    # a report is of the whole run: it says so, and --evaluate does not overwrite the run's eval.json with it
    (run_dir / "eval.json").write_text('{"step": 6}')
    reported = invoke("report", str(folder), "-o", str(tmp_path / "r.html"))
    assert reported.returncode == 0 and f"note: a report covers the whole run {run_dir}" in reported.stderr
    refused = invoke("report", str(folder), "--evaluate")
    assert refused.returncode == 2 and f"to evaluate {folder}, use: infogan eval {folder}" in refused.stderr
    assert (run_dir / "eval.json").read_text() == '{"step": 6}'

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
        (["--from", "6", "--to", "4"], r"--from 6 is after --to 4"),
        (
            ["--calibration-images", "15"],
            r"takes at least one batch of 16 training images; --calibration-images is 15",
        ),
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
