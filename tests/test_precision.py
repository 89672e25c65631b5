"""Mixed precision: `train.precision` bf16 trains and resumes on CPU, fp16 is refused off CUDA, and the loss
scaler's path through `GenerativeModel.update` takes the same step as the unscaled one."""

from __future__ import annotations

import pytest
import torch

from infogan.api import load_run, train
from infogan.config import apply_overrides
from infogan.errors import ConfigError
from infogan.training import precision as precision_module
from infogan.training.precision import Precision, resolve_precision

from .test_models import batch, tiny_model


def quiet(_: str) -> None:
    pass


def test_fp16_is_refused_off_cuda_with_one_line():
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        Precision("fp16", torch.device("cpu"))


def test_bf16_autocasts_the_forward_passes_and_fp32_does_not():
    x = torch.randn(4, 8)
    w = torch.randn(8, 3)
    with Precision("bf16", torch.device("cpu")).autocast():
        assert (x @ w).dtype == torch.bfloat16
    with Precision("fp32", torch.device("cpu")).autocast():
        assert (x @ w).dtype == torch.float32


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, "bf16"),
        ({"avx2", "amx_bf16"}, "bf16"),
        ({"avx2", "avx512f"}, "fp32"),
    ],
)
def test_auto_is_bf16_only_on_a_cpu_that_computes_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: flags)
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == expected
    assert Precision("auto", cpu).name == expected
    assert [resolve_precision(name, cpu) for name in ("fp32", "bf16")] == ["fp32", "bf16"]  # given names stay


def test_an_auto_run_says_what_it_picked(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: {"avx512_bf16"})
    lines: list[str] = []
    cfg = apply_overrides(tiny_config, ["train.precision=auto", "train.threads=1", "eval.metrics=[codes]"])
    run = train(cfg, tmp_path / "auto", progress=lines.append)
    assert run.config.train.precision == "auto"  # the run records the choice, not the machine's answer
    assert any(line.startswith("run directory:") and line.endswith(", bf16 (auto))") for line in lines), lines


def test_a_bf16_run_trains_checkpoints_and_resumes_exactly(tiny_config, tmp_path):
    cfg = apply_overrides(tiny_config, ["train.precision=bf16", "train.threads=1", "eval.metrics=[codes]"])
    whole = train(cfg, tmp_path / "whole", progress=quiet)
    assert whole.config.train.precision == "bf16"
    assert all(torch.isfinite(p).all() for p in whole.model.parameters())
    fp32 = train(apply_overrides(cfg, ["train.precision=fp32"]), tmp_path / "fp32", progress=quiet)
    a, b = whole.model.state_dict(), fp32.model.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)  # bf16 really changed the arithmetic

    cut = apply_overrides(cfg, ["train.steps=3"])
    train(cut, tmp_path / "cut", progress=quiet)
    resumed = train(cfg, tmp_path / "cut", resume=True, progress=quiet)
    c = resumed.model.state_dict()
    assert all(torch.equal(a[k], c[k]) for k in a)
    assert load_run(tmp_path / "cut").config.train.precision == "bf16"


def test_loss_scaling_takes_the_unscaled_step():
    # A scale that is a power of two is undone exactly, so the scaled update equals the plain one.
    plain, scaled = tiny_model("infogan"), tiny_model("infogan")
    scaled.grad_scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    x = batch(seed=1)
    for model in (plain, scaled):
        model.train_step(x, 0)
    assert (
        scaled.grad_scaler.get_scale() == 2.0**10
    )  # no overflow (which would halve it), so no step was skipped
    a, b = plain.state_dict(), scaled.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.parametrize(
    ("name", "extra"),
    [("wgan", ()), ("gan", ("model.d_steps=2",)), ("infogan", ("model.g_steps=2",))],
    ids=["wgan-n_critic", "gan-d_steps", "infogan-g_steps"],
)
def test_loss_scaling_takes_every_step_of_a_model_that_steps_an_optimiser_twice(name, extra):
    # GradScaler refuses a second step of one optimiser before its update(): each step updates it
    plain, scaled = tiny_model(name, extra=extra), tiny_model(name, extra=extra)
    scaled.grad_scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    x = batch(8 * plain.real_batches_per_step, seed=1, shape=plain.image_shape)
    for model in (plain, scaled):
        model.train_step(x, 0)
    a, b = plain.state_dict(), scaled.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def needs_cuda(test):
    """Marked `cuda` (benchmarks/gpu_check.py selects them) and skipped where there is no CUDA device."""
    skip = pytest.mark.skipif(
        not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)"
    )
    return pytest.mark.cuda(skip(test))


@needs_cuda
def test_an_fp16_run_on_cuda_saves_its_scaler_and_resumes_exactly(tiny_config, tmp_path):
    cfg = apply_overrides(tiny_config, ["train.precision=fp16", "train.device=cuda", "eval.metrics=[codes]"])
    whole = train(cfg, tmp_path / "whole", progress=quiet)
    state = torch.load(tmp_path / "whole" / "checkpoints" / "step-6" / "state.pt", weights_only=True)
    assert "grad_scaler" in state["loop"]["precision"]
    train(apply_overrides(cfg, ["train.steps=3"]), tmp_path / "cut", progress=quiet)
    resumed = train(cfg, tmp_path / "cut", resume=True, progress=quiet)
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@needs_cuda
def test_a_run_trained_on_cuda_loads_and_samples_on_cpu(tiny_config, tmp_path):
    run = train(
        apply_overrides(tiny_config, ["train.device=cuda", "eval.metrics=[codes]"]),
        tmp_path / "r",
        progress=quiet,
    )
    on_cpu = load_run(tmp_path / "r", device="cpu")
    assert on_cpu.model.device.type == "cpu"
    a, b = run.model.state_dict(), on_cpu.model.state_dict()
    assert all(torch.equal(a[k].cpu(), b[k]) for k in a)
    assert on_cpu.sample(4).shape[0] == 4


@needs_cuda
def test_a_run_trained_on_cuda_resumes_on_cpu(tiny_config, tmp_path):
    cfg = apply_overrides(tiny_config, ["train.device=cuda", "train.steps=3", "eval.metrics=[codes]"])
    train(cfg, tmp_path / "r", progress=quiet)
    on_cpu = apply_overrides(tiny_config, ["train.device=cpu", "train.steps=5", "eval.metrics=[codes]"])
    assert train(on_cpu, tmp_path / "r", resume=True, progress=quiet).model.device.type == "cpu"


def test_a_generator_state_from_another_kind_of_device_gives_the_same_draws_on_every_resume():
    from infogan.training.checkpoint import _restore_generators, rng_states

    # a CUDA generator's state (Philox: seed and offset, 16 bytes) cannot be set on a CPU generator
    saved = {"rng": {**rng_states(), "model": torch.arange(16, dtype=torch.uint8)}}
    draws = []
    for _ in range(2):
        model = tiny_model("infogan")
        _restore_generators(model, saved)
        draws.append(torch.rand(4, generator=model.rng))
    assert torch.equal(draws[0], draws[1])
    assert not torch.equal(draws[0], torch.rand(4, generator=tiny_model("infogan").rng))
