"""The Python API: train a run, load it back, sample, traverse and evaluate — the same steps the CLI takes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from infogan import data as datasets
from infogan.config import RunConfig, load_config_file
from infogan.errors import CheckpointError, ConfigError
from infogan.helpers import ProgressFn, progress_to_stderr, write_text_atomic
from infogan.latent import Latent
from infogan.models import GenerativeModel
from infogan.training.checkpoint import load_checkpoint, read_manifest
from infogan.training.distributed import World, init_world
from infogan.training.run_dir import (
    RunDir,
    branch_point,
    check_run_dir,
    intact_alternative,
    locate,
    resume_point,
)
from infogan.training.setup import build_for_run, check_buildable, prepare_trainer, resolve_device

if TYPE_CHECKING:
    from infogan.viz.traversal import Traversal

# The evaluation (scipy, scikit-learn), averaging and figure modules are imported where they are used, so that
# loading a run to sample from it does not pay for them.


@dataclass
class Run:
    """A trained (or training) run loaded from its directory."""

    dir: RunDir
    config: RunConfig
    model: GenerativeModel
    step: int
    # The steps whose weights were averaged into this checkpoint (`average`), or None for a training checkpoint.
    averaged_steps: list[int] | None = None
    # False when `train` returned before the budget (train.steps or train.minutes) was used up.
    finished: bool = True

    @property
    def where(self) -> str:
        """Which weights these are, for people: ``step 300``, or ``the average of steps 150-300``."""
        if self.averaged_steps:
            return f"the average of steps {self.averaged_steps[0]}-{self.averaged_steps[-1]}"
        return f"step {self.step}"

    def sample(self, n: int, *, codes: Mapping[str, float] | None = None, seed: int = 0) -> Tensor:
        """n images (n, C, H, W) in [-1, 1], repeatable for a seed, with the named codes fixed if given."""
        generator = torch.Generator(self.model.device).manual_seed(seed)
        return self.model.sample(n, codes=codes, generator=generator)

    def generate(
        self,
        codes: Mapping[str, float] | None = None,
        *,
        noise: Tensor | None = None,
        n: int = 1,
        seed: int = 0,
    ) -> Tensor:
        """Images (n, C, H, W) in [-1, 1] for the given codes, each other input drawn from `seed`; `noise` (n, noise
        size), if given, is the incompressible noise z itself (n is then its first dimension)."""
        if noise is not None:
            n = noise.shape[0]
        generator = torch.Generator(self.model.device).manual_seed(seed)
        latent = self.model.latent.sample(n, generator=generator, device=self.model.device)
        if noise is not None:
            if tuple(noise.shape) != tuple(latent.z.shape):
                raise ConfigError(
                    f"noise must have shape (n, {self.model.latent.noise}), got {tuple(noise.shape)}"
                )
            latent = Latent(noise.to(latent.z), latent.c_cat, latent.c_cont)
        if codes:
            latent = self.model.latent.with_codes(latent, codes)
        return self.model.generate(latent)

    def encode(self, images: Tensor) -> dict[str, Tensor]:
        """What the model reads off images (B, C, H, W) in [-1, 1]: for InfoGAN, each categorical code's
        probabilities (B, K) and each continuous code's mean (B,); for a VAE, each latent's mean (B,)."""
        x = images.to(self.model.device)
        infer = getattr(self.model, "infer_codes", None)
        if infer is not None:
            return {
                name: post["logits"].softmax(dim=1) if "logits" in post else post["mean"]
                for name, post in infer(x).items()
            }
        means = self.model.represent(x)
        if means is None:
            raise ConfigError(f"a {self.config.model.name} has no Q network or encoder to read images with")
        return {code.name: means[:, i] for i, code in enumerate(self.model.latent.codes)}

    def traverse(
        self,
        code: str,
        *,
        value_range: tuple[float, float] | None = None,
        steps: int | None = None,
        rows: int = 10,
        rows_by: str | None = "auto",
        seed: int = 0,
    ) -> Traversal:
        """A traversal of `code` (see `infogan.viz.traversal.traverse`), or with `code` "all" one row per
        continuous code (`traverse_codes`; `rows` and `rows_by` do not apply); defaults come from the run's eval
        config."""
        from infogan.viz.traversal import ALL_CODES, traverse, traverse_codes

        generator = torch.Generator(self.model.device).manual_seed(seed)
        value_range = value_range or self.config.eval.traverse_range
        steps = steps or self.config.eval.traverse_steps
        if code == ALL_CODES:
            return traverse_codes(self.model, value_range=value_range, steps=steps, generator=generator)
        return traverse(
            self.model,
            code,
            value_range=value_range,
            steps=steps,
            rows=rows,
            rows_by=rows_by,
            generator=generator,
        )

    def reconstruct(self, n: int = 32) -> tuple[Tensor, Tensor]:
        """The first n held-out images of the run's dataset and the model's reconstructions of them, each
        (n, C, H, W) in [-1, 1]; for models with an encoder (the VAE)."""
        data = datasets.build(self.config.data, self.config.eval.split)
        x = data.images[:n].to(self.model.device)
        recon = self.model.reconstruct(x)
        if recon is None:
            raise ConfigError(
                f"this {self.config.model.name} run has no encoder to reconstruct with; reconstruct applies to vae runs"
            )
        return x, recon

    def evaluate(
        self,
        dataset: str | None = None,
        data_root: str | None = None,
        *,
        baselines: bool = False,
        progress: ProgressFn = lambda _: None,
        world: World = World(),
    ) -> dict[str, Any]:
        """Evaluate with the run's eval config (see `infogan.metrics.evaluate.evaluate_model`), against the run's
        dataset or `dataset` (which must have the same image shape). In a data-parallel run every rank calls it
        with its `world`: the generated samples are split over the ranks, rank 0 gets the result and the others
        an empty dict."""
        from infogan.metrics.evaluate import data_to_evaluate_on, evaluate_model, evaluation_data

        data_cfg = data_to_evaluate_on(self.config.data, dataset, data_root)
        need_reference = "quality" in self.config.eval.metrics
        data = evaluation_data(data_cfg, self.config.eval.split, self.model.device, need_reference)
        result = evaluate_model(
            self.model, data, self.config.eval, baselines=baselines, progress=progress, world=world
        )
        if not world.is_main:
            return {}
        averaged = {} if self.averaged_steps is None else {"averaged_steps": self.averaged_steps}
        return {
            "step": self.step,
            **averaged,
            "dataset": data_cfg.name,
            "split": self.config.eval.split,
            **result,
        }


def load(path: str | Path, *, device: str = "cpu") -> Run:
    """`load_run`: a run (or a checkpoint in one), ready to `generate`, `encode`, `sample` and `traverse`."""
    return load_run(path, device=device)


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Load a run directory (its newest complete checkpoint) or a checkpoint folder inside one."""
    run, checkpoint = locate(Path(path))
    cfg = load_config_file(run.config)
    model = build_for_run(cfg, resolve_device(device))
    try:
        step, _ = load_checkpoint(checkpoint, model, with_state=False)
    except CheckpointError as exc:
        if read_manifest(Path(path)) is not None:  # the user named this checkpoint: nothing else to suggest
            raise
        raise intact_alternative(run, checkpoint, model, exc) from exc
    model.eval()
    manifest = read_manifest(checkpoint) or {}
    return Run(run, cfg, model, step, manifest.get("averaged_steps"))


def average(
    path: str | Path,
    *,
    first: int | None = None,
    last: int | None = None,
    calibration_images: int = 10_000,
    device: str = "cpu",
    check_samples: int = 5_000,
    progress: ProgressFn = progress_to_stderr,
) -> Run:
    """Average a run's checkpoints (see `infogan.training.averaging`) into the checkpoint folder
    ``checkpoints/average-<A>-<B>`` of the run, A and B being the first and last steps averaged, and load it.

    Args:
        path: the run directory.
        first: the earliest step averaged [default: half the newest checkpoint's step].
        last: the latest step averaged [default: the newest checkpoint's].
        calibration_images: at most this many real training images, in full batches of the run's batch size, to
            recompute the batch-norm statistics with.
        device: cpu, cuda, cuda:N or auto.
        check_samples: for InfoGAN, L_I per code is estimated on this many generated samples for the newest
            checkpoint averaged and for the average, on the draws `eval` makes, and a categorical code's drop of
            more than `averaging.MI_DROP_WARNING` nats is reported as a warning; 0 skips the check.
        progress: receives one line per stage.

    Returns:
        The averaged model as a `Run` whose `averaged_steps` lists the steps averaged.

    Raises:
        ConfigError: `path` is a checkpoint folder, `first` is after `last`, or fewer calibration images than a
            batch.
        CheckpointError: fewer than two complete checkpoints in the range, or one of them fails its checks.
    """
    from infogan.training.averaging import average_run

    run, cfg, model, steps = average_run(
        Path(path),
        first=first,
        last=last,
        n_calibration=calibration_images,
        device=device,
        check_samples=check_samples,
        progress=progress,
    )
    return Run(run, cfg, model, steps[-1], steps)


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: ProgressFn = progress_to_stderr,
    should_stop: Callable[[], bool] = lambda: False,
    world: World = World(),
) -> Run:
    """Train a run into `run_dir`, or continue it from its newest checkpoint with `resume`.

    A new run needs a run directory that holds no run yet. On resume, `cfg` must be the run's own config but for
    the keys `config.RESUMABLE_KEYS` names (the budget and schedules, threads, device, where the data is). A run
    with `train.branch_from` and no checkpoint of its own starts from that checkpoint of another run. When
    training completes, the run is evaluated (eval.json) and a traversal figure is written for each code.
    `world` is this process's rank in a torchrun launch (`training.distributed.world_from_env(os.environ)`):
    the ranks train one run data-parallel, and rank 0 alone writes it and evaluates it.

    Returns:
        The run, with the model as training left it (possibly stopped early by `should_stop`).
    """
    run = RunDir(Path(run_dir))
    init_world(world, resolve_device(cfg.train.device))
    if not world.is_main:
        progress = _quiet
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"world_size": world.size})})
    check_run_dir(run, resume)  # before any long work: a mistake here costs seconds, not a data scan
    check_buildable(cfg)
    # another run's checkpoint to start from, while this run has none of its own
    started = resume and run.latest_checkpoint() is not None
    branch = branch_point(cfg) if cfg.train.branch_from and not started else None
    if cfg.data.channels is None or not resume:  # a new run: pick the dataset (or its fallback) and its shape
        data_cfg, note = datasets.resolve(cfg.data)
        cfg = cfg.model_copy(update={"data": data_cfg})
        progress(note)
    checkpoint = resume_point(run, cfg, progress) if resume else None
    world.barrier()  # every rank has checked the run directory before rank 0 writes to it
    from infogan.viz.grids import SampleGrids

    trainer = prepare_trainer(
        cfg, run, progress=progress, should_stop=should_stop, callbacks=[SampleGrids()], world=world
    )
    try:
        step = trainer.fit(checkpoint, branch_from=branch)
    except CheckpointError as exc:
        if checkpoint is None:
            if branch is not None and not resume and run.latest_checkpoint() is None:
                # a new run whose branch did not load has trained nothing: leave its folder as empty as
                # check_run_dir found it, so that the same command can be tried again
                run.config.unlink(missing_ok=True)
            raise
        raise intact_alternative(run, checkpoint, trainer.model, exc) from exc
    result = Run(run, cfg, trainer.model, step, finished=trainer.finished)
    if trainer.finished:
        if (
            world.distributed
        ):  # batch norm's running statistics are each rank's own: evaluate rank 0's, as saved
            world.broadcast_module(trainer.model)
        trainer.model.eval()
        _finish(result, progress, world)
    world.barrier()  # every rank waits for rank 0's evaluation, so that all leave the process group together
    return result


def _quiet(line: str) -> None:
    """The progress printer of ranks other than 0 in a data-parallel run: rank 0 speaks for all."""


def _finish(run: Run, progress: ProgressFn, world: World) -> None:
    """Write the end-of-run products (rank 0): a traversal figure per code and, unless `train.evaluate` is off,
    eval.json, whose generated samples every rank of a data-parallel run shares in."""
    from infogan.viz.traversal import traversal_figure

    if world.is_main:
        for code in run.model.latent.codes:
            traversal_figure(run.traverse(code.name)).savefig(run.dir.traversal(code.name))
    if not run.config.train.evaluate:
        progress(f"not evaluated (train.evaluate is off): infogan eval {run.dir.path}")
        return
    progress(
        f"evaluating against {run.config.data.name} ({run.config.eval.split} split held out; "
        f"metric groups: {', '.join(run.config.eval.metrics) or 'none'})"
        + (f", generated samples split over {world.size} ranks" if world.distributed else "")
    )
    metrics = run.evaluate(progress=progress, world=world)
    if not world.is_main:
        return
    write_text_atomic(run.dir.eval, json.dumps(metrics, indent=1))
    progress(f"evaluation written to {run.dir.eval}")
