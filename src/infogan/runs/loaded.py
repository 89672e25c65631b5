"""A run loaded from its directory (`infogan.load_run`), or returned by `infogan.train`: its config, its model at
one checkpoint, and what can be done with them — sample, generate, encode, traverse, reconstruct, evaluate. Also
the functions that return one: `load_run` (and its alias `load`) and `average`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from infogan import data as datasets
from infogan.config import RunConfig, load_config_file
from infogan.errors import CheckpointError, ConfigError, InfoganError
from infogan.evaluation.record import EvalRecord
from infogan.latent import Latent
from infogan.models import GenerativeModel
from infogan.progress import ProgressFn, progress_to_stderr
from infogan.runs.directory import RunDir, intact_alternative, locate
from infogan.training.checkpoint import load_checkpoint, read_manifest
from infogan.training.setup import build_for_run, resolve_device
from infogan.world import World

if TYPE_CHECKING:
    from infogan.viz.traversal import Traversal

# The evaluation (scipy, scikit-learn) and figure modules are imported where they are used, so that loading a run
# to sample from it does not pay for them; eval.json's record is pydantic only.


@dataclass(repr=False)
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

    def __repr__(self) -> str:
        model = self.config.model.name
        return f"Run({str(self.dir.path)!r}: {model} on {self.config.data.name}, {self.where})"

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
        x = self._checked_images(images).to(self.model.device)
        if not self.model.encodes_images:
            raise ConfigError(f"a {self.config.model.name} has no Q network or encoder to read images with")
        return {
            name: post["logits"].softmax(dim=1) if "logits" in post else post["mean"]
            for name, post in self.model.infer_codes(x).items()
        }

    def _checked_images(self, images: Tensor) -> Tensor:
        """`images` if they are what the model reads, a float tensor (B, C, H, W) of its image shape in [-1, 1];
        otherwise a one-line ConfigError saying what to change."""
        c, h, w = self.model.image_shape
        if not isinstance(images, Tensor):
            raise ConfigError(
                f"images must be a torch.Tensor (B, {c}, {h}, {w}), got {type(images).__name__}"
            )
        if images.ndim != 4 or tuple(images.shape[1:]) != (c, h, w):
            raise ConfigError(
                f"images must have shape (B, {c}, {h}, {w}) for this model, got {tuple(images.shape)}"
            )
        if not images.is_floating_point():
            raise ConfigError(
                f"images must be floating point in [-1, 1], got {images.dtype}: "
                "convert 8-bit images with x.float() / 127.5 - 1"
            )
        lo, hi = float(images.min()), float(images.max())
        if lo < -1.001 or hi > 1.001:  # a little rounding is fine; [0, 255] or [0, 1]-shifted data is not
            raise ConfigError(
                f"images must be in [-1, 1], got values from {lo:.4g} to {hi:.4g}: "
                "scale images in [0, 255] with x / 127.5 - 1, in [0, 1] with 2 * x - 1"
            )
        return images

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
            matched=self.matched_labels(),
        )

    def matched_labels(self) -> dict[str, list[int]]:
        """For each categorical code, the label each category was matched to on real images (eval.json's
        `mapping`), when the run's eval.json evaluated these weights; {} otherwise."""
        try:
            evaluation = EvalRecord.load(self.dir.eval)
        except InfoganError:  # not evaluated yet, or a torn file: traversals go without labels
            return {}
        if evaluation.step != self.step or evaluation.averaged_steps != self.averaged_steps:
            return {}
        return evaluation.matched_labels()

    def write_traversals(self) -> None:
        """The traversal figure of each code, as RUN/traversal-<code>.png (categories labelled with their matched
        digits when eval.json has them)."""
        from infogan.viz.traversal import traversal_figure

        for code in self.model.latent.codes:
            traversal_figure(self.traverse(code.name)).savefig(self.dir.traversal(code.name))

    def reconstruct(self, n: int = 32) -> tuple[Tensor, Tensor]:
        """The first n held-out images of the run's dataset and the model's reconstructions of them, each
        (n, C, H, W) in [-1, 1]; for models with an encoder (the VAE)."""
        data = datasets.build(self.config.data, self.config.eval.split)
        x = data.images[:n].to(self.model.device)
        if not self.model.can_reconstruct:
            raise ConfigError(
                f"this {self.config.model.name} run has no encoder to reconstruct with; reconstruct applies to vae runs"
            )
        return x, self.model.reconstruct(x)

    def evaluate(
        self,
        dataset: str | None = None,
        data_root: str | None = None,
        *,
        baselines: bool = False,
        progress: ProgressFn = lambda _: None,
        world: World = World(),
    ) -> dict[str, Any]:
        """Evaluate with the run's eval config (see `infogan.evaluation.evaluate.evaluate_model`), against the run's
        dataset or `dataset` (which must have the same image shape). In a data-parallel run every rank calls it
        with its `world`: the generated samples are split over the ranks, rank 0 gets the result and the others
        an empty dict. The result is what eval.json holds (`infogan.evaluation.record.EvalRecord` checks it)."""
        from infogan.evaluation.data import data_to_evaluate_on, evaluation_data
        from infogan.evaluation.evaluate import evaluate_model

        data_cfg = data_to_evaluate_on(self.config.data, dataset, data_root)
        data = evaluation_data(data_cfg, self.config.eval.split, self.model.device, self.config.eval.metrics)
        result = evaluate_model(
            self.model, data, self.config.eval, baselines=baselines, progress=progress, world=world
        )
        if not world.is_main:
            return {}
        averaged = {} if self.averaged_steps is None else {"averaged_steps": self.averaged_steps}
        record = EvalRecord.model_validate(
            {
                "step": self.step,
                **averaged,
                "dataset": data_cfg.name,
                "split": self.config.eval.split,
                **result,
            }
        )
        return record.to_dict()


def load(path: str | Path, *, device: str = "cpu") -> Run:
    """`load_run`: a run (or a checkpoint in one), ready to `generate`, `encode`, `sample` and `traverse`."""
    return load_run(path, device=device)


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Load a run directory (its newest complete checkpoint) or a checkpoint folder inside one."""
    run, checkpoint = locate(Path(path))
    cfg = load_config_file(run.config)
    try:
        model = build_for_run(cfg, resolve_device(device))
    except ConfigError as exc:
        raise ConfigError(f"{run.config}: {exc}") from exc
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
    """Average a run's checkpoints (see `infogan.runs.averaging`) into the checkpoint folder
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
    from infogan.runs.averaging import average_run

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
