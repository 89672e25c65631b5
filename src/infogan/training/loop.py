"""The generic training loop: batches in, `model.train_step` out; logs, samples and checkpoints on schedule.

The model owns the maths (arXiv:1606.03657's update lives in models/infogan.py); the loop owns the bookkeeping.
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from infogan.config import TrainConfig
from infogan.data import ImageTensorDataset
from infogan.errors import ConfigError, InfoganError
from infogan.helpers import ProgressFn
from infogan.models import GenerativeModel
from infogan.training.checkpoint import load_checkpoint, prune_checkpoints, save_checkpoint
from infogan.training.collapse import CollapseProbe
from infogan.training.logging import MetricsLog, progress_line
from infogan.training.run_dir import RunDir
from infogan.viz.grids import preview_latent, save_grid


class TrainingDivergedError(InfoganError):
    """A loss became NaN or infinite."""


class BatchSchedule:
    """Which images form the batch of each step: a fresh permutation per epoch, derived from (seed, epoch).

    The order depends only on the step number, so a resumed run sees exactly the batches it would have seen.
    """

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device) -> None:
        if n < batch_size:
            raise ConfigError(
                f"the dataset has {n} training images, fewer than the batch size {batch_size}; "
                "lower train.batch_size"
            )
        self.n, self.batch_size, self.seed, self.device = n, batch_size, seed, device
        self.per_epoch = n // batch_size  # the last partial batch of each epoch is dropped
        self._epoch = -1
        self._perm = torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.n, generator=g).to(self.device)
            self._epoch = epoch
        return self._perm[i * self.batch_size : (i + 1) * self.batch_size]


def nonfinite_in_step(model: GenerativeModel, out: dict[str, Tensor]) -> str | None:
    """What went non-finite in the step that produced `out`: its losses, then the gradients it left behind.

    One host sync per step. Gradients are those of each optimiser's last backward pass (every model clears them
    before its backward, not after), so a NaN gradient is caught in the step that made it, before it can spread
    through the next update.
    """
    values = torch.stack([v.detach().float().reshape(()) for v in out.values()])
    params = [(n, p) for n, p in model.named_parameters() if p.grad is not None]
    norms = list(torch._foreach_norm([p.grad for _, p in params])) if params else []  # type: ignore[misc]
    if bool(torch.isfinite(torch.cat([values, torch.stack(norms)]) if norms else values).all()):
        return None
    bad = [k for k, v in zip(out, values, strict=True) if not math.isfinite(float(v))]
    if bad:
        return f"loss {', '.join(bad)}"
    per_module = Counter(
        name.split(".")[0]
        for (name, _), norm in zip(params, norms, strict=True)
        if not math.isfinite(float(norm))
    )
    return "gradient in " + ", ".join(
        f"{m} ({n} tensor{'s' if n > 1 else ''})" for m, n in per_module.items()
    )


class Trainer:
    """Runs `model.train_step` for `cfg.steps` updates, writing into `run`.

    At every log step the collapse detector (`CollapseProbe`) measures how much G's output varies with z and
    with each code; the figures go to the metrics log and a collapse is reported as a warning.

    After every step the losses and gradients are checked (`nonfinite_in_step`); a non-finite one is handled by
    `cfg.on_nonfinite`: "stop" raises `TrainingDivergedError` with the last good checkpoint kept, "rollback"
    reloads that checkpoint (the initial weights if there is none yet) and continues with a new training seed,
    at most `cfg.max_retries` times.

    Args:
        model: a model on its device, already seeded.
        data: the training split, on the same device.
        cfg: budget and schedule.
        run: the run directory.
        progress: receives one line per log step.
        should_stop: polled after every step; when it returns True the loop checkpoints and returns early.
    """

    def __init__(
        self,
        model: GenerativeModel,
        data: ImageTensorDataset,
        cfg: TrainConfig,
        run: RunDir,
        *,
        progress: ProgressFn = print,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.model, self.data, self.cfg, self.run = model, data, cfg, run
        self.progress, self.should_stop = progress, should_stop
        # Categorical codes' L_I, and their agreement on real images under the consistency term, are bounded by H(c).
        self.ceilings = {
            f"{prefix}{c.name}": c.entropy
            for c in model.latent.codes
            if c.is_categorical
            for prefix in ("mi_", "mi_real_")
        }
        self.images_per_step = cfg.batch_size * model.real_batches_per_step
        self.schedule = BatchSchedule(len(data), self.images_per_step, cfg.seed, model.device)

    def fit(self, resume_from: Path | None = None) -> int:
        """Train from scratch or from a checkpoint; return the number of completed steps."""
        model, cfg = self.model, self.cfg
        start, loop_state = load_checkpoint(resume_from, model) if resume_from else (0, {})
        # The rollback target before the first checkpoint: the initial weights and (empty) optimiser state, copied
        # only when the policy can roll back.
        initial = _snapshot(model) if cfg.on_nonfinite == "rollback" and not resume_from else None
        retries: int = loop_state.get("retries", 0)
        sums: dict[str, Tensor] = loop_state.get("sums", {})
        count: int = loop_state.get("count", 0)
        # Training time of earlier sessions of this run, so elapsed_s counts across resumes.
        elapsed_before: float = loop_state.get("elapsed_s", 0.0)
        preview, preview_cols = preview_latent(model.latent, cfg.seed, device=model.device)
        probe = self._collapse_probe()
        flagged: list[str] = []
        log = MetricsLog(self.run.path, resume_step=start if resume_from else None)
        model.train()
        step, started, window_start, window_step = start, time.perf_counter(), time.perf_counter(), start
        try:
            while step < cfg.steps:
                out = model.train_step(self.data.batch(self.schedule.indices(step)), step)
                problem = nonfinite_in_step(model, out)
                if problem is not None:
                    retries += 1
                    where = f"{problem} became non-finite at step {step + 1}"
                    if cfg.on_nonfinite == "stop" or retries > cfg.max_retries:
                        raise TrainingDivergedError(self._diverged_message(where, retries))
                    step, loop_state = self._roll_back(initial, retries)
                    sums, count = loop_state.get("sums", {}), loop_state.get("count", 0)
                    elapsed_before = loop_state.get("elapsed_s", elapsed_before)
                    log.close()
                    log = MetricsLog(self.run.path, resume_step=step)
                    self.progress(
                        f"{where}; rolled back to step {step} and retrying with training seed "
                        f"{_retry_seed(cfg.seed, retries)} (retry {retries} of {cfg.max_retries})"
                    )
                    start = window_step = step
                    started = window_start = time.perf_counter()
                    continue
                for key, value in out.items():
                    sums[key] = sums[key] + value if key in sums else value.clone()
                count += 1
                step += 1
                final = step == cfg.steps
                if step % cfg.log_every == 0 or final:
                    # The one host sync of a log window besides the health check: losses stayed on the device.
                    values = {k: float(v) / count for k, v in sums.items()}
                    now = time.perf_counter()
                    ips = (step - window_step) * self.images_per_step / max(now - window_start, 1e-9)
                    eta = (cfg.steps - step) * (now - started) / max(step - start, 1)
                    elapsed = elapsed_before + now - started
                    health = probe.check(model) if probe is not None else None
                    extra = health.as_metrics() if health is not None else {}
                    log.write(step, {**values, **extra, "images_per_s": ips, "elapsed_s": elapsed})
                    self.progress(progress_line(step, cfg.steps, values, ips, eta, self.ceilings))
                    if health is not None:
                        flagged = self._report_collapse(health.flags, flagged, step)
                    sums, count, window_start, window_step = {}, 0, now, step
                if step % cfg.sample_every == 0 or final:
                    save_grid(model.generate(preview), self.run.samples / f"step-{step}.png", preview_cols)
                stop = self.should_stop()
                if step % cfg.checkpoint_every == 0 or final or stop:
                    elapsed = elapsed_before + time.perf_counter() - started
                    state = {"sums": sums, "count": count, "elapsed_s": elapsed, "retries": retries}
                    save_checkpoint(model, step, self.run.checkpoints, state)
                    prune_checkpoints(self.run.checkpoints, cfg.keep_last)
                if stop:
                    self.progress(f"stopped at step {step}; resume with --resume")
                    break
        finally:
            log.close()
        return step

    def _report_collapse(self, flags: list[str], before: list[str], step: int) -> list[str]:
        """Say when the collapse detector's flags appear or change, and when they clear; return the new flags."""
        if flags != before:
            for flag in flags:
                self.progress(f"warning at step {step}: {flag}")
            if before and not flags:
                self.progress(f"step {step}: G's output varies with z and every code again")
        return flags

    def _collapse_probe(self) -> CollapseProbe | None:
        """The collapse detector's fixed probe, scaled by the first 64 training images (None when disabled)."""
        if not self.cfg.collapse_check:
            return None
        real = self.data.batch(torch.arange(min(64, len(self.data)), device=self.model.device))["x"]
        return CollapseProbe(self.model, real, seed=self.cfg.seed)

    def _roll_back(self, initial: dict[str, Any] | None, retries: int) -> tuple[int, dict[str, Any]]:
        """Restore the newest complete checkpoint (or `initial`) and reseed the training generator."""
        newest = self.run.latest_checkpoint()
        if newest is not None:
            step, loop_state = load_checkpoint(newest, self.model)
        elif initial is not None:
            _restore(self.model, initial)
            step, loop_state = 0, {}
        else:  # resumed from a checkpoint that has since disappeared
            raise TrainingDivergedError(f"no checkpoint left in {self.run.checkpoints} to roll back to")
        self.model.seed(_retry_seed(self.cfg.seed, retries))
        return step, loop_state

    def _diverged_message(self, where: str, retries: int) -> str:
        newest = self.run.latest_checkpoint()
        kept = f"the last good checkpoint is {newest}" if newest else "no checkpoint had been written yet"
        if self.cfg.on_nonfinite == "rollback":
            return f"{where} after {retries - 1} retries (train.max_retries={self.cfg.max_retries}); {kept}"
        return (
            f"{where}; stopped, {kept} (set train.on_nonfinite=rollback to retry from it with a new seed, "
            "or lower the learning rates)"
        )


def _retry_seed(seed: int, retries: int) -> int:
    """The training seed of the `retries`-th retry: distinct from the run's seed and from other retries."""
    return seed + 1_000_003 * retries


def _snapshot(model: GenerativeModel) -> dict[str, Any]:
    return {
        "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimizers": {name: copy.deepcopy(opt.state_dict()) for name, opt in model.optimizers.items()},
    }


def _restore(model: GenerativeModel, snapshot: dict[str, Any]) -> None:
    model.load_state_dict(snapshot["weights"])
    for name, opt in model.optimizers.items():
        opt.load_state_dict(copy.deepcopy(snapshot["optimizers"][name]))
