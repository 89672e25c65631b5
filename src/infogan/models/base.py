"""The model contract: a generative model owns its networks, optimisers and full update rule."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import ClassVar, Literal

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn

from infogan.config_base import ModelConfig, StrictModel
from infogan.errors import ConfigError
from infogan.images import Images
from infogan.latent import Latent, LatentSpec
from infogan.nets.augment import Augmentation, diff_augment

Batch = Mapping[str, Tensor]


class LatentConfig(StrictModel):
    """The generator's input: noise size and codes, e.g. noise 62 and codes [cat:10, uniform:2]."""

    noise: int = Field(62, ge=0)
    codes: list[str] = Field(default_factory=lambda: ["cat:10", "uniform:2"])
    noise_prior: Literal["uniform", "normal"] = "uniform"
    fixed_std: bool = False

    @field_validator("codes")
    @classmethod
    def _codes_parse(cls, codes: list[str]) -> list[str]:
        try:
            LatentSpec.parse(0, codes)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return codes

    def spec(self) -> LatentSpec:
        return LatentSpec.parse(
            self.noise, self.codes, noise_prior=self.noise_prior, fixed_std=self.fixed_std
        )


def noise_only(latent: LatentConfig, model: str) -> LatentConfig:
    """Check the latent of a model whose generator reads noise only (GAN, WGAN): no codes, and some noise."""
    if latent.codes:
        raise ValueError(
            f"a {model} has no latent codes (got codes {latent.codes}); set model.latent.codes=[] or use the infogan model"
        )
    if latent.noise < 1:
        raise ValueError(f"a {model}'s generator input is its noise: set model.latent.noise to 1 or more")
    return latent


def positive_sizes(sizes: list[int]) -> list[int]:
    """Check an MLP's hidden layer sizes."""
    if any(s < 1 for s in sizes):
        raise ValueError(f"hidden layer sizes must be positive, got {sizes}")
    return sizes


class AdversarialConfig(ModelConfig):
    """Settings shared by the models with a discriminator or critic."""

    # Differentiable augmentation of every image D sees, real and fake, in D's step and G's (nets/augment.py;
    # e.g. [translation]): slows D's memorising of a small dataset. None of the papers uses it.
    augment: list[Augmentation] = Field(default_factory=list)


def adam(
    params: Iterable[nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999)
) -> torch.optim.Adam:
    """Adam as every model here trains with it: PyTorch's fused kernel (one pass over all parameters), the same
    update as the default implementation up to rounding and faster on every CPU measured (docs/scaling.md)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def gradient_norm(module: nn.Module) -> Tensor:
    """The L2 norm of all of module's parameter gradients together, as its last update left them (0-d)."""
    return torch.nn.utils.get_total_norm([p.grad for p in module.parameters() if p.grad is not None])


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Turn off parameter gradients (not the graph): a backward pass then only flows through these modules."""
    params = [p for m in modules for p in m.parameters()]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put modules in eval mode (batch norm uses running statistics) and restore their modes after."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.train(mode)


@contextmanager
def batch_statistics(*modules: nn.Module) -> Iterator[None]:
    """Eval mode, except that batch norm normalises by each batch's own statistics, as in training, and updates
    nothing: PyTorch's batch norm does exactly that when it has no running statistics, so they are set aside for
    the duration and put back unchanged."""
    norms = [
        m for module in modules for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    saved = [(m.running_mean, m.running_var) for m in norms]
    with eval_mode(*modules):
        for m in norms:
            m.running_mean = m.running_var = None
        try:
            yield
        finally:
            for m, (mean, var) in zip(norms, saved, strict=True):
                m.running_mean, m.running_var = mean, var


class GenerativeModel(nn.Module, ABC):
    """A generative model with its own update rule.

    Subclasses set `Config`, build their nets in `__init__(cfg, image_shape)`, and implement
    `configure_optimizers`, `train_step` and `generate`. Randomness in training comes from `self.rng`, a
    `torch.Generator` on the model's device, seeded with `seed()` and saved in checkpoints.

    Code outside `models/` learns what a model can do from the capability members below, never from its class or
    name: `encodes_images` (`infer_codes`, `represent`), `can_reconstruct` (`reconstruct`), `has_mi_lower_bound`
    (`q_nll`), `has_held_out_metrics` (`held_out_metrics`), `is_conditional` (`conditional_code`) and
    `can_recalibrate` (`calibration_step`). Each defaults to "no"; a method whose capability is False raises
    NotImplementedError: a subclass that implements one also answers yes to its capability (`can_recalibrate`
    follows from `calibration_step` by itself).
    """

    Config: ClassVar[type[ModelConfig]]
    # The generator's input, set in every model's __init__: a GAN or WGAN has noise only (no codes), a conditional
    # GAN noise and its label code, InfoGAN noise and codes, a VAE codes only (no noise).
    latent: LatentSpec
    # The code that carries the class label in a conditional model (e.g. "c1"); None for unconditional models.
    conditional_code: ClassVar[str | None] = None

    @property
    def real_batches_per_step(self) -> int:
        """How many real batches one `train_step` consumes (a WGAN critic takes a fresh one per critic step); the
        loop passes them concatenated, batch_size x this many images."""
        return 1

    def __init__(self, cfg: ModelConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.cfg = cfg
        self.image_shape = image_shape
        self.rng = torch.Generator()
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None
        # Set by the trainer for fp16 training (training/precision.py): scales each loss before its backward pass.
        self.grad_scaler: torch.amp.GradScaler | None = None
        # Set by the trainer of a data-parallel run (training/distributed.py): averages the gradients of an
        # optimiser's parameters over the ranks before it steps.
        self.sync_gradients: Callable[[torch.optim.Optimizer], None] | None = None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def seed(self, seed: int) -> None:
        """(Re)create the training generator on the model's device."""
        self.rng = torch.Generator(self.device).manual_seed(seed)

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers from `configure_optimizers`, built once, after the model is on its device."""
        if self._optimizers is None:
            self._optimizers = self.configure_optimizers()
        return self._optimizers

    @abstractmethod
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Build the model's optimisers, by name (the names are used in checkpoints)."""

    def update(self, opt: torch.optim.Optimizer, loss: Tensor) -> None:
        """One optimiser step on `loss`: clear its gradients, backpropagate, step. Every model's updates go
        through here, so fp16's loss scaling and a data-parallel run's gradient averaging apply to all of them."""
        opt.zero_grad(set_to_none=True)
        scaler = self.grad_scaler
        device = self.device.type
        # Autocast covers the forward passes only; backward runs each op in the type its forward used.
        with torch.autocast(device, enabled=False) if torch.is_autocast_enabled(device) else nullcontext():
            (loss if scaler is None else scaler.scale(loss)).backward()
        if self.sync_gradients is not None:
            self.sync_gradients(opt)
        if scaler is None:
            opt.step()
        else:
            scaler.step(opt)  # skipped when the scaled gradients overflowed
            scaler.update()  # before the next step: a model may step one optimiser more than once per update

    @abstractmethod
    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        """Run one full update (all D/critic, G and Q steps) on a batch.

        Returns:
            Detached 0-d tensors by log name. They stay on the device so the loop can average them without
            a host sync on every step.
        """

    @abstractmethod
    def generate(self, latent: Latent) -> Tensor:
        """Images (B, C, H, W) in [-1, 1] for the given latents (no grad, eval mode)."""

    # --- capabilities (the honest "no" here; a subclass that can says so) -------------------------------------
    @property
    def is_conditional(self) -> bool:
        """Whether the model draws images of a requested class: `sample(n, codes={conditional_code: k})` (a
        conditional GAN). InfoGAN's categorical codes are not labels: it is not conditional."""
        return self.conditional_code is not None

    @property
    def encodes_images(self) -> bool:
        """Whether the model reads images back into its latent codes (InfoGAN's Q, a VAE's encoder): then
        `infer_codes` and `represent` work; otherwise they raise NotImplementedError."""
        return False

    def infer_codes(self, x: Tensor) -> dict[str, dict[str, Tensor]]:
        """The posterior parameters of every latent code for images x (B, C, H, W) in [-1, 1], in eval mode, as
        `LatentSpec.posterior` lays them out (models with `encodes_images`).

        Returns:
            ``{name: {"logits": (B, K)}}`` for categorical codes, ``{name: {"mean", "log_std": (B,)}}`` for
            continuous ones: InfoGAN's Q posterior, a VAE's q(z|x) per latent dimension.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not read images back (encodes_images is False)"
        )

    def represent(self, x: Tensor) -> Tensor:
        """The model's representation of images x (B, C, H, W) in [-1, 1] as (B, D) codes, for disentanglement
        metrics (models with `encodes_images`; InfoGAN: Q's posterior; VAE: the encoder means)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not read images back (encodes_images is False)"
        )

    @property
    def can_reconstruct(self) -> bool:
        """Whether the model's encoder reads an image's whole latent (every input of the generator, no noise left
        out), so that `reconstruct` can decode it again: a VAE's encoder, not InfoGAN's Q, which reads the codes
        but not the noise."""
        return False

    def reconstruct(self, x: Tensor) -> Tensor:
        """Images x (B, C, H, W) in [-1, 1] encoded and decoded again (models with `can_reconstruct`)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot reconstruct images (can_reconstruct is False)"
        )

    @property
    def has_mi_lower_bound(self) -> bool:
        """Whether L_I, the lower bound on I(c; G(z, c)) of each code, can be estimated: the model has codes and a
        Q that reads them off its own images (`q_nll`). Such a model also `encodes_images`."""
        return False

    def q_nll(self, x: Tensor, latent: Latent, *, batch_stats: bool = False) -> dict[str, Tensor]:
        """Q's mean negative log-likelihood of each code of `latent` given images x generated from it, the
        Monte-Carlo pieces of L_I (models with `has_mi_lower_bound`). With `batch_stats`, Q's batch norm uses
        this batch's statistics, as in training, instead of its running ones."""
        raise NotImplementedError(
            f"{type(self).__name__} has no L_I to estimate (has_mi_lower_bound is False)"
        )

    def calibration_step(self, real: Tensor) -> None:
        """The forward passes of one training step on the real batch `real` (B, C, H, W), in train mode, without
        gradients or updates, drawing from `self.rng`: what batch norm sees in training, for recomputing its
        statistics after weights are averaged (`infogan.runs.averaging`). A model that does not define it keeps
        the statistics it has."""
        raise NotImplementedError(f"{type(self).__name__} has no calibration_step (can_recalibrate is False)")

    @property
    def can_recalibrate(self) -> bool:
        """Whether the model defines `calibration_step`."""
        return type(self).calibration_step is not GenerativeModel.calibration_step

    @property
    def has_held_out_metrics(self) -> bool:
        """Whether the model scores held-out real images by figures of its own (`held_out_metrics`, eval.json's
        "held_out"), e.g. a VAE's test ELBO."""
        return False

    def held_out_metrics(self, data: Images, batch_size: int = 500) -> dict[str, float]:
        """Model-specific metrics on held-out real images (N, C, H, W) in [-1, 1] (models with
        `has_held_out_metrics`)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no held-out metrics of its own (has_held_out_metrics is False)"
        )

    def sample(
        self, n: int, *, codes: Mapping[str, float] | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw n images from the prior, with the named codes fixed if given.

        Args:
            n: number of images.
            codes: e.g. ``{"c1": 3, "c2": 0.5}``; categorical values are category indices.
            generator: a `torch.Generator` on the model's device for repeatable samples.

        Returns:
            (n, C, H, W) images in [-1, 1].
        """
        latent = self.latent.sample(n, generator=generator, device=self.device)
        if codes:
            latent = self.latent.with_codes(latent, codes)
        return self.generate(latent)


class AdversarialModel(GenerativeModel):
    """A generative model with a discriminator or critic D, configured by an `AdversarialConfig`."""

    cfg: AdversarialConfig

    def _augment(self, x: Tensor) -> Tensor:
        """What D sees of the images x: x itself, or its differentiable augmentation (`cfg.augment`), drawn from
        the training generator."""
        return diff_augment(x, self.cfg.augment, self.rng)  # x itself when augment is empty

    def _calibration_passes(
        self,
        real: Tensor,
        G: nn.Module,
        trunk: nn.Module,
        head: nn.Module | None = None,
        on_real: Callable[[Tensor, Tensor], object] | None = None,
    ) -> None:
        """`calibration_step` for a G-and-trunk model, as in its train_step with one D step: G draws the fakes;
        the trunk reads the real batch once and the fakes twice (D's step and G's); `head`, if given, reads the
        fakes' features; `on_real`, if given, gets the real batch as D saw it and its features."""
        latent = self.latent.sample(real.shape[0], generator=self.rng, device=real.device)
        fake = G(self.latent.to_input(latent))
        seen = self._augment(real)
        h_real = trunk(seen)
        if on_real is not None:
            on_real(seen, h_real)
        for _ in range(2):
            features = trunk(self._augment(fake))
            if head is not None:
                head(features)
