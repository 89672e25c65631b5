"""Checkpoints survive crashes and refuse to load anything unsafe or mismatched; training guards against NaNs.

The kill -9 test of a real training process is in test_kill.py; these tests reach the same states directly.
"""

from __future__ import annotations

import errno
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.api import load_run, train
from infogan.config import load_preset
from infogan.errors import CheckpointError, ConfigError
from infogan.models import build_model
from infogan.training import checkpoint as ckpt
from infogan.training.checkpoint import list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
from infogan.training.loop import TrainingDivergedError

from .conftest import TINY, invoke
from .test_models import batch, tiny_model


def quiet(_: str) -> None:
    pass


def rehash(path: Path, name: str) -> None:
    """Make the manifest match a tampered file, as a crafted checkpoint would."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256((path / name).read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))


def steps_logged(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# --- atomic writes: a crash between any two statements of a save or a prune ------------------------------------
class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so no handler in the code under test catches it."""


def crash_at_line(functions: set[str], n: int):
    """A trace function that raises Killed at the n-th line executed in any of `functions`."""
    seen = {"lines": 0}

    def local(frame, event, arg):
        if event == "line":
            seen["lines"] += 1
            if seen["lines"] == n:
                raise Killed
        return local

    def global_(frame, event, arg):
        return local if frame.f_code.co_name in functions else None

    return global_


def test_a_crash_at_any_line_of_a_save_or_prune_leaves_the_newest_complete_checkpoint_loadable(tmp_path):
    model = tiny_model("infogan")
    model.train_step(batch(), 0)
    crashes = 0
    for n in range(1, 500):
        folder = tmp_path / f"try-{n}"
        save_checkpoint(model, 1, folder, {})
        save_checkpoint(model, 2, folder, {})
        sys.settrace(crash_at_line({"save_checkpoint", "prune_checkpoints"}, n))
        try:
            save_checkpoint(model, 3, folder, {})
            prune_checkpoints(folder, keep_last=1)
            save_checkpoint(model, 3, folder, {})  # the same step again: the replace-in-place path
        except Killed:
            crashes += 1
        else:
            break
        finally:
            sys.settrace(None)
        found = list_checkpoints(folder)
        assert found, f"no complete checkpoint after a crash at line {n}"
        assert load_checkpoint(found[-1], tiny_model("infogan", seed=1))[0] in (2, 3)
        # the next save after the crash succeeds and is the newest
        save_checkpoint(model, 4, folder, {})
        assert list_checkpoints(folder)[-1].name == "step-4"
    assert crashes > 20  # every statement of both functions was a crash point


def test_retention_keeps_the_newest_and_removes_leftovers(tmp_path):
    model = tiny_model("infogan")
    for step in (1, 2, 3):
        save_checkpoint(model, step, tmp_path, {})
    (tmp_path / ".step-4.tmp").mkdir()  # an interrupted save
    prune_checkpoints(tmp_path, keep_last=1)
    assert [p.name for p in tmp_path.iterdir()] == ["step-3"]


def test_a_full_disk_is_one_clear_line_and_the_previous_checkpoint_survives(tmp_path, monkeypatch):
    model = tiny_model("infogan")
    previous = save_checkpoint(model, 1, tmp_path, {})

    def full(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", full)
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(model, 2, tmp_path, {})
    assert str(err.value) == (
        f"cannot write checkpoint {tmp_path / 'step-2'}: no space left on device; the previous checkpoints are intact"
    )
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["step-1"]
    assert load_checkpoint(previous, tiny_model("infogan", seed=1))[0] == 1


# --- exact resume -----------------------------------------------------------------------------------------------
def test_every_rng_is_saved_and_restored(tmp_path):
    model = tiny_model("infogan")
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    np.random.standard_normal()  # a cached Gaussian is part of numpy's state
    path = save_checkpoint(model, 0, tmp_path, {})
    before = (
        random.random(),
        np.random.standard_normal(3).tolist(),
        torch.rand(3),
        torch.rand(3, generator=model.rng),
    )
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    load_checkpoint(path, model)
    after = (
        random.random(),
        np.random.standard_normal(3).tolist(),
        torch.rand(3),
        torch.rand(3, generator=model.rng),
    )
    assert before[:2] == after[:2] and torch.equal(before[2], after[2]) and torch.equal(before[3], after[3])


# --- safe loading -------------------------------------------------------------------------------------------------
def test_a_pickled_payload_is_refused_and_never_runs(tmp_path):
    model = tiny_model("infogan")
    path = save_checkpoint(model, 0, tmp_path, {})
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "ran"))

    torch.save({"optimizers": {}, "rng": {}, "loop": Payload()}, path / "state.pt")
    rehash(path, "state.pt")
    with pytest.raises(CheckpointError, match=r"cannot read .*state\.pt: Weights only load failed"):
        load_checkpoint(path, model)
    assert not marker.exists()
    # proof that the payload is live: unrestricted unpickling runs it
    torch.load(path / "state.pt", weights_only=False)
    assert marker.read_text() == "ran"


def test_an_old_torch_is_refused_before_anything_is_read(tmp_path, monkeypatch):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    monkeypatch.setattr(ckpt.torch, "__version__", "2.5.1+cpu")
    with pytest.raises(CheckpointError, match=r"needs torch >= 2\.6 .*this is torch 2\.5\.1\+cpu"):
        load_checkpoint(path, tiny_model("infogan"))


@pytest.mark.parametrize("name", ["model.safetensors", "state.pt"])
def test_truncated_or_corrupt_files_are_refused(tmp_path, name):
    model = tiny_model("infogan")
    path = save_checkpoint(model, 0, tmp_path, {})
    data = (path / name).read_bytes()
    (path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CheckpointError, match=rf"{name} is missing or does not match its manifest \(truncated"
    ):
        load_checkpoint(path, model)
    (path / name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CheckpointError, match="does not match its manifest"):
        load_checkpoint(path, model)


def test_a_crafted_truncated_weights_file_with_a_matching_hash_is_refused(tmp_path):
    model = tiny_model("infogan")
    path = save_checkpoint(model, 0, tmp_path, {})
    (path / "model.safetensors").write_bytes((path / "model.safetensors").read_bytes()[:100])
    rehash(path, "model.safetensors")
    with pytest.raises(CheckpointError, match=r"cannot read weights .*model\.safetensors"):
        load_checkpoint(path, model)


@pytest.mark.parametrize(
    ("manifest_change", "message"),
    [
        ({"format_version": 99}, "has checkpoint format 99, this version of infogan reads formats 1, 2"),
        ({"files": {}}, "does not list the checkpoint's files"),
    ],
)
def test_manifest_format_and_contents_are_checked(tmp_path, manifest_change, message):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, **manifest_change}))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path, tiny_model("infogan"))


def test_non_finite_weights_are_never_written_nor_loaded(tmp_path):
    from safetensors.torch import save_file

    model = tiny_model("infogan")
    path = save_checkpoint(model, 0, tmp_path, {})
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    weights["G.fc.0.weight"][0, 0] = float("nan")
    save_file(weights, str(path / "model.safetensors"))
    rehash(path, "model.safetensors")
    with pytest.raises(CheckpointError, match=r"holds non-finite values in G\.fc\.0\.weight"):
        load_checkpoint(path, model)

    with torch.no_grad():
        model.G.fc[0].weight[0, 0] = float("inf")
    with pytest.raises(
        CheckpointError, match=r"refusing to write a checkpoint at step 1: .*G\.fc\.0\.weight"
    ):
        save_checkpoint(model, 1, tmp_path, {})
    assert not list(tmp_path.glob("*step-1*"))


@pytest.mark.parametrize(
    ("override", "shape", "message"),
    [
        ("model.latent.noise=9", (1, 8, 8), "model.latent.noise 4 in the checkpoint, 9 here"),
        (
            "model.latent.codes=[cat:10]",
            (1, 8, 8),
            r"model.latent.codes \['cat:10', 'uniform:2'\] in the checkpoint, \['cat:10'\] here",
        ),
        (None, (1, 16, 16), r"image_shape \[1, 8, 8\] in the checkpoint, \[1, 16, 16\] here"),
    ],
)
def test_a_checkpoint_of_another_model_is_refused_naming_the_difference(tmp_path, override, shape, message):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    other = build_model(load_preset("digits", [*TINY, *([override] if override else [])]).model, shape)
    with pytest.raises(CheckpointError, match=rf"was trained with a different model: {message}"):
        load_checkpoint(path, other)


def test_a_checkpoint_written_before_a_model_key_existed_loads_with_its_default(tmp_path):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"].pop("augment") == []
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert load_checkpoint(path, tiny_model("infogan"))[0] == 0
    augmented = tiny_model("infogan", extra=("model.augment=[translation]",))
    with pytest.raises(
        CheckpointError, match=r"model.augment \[\] in the checkpoint, \['translation'\] here"
    ):
        load_checkpoint(path, augmented)


def test_a_checkpoint_of_another_kind_of_model_names_the_kind(tmp_path):
    path = save_checkpoint(tiny_model("gan"), 0, tmp_path, {})
    with pytest.raises(
        CheckpointError, match=r"different model: model.name 'gan' in the checkpoint, 'infogan' here$"
    ):
        load_checkpoint(path, tiny_model("infogan"))


def test_a_missing_model_key_is_not_named_beside_a_real_difference(tmp_path):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["model"]["augment"], manifest["model"]["latent"]["noise_prior"]
    manifest["model"]["retired_option"] = 0.5  # a key this version no longer has
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError) as raised:
        load_checkpoint(path, tiny_model("infogan"))
    assert "model.retired_option 0.5 in the checkpoint, None here" in str(raised.value)
    assert "augment" not in str(raised.value) and "noise_prior" not in str(raised.value)


def test_a_format_1_checkpoint_without_a_config_is_still_checked_by_shape(tmp_path):
    path = save_checkpoint(tiny_model("infogan"), 0, tmp_path, {})
    manifest = json.loads((path / "manifest.json").read_text())
    for key in ("model", "image_shape"):
        del manifest[key]
    (path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}))
    wider = build_model(load_preset("digits", [*TINY, "model.latent.noise=9"]).model, (1, 8, 8))
    with pytest.raises(
        CheckpointError, match=r"G.fc.0.weight has shape \(32, 16\) in the checkpoint, \(32, 21\) here"
    ):
        load_checkpoint(path, wider)
    assert load_checkpoint(path, tiny_model("infogan"))[0] == 0


# --- training-health guards ---------------------------------------------------------------------------------------
def poison(monkeypatch, *, at_steps: set[int], times: int | None = None, where: str = "batch"):
    """Make the images of the given steps NaN (or a gradient, with where="grad"), the first `times` times."""
    from infogan.models.infogan import InfoGAN

    original = InfoGAN.train_step
    hits = {"n": 0}

    def train_step(self, batch_, step):
        if step in at_steps and (times is None or hits["n"] < times):
            hits["n"] += 1
            if where == "batch":
                batch_ = {**batch_, "x": torch.full_like(batch_["x"], float("nan"))}
            else:
                param = next(self.q_head.parameters())
                handle = param.register_hook(lambda g: torch.full_like(g, float("inf")))
                try:
                    return original(self, batch_, step)
                finally:
                    handle.remove()
        return original(self, batch_, step)

    monkeypatch.setattr(InfoGAN, "train_step", train_step)
    return hits


def test_a_nan_loss_stops_at_once_naming_the_loss_and_step_and_keeps_the_last_good_checkpoint(
    tiny_config, tmp_path, monkeypatch
):
    poison(monkeypatch, at_steps={4})
    with pytest.raises(TrainingDivergedError) as err:
        train(tiny_config, tmp_path / "run", progress=quiet)
    message = str(err.value)
    assert message.startswith("loss d_loss") and "became non-finite at step 5; stopped" in message
    assert "the last good checkpoint is" in message and message.endswith("or lower the learning rates)")
    checkpoints = list_checkpoints(tmp_path / "run" / "checkpoints")
    assert [p.name for p in checkpoints] == ["step-3"]
    assert load_run(tmp_path / "run").step == 3


def test_a_non_finite_gradient_is_caught_in_its_step_and_named(tiny_config, tmp_path, monkeypatch):
    poison(monkeypatch, at_steps={1}, where="grad")
    with pytest.raises(
        TrainingDivergedError,
        match=r"^gradient in .*q_head \(\d+ tensors?\) became non-finite at step 2; stopped",
    ):
        train(tiny_config, tmp_path / "run", progress=quiet)


def test_rollback_retries_from_the_last_checkpoint_with_a_new_seed(tiny_config, tmp_path, monkeypatch):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.on_nonfinite, cfg.train.log_every = "rollback", 1
    hits = poison(monkeypatch, at_steps={4}, times=1)
    lines: list[str] = []
    run = train(cfg, tmp_path / "run", progress=lines.append)
    assert hits["n"] == 1 and run.step == 6
    assert any(
        "became non-finite at step 5; rolled back to step 3 and retrying with training seed 1000003 (retry 1 of 3)"
        in line
        for line in lines
    )
    assert steps_logged(tmp_path / "run") == [1, 2, 3, 4, 5, 6]  # the failed attempt's rows are gone
    for path in list_checkpoints(tmp_path / "run" / "checkpoints"):
        load_checkpoint(path, tiny_model("infogan"))  # every checkpoint written is finite and loads


def test_the_clock_keeps_the_time_of_the_steps_a_rollback_threw_away(tiny_config, tmp_path, monkeypatch):
    # Training time only grows: a time budget counts the failed attempt too. The loop's clock moves 10 s per
    # reading, so the run that retried steps 4-5 has read it more often by the end than the one that did not.
    import types

    from infogan.training import loop

    clock = {"t": 0.0}

    def tick() -> float:
        clock["t"] += 10.0
        return clock["t"]

    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=tick))
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.on_nonfinite, cfg.train.log_every, cfg.train.evaluate = "rollback", 1, False

    def final_elapsed(run: str) -> float:
        rows = (tmp_path / run / "metrics.jsonl").read_text().splitlines()
        return float(json.loads(rows[-1])["elapsed_s"])

    train(cfg, tmp_path / "clean", progress=quiet)
    poison(monkeypatch, at_steps={4}, times=1)
    train(cfg, tmp_path / "retried", progress=quiet)
    assert final_elapsed("retried") >= final_elapsed("clean") + 20


def test_rollback_before_the_first_checkpoint_restarts_from_the_initial_weights(
    tiny_config, tmp_path, monkeypatch
):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.on_nonfinite = "rollback"
    poison(monkeypatch, at_steps={1}, times=1)
    lines: list[str] = []
    assert train(cfg, tmp_path / "run", progress=lines.append).step == 6
    assert any("rolled back to step 0" in line for line in lines)


def test_rollback_gives_up_after_max_retries(tiny_config, tmp_path, monkeypatch):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.on_nonfinite, cfg.train.max_retries = "rollback", 2
    hits = poison(monkeypatch, at_steps={4})
    with pytest.raises(
        TrainingDivergedError, match=r"became non-finite at step 5 after 2 retries \(train.max_retries=2\)"
    ):
        train(cfg, tmp_path / "run", progress=quiet)
    assert hits["n"] == 3


# --- user mistakes before any long work ---------------------------------------------------------------------------
def test_bad_run_directories_are_refused_in_one_line(tiny_config, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(
        ConfigError, match=r"cannot create the run directory .*a-file/run: .*a-file is a file"
    ):
        train(tiny_config, blocker / "run", progress=quiet)
    with pytest.raises(ConfigError, match=r"cannot use .*a-file as the run directory: it is a file"):
        train(tiny_config, blocker, progress=quiet)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match=r"notes is not empty and holds no run"):
        train(tiny_config, tmp_path / "notes", progress=quiet)
    assert (tmp_path / "notes" / "thesis.tex").read_text() == "precious"


def test_a_read_only_run_directory_is_refused(tiny_config, tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ConfigError, match=r"cannot write the run directory .*run: Read-only file system"):
        train(tiny_config, tmp_path / "run", progress=quiet)


def test_a_missing_data_root_is_refused_even_where_the_preset_downloads_and_never_created(tmp_path):
    # the mnist preset downloads and falls back to the sample: a mistyped root must not be created nor replaced
    missing = tmp_path / "typo" / "data"
    result = invoke("train", "--data-root", str(missing), "--run-dir", str(tmp_path / "r"), "--steps", "1")
    assert result.returncode == 2 and result.stderr.strip() == f"error: data root {missing} does not exist"
    assert not (tmp_path / "typo").exists() and not (tmp_path / "r").exists()


def test_a_missing_image_folder_or_eval_data_root_is_one_line(tmp_path, tiny_config):
    folder = invoke("train", "--dataset", f"folder:{tmp_path / 'none'}", "--run-dir", str(tmp_path / "r"))
    assert folder.returncode == 2, folder.stderr
    assert (
        folder.stderr.strip() == f"error: image folder {tmp_path / 'none'} does not exist or is not a folder"
    )
    train(tiny_config, tmp_path / "run", progress=quiet)
    result = invoke("eval", str(tmp_path / "run"), "--data-root", str(tmp_path / "nope"))
    assert (
        result.returncode == 2
        and result.stderr.strip() == f"error: data root {tmp_path / 'nope'} does not exist"
    )


def test_missing_data_root_is_one_line_before_work(tmp_path):
    result = invoke(
        "train", "--preset", "digits", "--data-root", str(tmp_path / "nope"), "--run-dir", str(tmp_path / "r")
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: data root {tmp_path / 'nope'} does not exist"
    assert not (tmp_path / "r").exists()


def test_resume_auto_starts_then_continues_and_refuses_another_config(tmp_path):
    run_dir = str(tmp_path / "run")
    sets = [f"--set={s}" for s in TINY if not s.startswith("train.")]
    first = invoke(
        "train", "--preset", "digits", *sets, "--run-dir", run_dir, "--steps", "3", "--resume", "auto"
    )
    assert first.returncode == 0, first.stderr
    assert "resuming" not in first.stderr and load_run(run_dir).step == 3
    again = invoke(
        "train", "--preset", "digits", *sets, "--run-dir", run_dir, "--steps", "6", "--resume", "auto"
    )
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr and load_run(run_dir).step == 6
    other = invoke(
        "train",
        "--preset",
        "digits",
        *sets,
        "--set",
        "model.latent.noise=5",
        "--run-dir",
        run_dir,
        "--resume",
        "auto",
    )
    assert other.returncode == 2
    assert other.stderr.strip().splitlines()[-1] == (
        f"error: cannot resume {run_dir}: it was started with model.latent.noise 4, this command gives 5; "
        "a resumed run keeps its config (the step budget, the logging and checkpoint schedule, threads, device "
        "and where the data is may change)"
    )
    bad = invoke("train", "--run-dir", run_dir, "--resume", "sometimes")
    assert bad.stderr.strip() == "error: --resume takes no value or 'auto', got 'sometimes'"


def test_resume_takes_flags_that_change_nothing_and_one_command_serves_both_modes(tmp_path):
    run_dir = str(tmp_path / "run")
    sets = [f"--set={s}" for s in TINY if not s.startswith("train.")]
    started = invoke(
        "train", "--preset", "digits", *sets, "--run-dir", run_dir, "--steps", "3", "--set", "train.threads=1"
    )
    assert started.returncode == 0, started.stderr
    # the values the run already has, typed again: the seed, the dataset, the device, the threads
    same = ["--seed", "0", "--dataset", "digits", "--device", "cpu", "--set", "train.threads=1"]
    again = invoke("train", "--run-dir", run_dir, "--resume", "--steps", "4", *same)
    assert again.returncode == 0, again.stderr
    assert load_run(run_dir).step == 4 and "note: train." not in again.stderr
    # the command line that started it, with --resume auto, continues it (its threads were not given this time)
    auto = invoke(
        "train", "--preset", "digits", *sets, "--run-dir", run_dir, "--steps", "5", "--resume", "auto"
    )
    assert auto.returncode == 0, auto.stderr
    assert load_run(run_dir).step == 5 and "note: train." not in auto.stderr
    # other threads are allowed, with a note that the run no longer repeats bit for bit
    threads = invoke("train", "--run-dir", run_dir, "--resume", "--steps", "6", "--set", "train.threads=2")
    assert threads.returncode == 0, threads.stderr
    assert "note: train.threads was 1 and is now 2: floating-point sums round differently" in threads.stderr
    # --device auto on a machine without CUDA is the CPU the run trained on: no note; with --no-eval the
    # eval.json of an earlier step is not reported as this run's
    auto_device = invoke(
        "train", "--run-dir", run_dir, "--resume", "--steps", "7", "--device", "auto", "--no-eval"
    )
    assert auto_device.returncode == 0, auto_device.stderr
    assert torch.cuda.is_available() or "note: train.device" not in auto_device.stderr
    assert "not evaluated" in auto_device.stderr and "(categorical, K=" not in auto_device.stderr
    other = invoke("train", "--run-dir", run_dir, "--resume", "--preset", "mnist")
    assert other.returncode == 2
    assert other.stderr.strip() == (
        f"error: cannot resume {run_dir} with --preset mnist: it was started with preset digits"
    )
    seed = invoke("train", "--run-dir", run_dir, "--resume", "--seed", "7")
    assert seed.returncode == 2 and "it was started with train.seed 0, this command gives 7" in seed.stderr


def test_the_collapse_check_logs_its_figures_and_warns_only_on_collapse(tiny_config, tmp_path, monkeypatch):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.log_every = 1
    lines: list[str] = []
    train(cfg, tmp_path / "healthy", progress=lines.append)
    rows = [json.loads(line) for line in (tmp_path / "healthy" / "metrics.jsonl").read_text().splitlines()]
    assert all({"vary_z", "vary_c1", "vary_c2", "vary_c3"} <= set(r) for r in rows)
    assert not [line for line in lines if "warning" in line]

    from infogan.models.infogan import InfoGAN

    # G's samples (not its training pass) made constant: what the probe sees of a collapsed generator
    monkeypatch.setattr(
        InfoGAN, "generate", lambda self, latent: torch.zeros(len(latent.z), *self.image_shape)
    )
    lines.clear()
    train(cfg, tmp_path / "collapsed", progress=lines.append)
    warnings = [line for line in lines if line.startswith("warning")]
    assert warnings == ["warning at step 1: G's output does not vary with z (vary_z 0 < 0.03)"]


def test_an_impossible_image_size_is_refused_before_the_folder_is_read(tiny_config, tmp_path, monkeypatch):
    from infogan.data import folder

    def no_scan(*args, **kwargs):
        raise AssertionError("the folder was read before the config was checked")

    monkeypatch.setattr(folder, "scan_folder", no_scan)
    cfg = tiny_config.model_copy(deep=True)
    cfg.data = cfg.data.model_copy(update={"name": f"folder:{tmp_path}", "image_size": 10, "channels": 1})
    with pytest.raises(
        ConfigError, match=rf"cannot build infogan for folder:{tmp_path}: image size must be a multiple"
    ):
        train(cfg, tmp_path / "run", progress=quiet)


def test_a_damaged_newest_checkpoint_names_the_newest_intact_one_and_how_to_use_it(tmp_path):
    run_dir = tmp_path / "run"
    sets = [f"--set={s}" for s in TINY if not s.startswith("train.")]
    done = invoke(
        "train",
        "--preset",
        "digits",
        *sets,
        "--run-dir",
        str(run_dir),
        "--steps",
        "4",
        "--checkpoint-every",
        "2",
    )
    assert done.returncode == 0, done.stderr
    newest, intact = run_dir / "checkpoints" / "step-4", run_dir / "checkpoints" / "step-2"
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    result = invoke("sample", str(run_dir), "-o", str(tmp_path / "s.png"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {weights} is missing or does not match its manifest")
    assert f"the newest intact checkpoint is {intact}: give that folder to the commands" in result.stderr
    assert invoke("sample", str(intact), "-o", str(tmp_path / "s.png")).returncode == 0
    resumed = invoke("train", "--run-dir", str(run_dir), "--resume", "--steps", "6")
    assert resumed.returncode == 2 and f"the newest intact checkpoint is {intact}" in resumed.stderr
    assert "(also for --resume)" in resumed.stderr


def test_a_run_whose_only_checkpoint_has_an_empty_manifest_says_so(tmp_path, tiny_config):
    train(tiny_config, tmp_path / "run", progress=quiet)
    for folder in (tmp_path / "run" / "checkpoints").glob("step-*"):
        (folder / "manifest.json").write_text("")
    with pytest.raises(
        CheckpointError,
        match=r"has no complete checkpoint: step-3, step-6 in .* have no readable manifest\.json",
    ):
        load_run(tmp_path / "run")


def test_zero_steps_is_refused_and_a_restart_from_step_0_drops_stale_tensorboard_files(tmp_path, tiny_config):
    result = invoke("train", "--preset", "digits", "--steps", "0", "--run-dir", str(tmp_path / "zero"))
    assert (
        result.returncode == 2
        and "--steps 0: train.steps: Input should be greater than or equal to 1" in (result.stderr)
    )
    assert not (tmp_path / "zero").exists()
    from infogan.training.logging import MetricsLog

    (tmp_path / "run").mkdir()
    stale = tmp_path / "run" / "events.out.tfevents.1.host.1.0"
    stale.write_bytes(b"an aborted start's events")
    MetricsLog(tmp_path / "run", resume_step=None).close()
    assert not stale.exists() and len(list((tmp_path / "run").glob("events.out.tfevents.*"))) == 1
    resumed = tmp_path / "run" / "events.out.tfevents.2.host.1.0"
    resumed.write_bytes(b"kept: a resume purges by step instead")
    MetricsLog(tmp_path / "run", resume_step=5).close()
    assert resumed.exists()
