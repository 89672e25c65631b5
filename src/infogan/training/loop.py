"""The generic training loop: batches in, `model.train_step` out; logs, samples and checkpoints on schedule.

The model owns the maths (arXiv:1606.03657's update lives in models/infogan.py); the loop owns the bookkeeping.
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from infogan.config import TrainConfig
from infogan.data import ImageTensorDataset
from infogan.errors import ConfigError, InfoganError
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn
from infogan.training.checkpoint import (
    branch_from_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from infogan.training.distributed import (
    StepFlags,
    World,
    all_equal,
    gather_generator_states,
    gradient_averager,
    rank_seed,
)
from infogan.training.logging import MetricsLog, progress_line
from infogan.training.precision import Precision


class TrainingDivergedError(InfoganError):
    """A loss became NaN or infinite."""


class BatchSchedule:
    """Which images form the batch of each step: a fresh permutation per epoch, derived from (seed, epoch).

    The order depends only on the step number, so a resumed run sees exactly the batches it would have seen. In a
    data-parallel run the global batch of a step is `world` x `batch_size` images and rank r takes the r-th share,
    so N ranks together see exactly the batches one process with batch N x `batch_size` would.
    """

    def __init__(
        self, n: int, batch_size: int, seed: int, device: torch.device, *, rank: int = 0, world: int = 1
    ) -> None:
        if n < batch_size * world:
            size = (
                f"global batch size {batch_size * world} ({world} ranks x {batch_size})" if world > 1 else ""
            )
            raise ConfigError(
                f"the dataset has {n} training images, fewer than the {size or f'batch size {batch_size}'}; "
                "lower train.batch_size"
            )
        self.n, self.batch_size, self.seed, self.device = n, batch_size, seed, device
        self.offset, self.global_batch = rank * batch_size, batch_size * world
        self.per_epoch = n // self.global_batch  # the last partial batch of each epoch is dropped
        self._epoch = -1
        self._perm = torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.n, generator=g).to(self.device)
            self._epoch = epoch
        start = i * self.global_batch + self.offset
        return self._perm[start : start + self.batch_size]


def nonfinite_in_step(
    model: GenerativeModel, out: dict[str, Tensor], *, gradients: bool = True
) -> str | None:
    """What went non-finite in the step that produced `out`: its losses, then (with `gradients`) the gradients it
    left behind.

    One host sync per step. Gradients are those of each optimiser's last backward pass (every model clears them
    before its backward, not after), so a NaN gradient is caught in the step that made it, before it can spread
    through the next update. Under fp16 the gradient scaler handles overflowing gradients itself (it skips that
    optimiser step and lowers the scale), so only the losses are checked.
    """
    values = torch.stack([v.detach().float().reshape(()) for v in out.values()])
    params = [(n, p) for n, p in model.named_parameters() if p.grad is not None] if gradients else []
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


class RunFolder(Protocol):
    """Where a run is written, as much of it as training needs: the run directory `path` (the metrics log and
    TensorBoard events), its `config` file, and its `checkpoints` and `samples` folders. The library passes an
    `infogan.runs.directory.RunDir`, whose module owns the layout; training sits below it and takes the folder
    as given."""

    @property
    def path(self) -> Path: ...

    @property
    def config(self) -> Path: ...

    @property
    def checkpoints(self) -> Path: ...

    @property
    def samples(self) -> Path: ...

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint folder, or None."""
        ...


class Callback(Protocol):
    """Something the loop does besides training, on its events (minGPT's callback pattern). A subclass inherits
    a no-op for each hook it does not define; a class outside the training layer (viz's sample grids) defines all
    four instead of importing this one.

    `log_values` runs at each log step before the row is written and returns values to add to it; `on_log` runs
    after the row and its progress line; `on_step_end` after every completed step.
    """

    def on_fit_start(self, trainer: Trainer, step: int) -> None:
        """Training starts, or resumes, at `step`; `trainer` holds the model, data, config and run directory."""
        return None

    def log_values(self, step: int) -> dict[str, float]:
        """Values to add to the log row of `step`."""
        return {}

    def on_log(self, step: int) -> None:
        """The log row of `step` has been written and printed."""
        return None

    def on_step_end(self, step: int, final: bool) -> None:
        """Step `step` is done (`final`: the last of the budget)."""
        return None


class Trainer:
    """Runs `model.train_step` for `cfg.steps` updates (or until `cfg.minutes` of training), writing into `run`: the metrics log and progress lines at
    every log step, checkpoints on schedule, and whatever its callbacks add (sample grids, the collapse detector).

    After every step the losses and gradients are checked (`nonfinite_in_step`); a non-finite one is handled by
    `cfg.on_nonfinite`: "stop" raises `TrainingDivergedError` with the last good checkpoint kept, "rollback"
    reloads that checkpoint (the initial weights if there is none yet) and continues with a new training seed,
    at most `cfg.max_retries` times.

    Args:
        model: a model on its device, already seeded.
        data: the training split, on the same device.
        cfg: budget and schedule.
        run: where the run is written (a `RunFolder`).
        progress: receives one line per log step.
        should_stop: polled after every step; when it returns True the loop checkpoints and returns early.
        callbacks: called on the loop's events, in order.
        world: this process's rank among the ranks of a data-parallel run (training/distributed.py); only rank 0
            writes logs and checkpoints and runs the callbacks, every rank takes part in the per-step agreement.
    """

    def __init__(
        self,
        model: GenerativeModel,
        data: ImageTensorDataset,
        cfg: TrainConfig,
        run: RunFolder,
        *,
        progress: ProgressFn = print,
        should_stop: Callable[[], bool] = lambda: False,
        callbacks: Sequence[Callback] = (),
        world: World = World(),
    ) -> None:
        self.model, self.data, self.cfg, self.run, self.world = model, data, cfg, run, world
        self.progress, self.should_stop = progress, should_stop
        self.finished = False
        self.callbacks = list(callbacks) if world.is_main else []
        if world.distributed:
            if cfg.on_nonfinite == "rollback":
                raise ConfigError(
                    "train.on_nonfinite rollback is not supported in a data-parallel run; use stop and --resume"
                )
            model.sync_gradients = gradient_averager(world)
        self.flags = StepFlags(world, model.device)
        # Categorical codes' L_I, and their agreement on real images under the consistency term, are bounded by H(c).
        self.ceilings = {
            f"{prefix}{c.name}": c.entropy
            for c in model.latent.codes
            if c.is_categorical
            for prefix in ("mi_", "mi_real_")
        }
        self.images_per_step = cfg.batch_size * model.real_batches_per_step
        self.precision = Precision(cfg.precision, model.device)
        model.grad_scaler = self.precision.scaler
        self.schedule = BatchSchedule(
            len(data), self.images_per_step, cfg.seed, model.device, rank=world.rank, world=world.size
        )

    def fit(self, resume_from: Path | None = None, *, branch_from: Path | None = None) -> int:
        """Train from scratch, from this run's checkpoint `resume_from`, or as a new run starting from another
        run's checkpoint `branch_from` (`branch_from_checkpoint`); return the number of completed steps.
        `finished` then says whether the budget (steps or minutes) was used up, rather than training being
        stopped early."""
        step = self._start(resume_from, branch_from)
        if resume_from is not None and step >= self.cfg.steps:
            self.progress(
                f"the run has already finished its {self.cfg.steps} steps; nothing to train (--steps N with a "
                "larger N continues it)"
            )
        # a resumed run whose time budget is spent trains no further (every rank agreeing); a new one takes at
        # least one step
        out_of_time = self._spent_before_start(resume_from is not None, step)
        try:
            while step < self.cfg.steps and not out_of_time:
                with self.precision.autocast():
                    out = self.model.train_step(self.data.batch(self.schedule.indices(step)), step)
                problem = nonfinite_in_step(self.model, out, gradients=self.precision.scaler is None)
                ranks, stop, out_of_time = self.flags.agree(
                    problem is not None, self.should_stop(), self._out_of_time()
                )
                if ranks:
                    step = self._roll_back(self._where(problem, ranks, step + 1))
                    out_of_time = False  # the budget is checked again after the next completed step
                    continue
                step += 1
                self._end_step(out, step, final=step == self.cfg.steps or out_of_time, stop=stop)
                if out_of_time:
                    self.progress(f"time budget reached: {self.cfg.minutes:g} min of training at step {step}")
                elif stop:
                    self.progress(
                        f"stopped at step {step}; continue with: infogan train --run-dir {self.run.path} --resume"
                    )
                    break
        finally:
            if self.log is not None:
                self.log.close()
        self.finished = step >= self.cfg.steps or out_of_time
        return step

    def _start(self, resume_from: Path | None, branch_from: Path | None) -> int:
        """Load the weights and state training starts from, open the log and call the callbacks' `on_fit_start`;
        return the step training starts at."""
        model, cfg = self.model, self.cfg
        if resume_from is not None:
            step, self.state = load_checkpoint(resume_from, model)
        elif branch_from is not None:
            step, fresh = branch_from_checkpoint(branch_from, model)
            self.state = {}
            self.progress(
                f"branching from {branch_from} at step {step}"
                + (f"; starting fresh: {', '.join(fresh)}" if fresh else "")
            )
        else:
            step, self.state = 0, {}
        self.precision.load_state_dict(self.state.get("precision", {}))
        if resume_from is not None:
            self._note_world_change()
        if self.world.distributed:
            self._start_ranks(step, resume_from is not None)
        # The rollback target before the first checkpoint: the initial weights and optimiser state (empty, or a
        # branch's), copied only when the policy can roll back.
        self.initial = (
            (step, _snapshot(model)) if cfg.on_nonfinite == "rollback" and not resume_from else None
        )
        self.log = (
            MetricsLog(self.run.path, resume_step=step if resume_from else None)
            if self.world.is_main
            else None
        )
        self._start_window(step)
        for callback in self.callbacks:
            callback.on_fit_start(self, step)
        model.train()
        return step

    def _spent_before_start(self, resumed: bool, step: int) -> bool:
        """Whether a resumed run's time budget was already spent (every rank agreeing), said when it was."""
        out_of_time = self.flags.agree(False, False, resumed and self._out_of_time())[2]
        if out_of_time:
            self.progress(
                f"the time budget of {self.cfg.minutes:g} min was spent by step {step}: nothing to train (raise "
                "--minutes to continue)"
            )
        return out_of_time

    def _end_step(self, out: dict[str, Tensor], step: int, *, final: bool, stop: bool) -> None:
        """The bookkeeping of a completed step: its log row when due, the callbacks, a checkpoint when due."""
        if self.log is not None:
            self._accumulate(out)
            if step % self.cfg.log_every == 0 or final:
                self._write_log(step)
            elif step == self.start + 1:  # a first sign of life long before the first log step
                seconds = time.perf_counter() - self.started
                self.progress(
                    f"step {step}/{self.cfg.steps} took {seconds:.1f} s (the first is the slowest); progress every "
                    f"{self.cfg.log_every} steps, next at step {(step // self.cfg.log_every + 1) * self.cfg.log_every}"
                )
        for callback in self.callbacks:
            callback.on_step_end(step, final)
        if step % self.cfg.checkpoint_every == 0 or final or stop:
            self._checkpoint(step)

    def _where(self, problem: str | None, ranks: list[int], step: int) -> str:
        """What went non-finite at `step`: on this rank, and on which ranks of a data-parallel run. Gradients are
        averaged over the ranks, so a NaN on one rank reaches the others within the same step."""
        if not self.world.distributed:
            return f"{problem} became non-finite at step {step}"
        here = f"rank {self.world.rank}: {problem or 'nothing'}"
        reported = ", ".join(map(str, ranks))
        return (
            f"{here} became non-finite at step {step} (ranks reporting non-finite values: {reported}; gradients "
            "are averaged over the ranks, so one rank's NaN reaches every rank within the step)"
        )

    def _note_world_change(self) -> None:
        """Say so when a run continues on another number of ranks than wrote its checkpoint."""
        before = len(self.state.get("rank_rngs", [None]))
        if before != self.world.size and self.world.is_main:
            self.progress(
                f"note: the checkpoint was written by {before} rank(s) and training continues on "
                f"{self.world.size}: the global batch is now {self.world.size} x {self.cfg.batch_size} images"
                + (", and ranks other than 0 draw new latents" if self.world.distributed else "")
            )

    def _start_ranks(self, step: int, resumed: bool) -> None:
        """Every rank starts from rank 0's weights and optimiser states, and with its own training generator:
        restored from the checkpoint when it was written by as many ranks, else seeded from the seed and rank."""
        world, model = self.world, self.model
        world.broadcast_module(model)
        saved = self.state.get("rank_rngs")
        if resumed and saved is not None and len(saved) == world.size:
            model.rng.set_state(saved[world.rank].cpu())
            return
        if world.rank > 0:
            model.seed(rank_seed(self.cfg.seed, world.rank) + step)

    def _start_window(self, step: int) -> None:
        """Start timing at `step`: the ETA counts from here, images/s from the last log step."""
        self.start = self.window_step = step
        self.started = self.window_start = time.perf_counter()

    def _accumulate(self, out: dict[str, Tensor]) -> None:
        sums: dict[str, Tensor] = self.state.setdefault("sums", {})
        for key, value in out.items():
            sums[key] = sums[key] + value if key in sums else value.clone()
        self.state["count"] = self.state.get("count", 0) + 1

    def _elapsed(self) -> float:
        """Training seconds of this run, across resumes."""
        return self.state.get("elapsed_s", 0.0) + time.perf_counter() - self.started

    def _out_of_time(self) -> bool:
        return self.cfg.minutes is not None and self._elapsed() >= 60 * self.cfg.minutes

    def _write_log(self, step: int) -> None:
        """The mean of each logged value over the window, with throughput and time: to metrics.jsonl, TensorBoard
        and one progress line. The one host sync of a window besides the health check: losses stayed on the device."""
        cfg, sums, count = self.cfg, self.state.get("sums", {}), self.state.get("count", 0)
        values = {k: float(v) / count for k, v in sums.items()}
        now = time.perf_counter()
        images = (step - self.window_step) * self.images_per_step * self.world.size  # every rank's
        ips = images / max(now - self.window_start, 1e-9)
        eta = (cfg.steps - step) * (now - self.started) / max(step - self.start, 1)
        elapsed = self.state.get("elapsed_s", 0.0) + now - self.started
        if cfg.minutes is not None:
            eta = min(eta, max(60 * cfg.minutes - elapsed, 0.0))
        extra = {k: v for callback in self.callbacks for k, v in callback.log_values(step).items()}
        assert self.log is not None  # rank 0 only
        self.log.write(step, {**values, **extra, "images_per_s": ips, "elapsed_s": elapsed})
        self.progress(progress_line(step, cfg.steps, values, ips, eta, self.ceilings))
        for callback in self.callbacks:
            callback.on_log(step)
        self.state.update(sums={}, count=0)
        self.window_start, self.window_step = now, step

    def _checkpoint(self, step: int) -> None:
        """Write a checkpoint (rank 0), with every rank's generator state in a data-parallel run; a collective
        there, which also checks that the ranks still hold the same weights."""
        if self.world.distributed:
            rngs = gather_generator_states(self.model.rng, self.world, self.model.device)
            total = torch.stack([p.detach().double().sum() for p in self.model.parameters()]).sum().reshape(1)
            if not all_equal(total, self.world):
                raise InfoganError(
                    f"the ranks' weights differ at step {step}: data-parallel training went wrong"
                )
            if not self.world.is_main:
                return
        state = {
            "sums": self.state.get("sums", {}),
            "count": self.state.get("count", 0),
            "elapsed_s": self._elapsed(),
            "retries": self.state.get("retries", 0),
            "precision": self.precision.state_dict(),
            **({"rank_rngs": rngs} if self.world.distributed else {}),
        }
        save_checkpoint(self.model, step, self.run.checkpoints, state)
        prune_checkpoints(self.run.checkpoints, self.cfg.keep_last)

    def _roll_back(self, where: str) -> int:
        """Handle a non-finite step by `cfg.on_nonfinite`: raise, or restore the newest complete checkpoint (or
        the initial weights), reseed the training generator and return the step to continue from."""
        cfg = self.cfg
        retries = self.state.get("retries", 0) + 1
        if cfg.on_nonfinite == "stop" or retries > cfg.max_retries:
            raise TrainingDivergedError(self._diverged_message(where, retries))
        newest = self.run.latest_checkpoint()
        if newest is not None:
            step, state = load_checkpoint(newest, self.model)
        elif self.initial is not None:
            step, snapshot = self.initial
            _restore(self.model, snapshot)
            state = {}
        else:  # resumed from a checkpoint that has since disappeared
            raise TrainingDivergedError(f"no checkpoint left in {self.run.checkpoints} to roll back to")
        self.model.seed(_retry_seed(cfg.seed, retries))
        # The time spent on the steps thrown away was spent all the same: the clock (and a time budget) keeps it.
        elapsed = self._elapsed()
        self.state = {"sums": state.get("sums", {}), "count": state.get("count", 0), "elapsed_s": elapsed}
        self.state["retries"] = retries
        if self.log is not None:
            self.log.close()
        self.log = MetricsLog(self.run.path, resume_step=step)
        self.progress(
            f"{where}; rolled back to step {step} and retrying with training seed "
            f"{_retry_seed(cfg.seed, retries)} (retry {retries} of {cfg.max_retries})"
        )
        self._start_window(step)
        return step

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
