"""The loop, checkpoints and resume."""

import json
import subprocess
import sys

import pytest
import torch

from infogan.api import load_run, train
from infogan.errors import CheckpointError, ConfigError
from infogan.runs.directory import RunDir
from infogan.training.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from infogan.training.loop import BatchSchedule

from .test_models import batch, tiny_model


def quiet(_: str) -> None:
    pass


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def losses(rows_):
    return [{k: v for k, v in r.items() if k not in ("images_per_s", "elapsed_s")} for r in rows_]


def test_the_api_names_are_functions_and_the_training_package_imports_every_way():
    # The README's import line must give the functions also after the training package was imported (as
    # `infogan.api` itself does), and that package must stay reachable by every form of import.
    code = (
        "import infogan.training.checkpoint\n"
        "from infogan import average, load_preset, train, load_run\n"
        "import infogan.api\n"
        "assert (train, average, load_run) == (infogan.api.train, infogan.api.average, infogan.api.load_run), train\n"
        "import infogan.training.loop as loop\n"
        "assert loop.Trainer is infogan.training.loop.Trainer\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_run_directory_contents(tiny_config, tmp_path):
    run = train(tiny_config, tmp_path / "run", progress=quiet)
    d = RunDir(tmp_path / "run")
    assert run.step == 6 and d.config.is_file() and d.eval.is_file()
    assert [r["step"] for r in rows(d.path)] == [2, 4, 6]
    assert {"d_loss", "g_loss", "info_loss", "mi_c1", "mi_c2", "mi_c3", "images_per_s", "elapsed_s"} <= set(
        rows(d.path)[0]
    )
    assert list(d.path.glob("events.out.tfevents.*"))
    assert sorted(p.name for p in d.samples.iterdir()) == ["step-3.png", "step-6.png"]
    assert [p.name for p in list_checkpoints(d.checkpoints)] == ["step-3", "step-6"]
    assert {p.name for p in (d.checkpoints / "step-6").iterdir()} == {
        "model.safetensors",
        "state.pt",
        "manifest.json",
    }
    assert all(d.traversal(c).is_file() for c in ("c1", "c2", "c3"))
    metrics = json.loads(d.eval.read_text())
    assert metrics["step"] == 6 and metrics["dataset"] == "digits" and metrics["n_eval"] == 300
    assert 0 <= metrics["codes"]["c1"]["accuracy"] <= 1
    assert metrics["codes"]["c1"]["mi_lower_bound"] <= metrics["codes"]["c1"]["entropy"] + 1e-6


def test_save_load_round_trip(tmp_path):
    model = tiny_model("infogan")
    model.train_step(batch(), 0)
    path = save_checkpoint(model, 1, tmp_path, {"count": 3})
    other = tiny_model("infogan", seed=5)
    step, loop_state = load_checkpoint(path, other)
    assert step == 1 and loop_state == {"count": 3}
    a, b = model.state_dict(), other.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(model.rng.get_state(), other.rng.get_state())
    # identical state -> identical next step
    la, lb = model.train_step(batch(seed=1), 1), other.train_step(batch(seed=1), 1)
    assert all(torch.equal(la[k], lb[k]) for k in la)


# N + N of 2N steps, a stop off the checkpoint schedule, and with augmentation's random draws
@pytest.mark.parametrize(("stop_at", "augment"), [(4, []), (5, []), (5, ["translation", "cutout"])])
def test_resume_equals_uninterrupted_run_bit_for_bit(tiny_config, tmp_path, stop_at, augment):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.steps, cfg.train.checkpoint_every, cfg.train.log_every = 8, 3, 1
    cfg.model.augment = augment
    full = train(cfg, tmp_path / "full", progress=quiet)

    calls = {"n": 0}

    def stop_early() -> bool:
        calls["n"] += 1
        return calls["n"] == stop_at

    part = train(cfg, tmp_path / "part", progress=quiet, should_stop=stop_early)
    assert part.step == stop_at and not (tmp_path / "part" / "eval.json").exists()
    resumed = train(cfg, tmp_path / "part", resume=True, progress=quiet)
    assert resumed.step == 8
    assert losses(rows(tmp_path / "part")) == losses(rows(tmp_path / "full"))
    elapsed = [r["elapsed_s"] for r in rows(tmp_path / "part")]
    assert elapsed == sorted(elapsed)  # training time carries over the interruption
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    for name in ("d", "g"):
        sa, sb = full.model.optimizers[name].state_dict(), resumed.model.optimizers[name].state_dict()
        assert all(torch.equal(sa["state"][i]["exp_avg"], sb["state"][i]["exp_avg"]) for i in sa["state"])


def test_resume_mid_log_window_keeps_the_window_average(tiny_config, tmp_path):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.steps, cfg.train.checkpoint_every, cfg.train.log_every = 6, 1, 4
    train(cfg, tmp_path / "full", progress=quiet)
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] == 2

    train(cfg, tmp_path / "part", progress=quiet, should_stop=stop_after_two)
    train(cfg, tmp_path / "part", resume=True, progress=quiet)
    assert losses(rows(tmp_path / "part")) == losses(rows(tmp_path / "full"))


def test_a_time_budget_ends_the_run_early_and_it_is_finished(tiny_config, tmp_path, monkeypatch):
    import types

    from infogan.training import loop

    clock = {"t": 0.0}

    def tick() -> float:  # every reading of the loop's clock moves it on by 10 s
        clock["t"] += 10.0
        return clock["t"]

    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=tick))
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.steps, cfg.train.log_every, cfg.train.checkpoint_every, cfg.train.minutes = 50, 5, 20, 1.0
    lines: list[str] = []
    run = train(cfg, tmp_path / "run", progress=lines.append)
    assert 1 <= run.step < 50 and run.finished
    assert f"time budget reached: 1 min of training at step {run.step}" in lines
    d = RunDir(tmp_path / "run")
    assert rows(d.path)[-1]["step"] == run.step and rows(d.path)[-1]["elapsed_s"] >= 60
    assert list_checkpoints(d.checkpoints)[-1].name == f"step-{run.step}"
    assert json.loads(d.eval.read_text())["step"] == run.step
    # resumed with the budget spent, it trains no further; with a larger budget, it goes on
    cfg.train.evaluate = False
    assert train(cfg, d.path, resume=True, progress=quiet).step == run.step
    cfg.train.minutes = 2.0
    longer = train(cfg, d.path, resume=True, progress=quiet)
    assert run.step < longer.step < 50 and longer.finished


def test_new_run_refuses_a_used_directory(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", progress=quiet)
    with pytest.raises(ConfigError, match="already holds a run; continue it with --resume"):
        train(tiny_config, tmp_path / "run", progress=quiet)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (
            "model",
            "lambda_cont",
            0.5,
            r"it was started with model\.lambda_cont 0\.1, this command gives 0\.5",
        ),
        ("train", "batch_size", 8, r"started with train\.batch_size 16, this command gives 8"),
        ("train", "steps", 3, "already at step 6; --steps must be at least that"),
    ],
)
def test_resume_refuses_a_changed_config(tiny_config, tmp_path, section, key, value, message):
    train(tiny_config, tmp_path / "run", progress=quiet)
    changed = tiny_config.model_copy(deep=True)
    setattr(getattr(changed, section), key, value)
    with pytest.raises(ConfigError, match=message):
        train(changed, tmp_path / "run", resume=True, progress=quiet)


def test_incomplete_checkpoints_are_ignored_and_refused(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", progress=quiet)
    ckpts = tmp_path / "run" / "checkpoints"
    (ckpts / "step-6" / "manifest.json").unlink()  # as if the save was cut before its manifest
    assert [p.name for p in list_checkpoints(ckpts)] == ["step-3"]
    assert load_run(tmp_path / "run").step == 3
    with pytest.raises(CheckpointError, match="not a complete checkpoint"):
        load_checkpoint(ckpts / "step-6", tiny_model("infogan"))


def test_batch_schedule_covers_each_epoch_once_and_depends_only_on_step():
    sched = BatchSchedule(10, 3, seed=0, device=torch.device("cpu"))
    epoch0 = torch.cat([sched.indices(s) for s in range(3)])
    assert len(set(epoch0.tolist())) == 9
    fresh = BatchSchedule(10, 3, seed=0, device=torch.device("cpu"))
    assert torch.equal(fresh.indices(4), sched.indices(4)) and torch.equal(fresh.indices(1), sched.indices(1))
    with pytest.raises(ConfigError, match="fewer than the batch size"):
        BatchSchedule(2, 3, seed=0, device=torch.device("cpu"))


def test_resume_drops_a_torn_metrics_line(tiny_config, tmp_path):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.steps = 4
    train(cfg, tmp_path / "run", progress=quiet)
    with (tmp_path / "run" / "metrics.jsonl").open("a") as fh:
        fh.write('{"step": 5, "d_lo')  # a write cut by a crash
    cfg.train.steps = 6
    train(cfg, tmp_path / "run", resume=True, progress=quiet)
    assert [r["step"] for r in rows(tmp_path / "run")] == [2, 4, 6]


def test_failed_start_leaves_no_run_directory(tiny_config, tmp_path):
    cfg = tiny_config.model_copy(deep=True)
    cfg.train.batch_size = 5000  # more than the 1,497 training digits
    with pytest.raises(ConfigError, match="fewer than the batch size"):
        train(cfg, tmp_path / "run", progress=quiet)
    assert not (tmp_path / "run").exists()


def test_no_eval_skips_only_the_evaluation_at_the_end(tmp_path):
    from .conftest import TINY, invoke

    sets = [f"--set={s}" for s in TINY]
    result = invoke("train", "--preset", "digits", *sets, "--run-dir", str(tmp_path / "r"), "--no-eval")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "r" / "eval.json").exists() and (tmp_path / "r" / "traversal-c1.png").is_file()
    assert f"not evaluated: infogan eval {tmp_path / 'r'} evaluates it" in result.stderr
    # --no-eval is this command's, not the run's: resuming evaluates, and says the run was already finished
    assert "evaluate: true" in (tmp_path / "r" / "config.yaml").read_text()
    resumed = invoke("train", "--run-dir", str(tmp_path / "r"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "the run has already finished its 6 steps; nothing to train" in resumed.stderr
    assert (tmp_path / "r" / "eval.json").is_file()
