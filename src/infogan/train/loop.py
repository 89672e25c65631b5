"""The generic training loop: batches in, `model.train_step` out; logs, samples and checkpoints on schedule.

The model owns the maths (arXiv:1606.03657's update lives in models/infogan.py); the loop owns the bookkeeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from infogan.config import TrainConfig
from infogan.data import ImageTensorDataset
from infogan.errors import ConfigError, InfoganError
from infogan.models import GenerativeModel
from infogan.train.checkpoint import load_checkpoint, prune_checkpoints, save_checkpoint
from infogan.train.logging import MetricsLog, ProgressFn, progress_line
from infogan.train.run_dir import RunDir
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


class Trainer:
    """Runs `model.train_step` for `cfg.steps` updates, writing into `run`.

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
        self.ceilings = {f"mi_{c.name}": c.entropy for c in model.latent.codes if c.is_categorical}
        self.images_per_step = cfg.batch_size * model.real_batches_per_step
        self.schedule = BatchSchedule(len(data), self.images_per_step, cfg.seed, model.device)

    def fit(self, resume_from: Path | None = None) -> int:
        """Train from scratch or from a checkpoint; return the number of completed steps."""
        model, cfg = self.model, self.cfg
        start, loop_state = load_checkpoint(resume_from, model) if resume_from else (0, {})
        sums: dict[str, Tensor] = loop_state.get("sums", {})
        count: int = loop_state.get("count", 0)
        # Training time of earlier sessions of this run, so elapsed_s counts across resumes.
        elapsed_before: float = loop_state.get("elapsed_s", 0.0)
        preview, preview_cols = preview_latent(model.latent, cfg.seed, device=model.device)
        log = MetricsLog(self.run.path, resume_step=start if resume_from else None)
        model.train()
        step, started, window_start, window_step = start, time.perf_counter(), time.perf_counter(), start
        try:
            while step < cfg.steps:
                out = model.train_step(self.data.batch(self.schedule.indices(step)), step)
                for key, value in out.items():
                    sums[key] = sums[key] + value if key in sums else value.clone()
                count += 1
                step += 1
                final = step == cfg.steps
                if step % cfg.log_every == 0 or final:
                    # The one host sync of a log window: losses stayed on the device until now.
                    values = {k: float(v) / count for k, v in sums.items()}
                    now = time.perf_counter()
                    ips = (step - window_step) * self.images_per_step / max(now - window_start, 1e-9)
                    eta = (cfg.steps - step) * (now - started) / max(step - start, 1)
                    self._check_finite(values, step)
                    elapsed = elapsed_before + now - started
                    log.write(step, {**values, "images_per_s": ips, "elapsed_s": elapsed})
                    self.progress(progress_line(step, cfg.steps, values, ips, eta, self.ceilings))
                    sums, count, window_start, window_step = {}, 0, now, step
                if step % cfg.sample_every == 0 or final:
                    save_grid(model.generate(preview), self.run.samples / f"step-{step}.png", preview_cols)
                stop = self.should_stop()
                if step % cfg.checkpoint_every == 0 or final or stop:
                    self._check_finite({k: float(v) for k, v in sums.items()}, step)
                    elapsed = elapsed_before + time.perf_counter() - started
                    state = {"sums": sums, "count": count, "elapsed_s": elapsed}
                    save_checkpoint(model, step, self.run.checkpoints, state)
                    prune_checkpoints(self.run.checkpoints, cfg.keep_last)
                if stop:
                    self.progress(f"stopped at step {step}; resume with --resume")
                    break
        finally:
            log.close()
        return step

    @staticmethod
    def _check_finite(values: dict[str, float], step: int) -> None:
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            raise TrainingDivergedError(
                f"{', '.join(bad)} became non-finite by step {step}; no checkpoint was "
                "written for it (the previous one is intact)"
            )
