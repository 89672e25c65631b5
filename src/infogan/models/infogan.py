"""InfoGAN (Chen et al. 2016, arXiv:1606.03657): a GAN whose generator input carries latent codes c, with an
auxiliary network Q, sharing D's trunk, that maximises a variational lower bound L_I on I(c; G(z, c)).

min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q)

V is any adversarial loss of losses/adversarial.py; with the Wasserstein loss D is a critic under weight clipping
or a gradient penalty (InfoGAN-WGAN-GP is a preset, not a class).

Optionally (`consistency.weight` > 0; not in the paper) Q's categorical posterior is also trained on real images:
a real batch and a slightly rotated, shifted and zoomed copy of it should fall into the same categories, with every
category used (IIC's objective, arXiv:1807.06653). L_I only asks that Q read c back from G's images; this asks that
the categories Q reads divide the real data along what survives small deformations, such as a digit's class, and
not along its slant or width, which the continuous codes are there for. Two further options act on the continuous
codes' means for the same real batch: `invariance` asks them not to change with stroke thickness alone, and
`decorrelation` asks no two of them to read the same property.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor, nn

from infogan.config_base import StrictModel
from infogan.latent import Latent
from infogan.losses.adversarial import ADVERSARIAL, AdversarialLoss
from infogan.losses.info import info_loss, mi_lower_bound, paired_assignment_mi
from infogan.losses.penalties import clip_weights, gradient_penalty
from infogan.models.base import (
    AdversarialConfig,
    AdversarialModel,
    Batch,
    LatentConfig,
    adam,
    batch_statistics,
    eval_mode,
    frozen,
)
from infogan.nets.augment import random_affine, random_thickness
from infogan.nets.backbones import build_backbone
from infogan.nets.dcgan import Norm
from infogan.nets.heads import LogitHead, QHead
from infogan.nets.init import official_init


class ConsistencyConfig(StrictModel):
    """The real-image consistency term: its weight (0 = off, the paper) and the random deformation that makes
    each real image's second view."""

    weight: float = Field(0.0, ge=0)
    rotation: float = Field(15.0, ge=0, le=180)  # degrees, either way
    shear: float = Field(0.0, ge=0, le=1)  # horizontal shear (change of slant), either way
    # stroke thickness: up to this fraction of a 3 x 3 dilation (thicker) or erosion (thinner), either way
    thickness: float = Field(0.0, ge=0, le=1)
    shift: float = Field(0.1, ge=0, lt=0.5)  # fraction of the side, each direction
    scale: float = Field(0.1, ge=0, lt=1)  # zoom in [1 - scale, 1 + scale]
    # Continuous codes on the same real batch (0 = off): `invariance` weighs 1 - r, per code, where r is the
    # Pearson correlation over the batch between Q's mean for each image and for its copy with only the stroke
    # thickness deformed, so that no continuous code reads thickness; `decorrelation` weighs r^2 between each pair
    # of codes' means, so that two codes do not read the same property. On full MNIST they made c1 worse and did not
    # make a width code reliable (docs/mnist.md, approach 5), so no preset uses them.
    invariance: float = Field(0.0, ge=0)
    decorrelation: float = Field(0.0, ge=0)


class InfoGANConfig(AdversarialConfig):
    """InfoGAN's hyperparameters; the defaults are the paper's MNIST experiment."""

    name: Literal["infogan"] = "infogan"
    latent: LatentConfig = LatentConfig()
    adversarial: AdversarialLoss = "non-saturating"
    lambda_cat: float = Field(1.0, ge=0)
    # The paper uses a smaller lambda for continuous codes so that lambda * L_I stays on the GAN loss's scale.
    lambda_cont: float = Field(0.1, ge=0)
    lr_d: float = Field(2e-4, gt=0)
    lr_g: float = Field(1e-3, gt=0)
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    g_hidden: int = Field(1024, gt=0)
    d_hidden: int = Field(1024, gt=0)
    width: int = Field(64, gt=0)
    q_hidden: int = Field(128, gt=0)
    leaky_slope: float = Field(0.1, ge=0)
    # "pytorch": PyTorch's default initialisation; "normal": the official code's N(0, 0.02) (nets/init.py).
    init: Literal["pytorch", "normal"] = "pytorch"
    # Networks (nets/paper.py, nets/dcgan.py): the paper's appendix - "paper" is MNIST's Table 1 (also the 3D faces
    # at 32x32), "svhn" Tables 2-3 (SVHN, CelebA; g_hidden = channels of G's 2x2 FC map, 448; d_hidden unused),
    # "chairs" Table 6 - or DCGAN backbones ("dcgan"; needed for a critic without batch norm), or InfoGAN-CR's
    # dSprites networks ("dsprites", 64x64, spectral norm in D and its heads).
    backbone: Literal["paper", "dcgan", "svhn", "chairs", "dsprites"] = "paper"
    # True: the networks work on pixels in [0, 1] (G a sigmoid, D reading (x + 1) / 2; nets/pixel_range.py says
    # what that changes), as the official code does on MNIST (backbone paper) and InfoGAN-CR's on dSprites
    # (backbone dsprites); the images outside the networks stay in [-1, 1].
    unit_range: bool = False
    critic_norm: Norm = "batch"
    # Lipschitz constraint of a Wasserstein critic, and critic updates per G update.
    lipschitz: Literal["none", "clip", "gp"] = "none"
    clip: float = Field(0.01, gt=0)
    gp_lambda: float = Field(10.0, ge=0)
    n_critic: int = Field(1, ge=1)
    # G updates per update, each on the same latents through the G the last one left: InfoGAN-CR's dSprites code
    # runs G's optimiser twice per iteration (the DCGAN-TensorFlow habit of keeping D's loss off zero).
    g_steps: int = Field(1, ge=1)
    # False trains Q but keeps the information term out of G's loss (lambda = 0 for G): the baseline of the
    # paper's Fig. 1, a GAN whose Q only measures how much information G happens to carry about c.
    info_to_g: bool = True
    # False trains Q's head on D's features without letting Q's loss shape the trunk it shares with D: Q is then
    # a probe of what D's features say about c. With info_to_g false too, neither D nor G feels the information
    # term (lambda = 0 for both): the strictest baseline of Fig. 1.
    info_to_trunk: bool = True
    consistency: ConsistencyConfig = ConsistencyConfig()

    @field_validator("latent")
    @classmethod
    def _has_codes(cls, latent: LatentConfig) -> LatentConfig:
        if not latent.codes:
            raise ValueError("InfoGAN needs at least one latent code, e.g. codes: [cat:10]")
        return latent

    @model_validator(mode="after")
    def _settings_are_consistent(self) -> InfoGANConfig:
        if (self.adversarial == "wasserstein") != (self.lipschitz != "none"):
            raise ValueError(
                "the wasserstein loss needs lipschitz clip or gp, and clip/gp apply only to the wasserstein loss"
            )
        if self.consistency.weight > 0 and not any(c.is_categorical for c in self.latent.spec().codes):
            raise ValueError("the consistency term needs a categorical code (consistency.weight > 0)")
        _check_continuous_terms(self.consistency, len(self.latent.spec().continuous))
        if self.unit_range and self.backbone not in ("paper", "dsprites"):
            raise ValueError("unit_range applies only to the paper and dsprites backbones")
        if self.lipschitz == "gp" and (self.backbone != "dcgan" or self.critic_norm == "batch"):
            raise ValueError(
                "a gradient penalty needs a critic without batch norm: set backbone dcgan and critic_norm layer or none"
            )
        return self


def _check_continuous_terms(cfg: ConsistencyConfig, n_continuous: int) -> None:
    if (cfg.invariance or cfg.decorrelation) and not cfg.weight:
        raise ValueError("consistency.invariance and consistency.decorrelation need consistency.weight > 0")
    if cfg.invariance and not (cfg.thickness and n_continuous):
        raise ValueError("consistency.invariance needs a continuous code and consistency.thickness > 0")
    if cfg.decorrelation and n_continuous < 2:
        raise ValueError("consistency.decorrelation needs at least two continuous codes")


class InfoGAN(AdversarialModel):
    """Generator G, discriminator trunk with a D head and a Q head, and InfoGAN's update rule."""

    Config = InfoGANConfig
    cfg: InfoGANConfig

    def __init__(self, cfg: InfoGANConfig, image_shape: tuple[int, int, int]) -> None:
        super().__init__(cfg, image_shape)
        self.latent = cfg.latent.spec()
        nets = build_backbone(cfg.backbone, self.latent.dim, image_shape, cfg)
        self.G, self.trunk = nets.G, nets.trunk
        self.spectral_heads = nets.spectral_heads
        self.d_head = LogitHead(nets.features, spectral=nets.spectral_heads)
        self.q_head = QHead(
            nets.features, self.latent.q_dim, cfg.q_hidden, cfg.leaky_slope, spectral=nets.spectral_heads
        )
        if cfg.init == "normal":
            official_init(self)  # draws from the global generator, seeded before the model is built
        self.d_loss_fn, self.g_loss_fn = ADVERSARIAL[cfg.adversarial]
        self.info_weights = {
            c.name: cfg.lambda_cat if c.is_categorical else cfg.lambda_cont for c in self.latent.codes
        }

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        # Q's head and the shared trunk are updated by D's optimiser (lr_d), as in the official code, which puts
        # Q's layers among D's variables and subtracts lambda * L_I from both D's and G's losses. G's optimiser
        # (lr_g) sees the information term only through G's own parameters.
        betas = (self.cfg.beta1, self.cfg.beta2)
        d_params = [*self.trunk.parameters(), *self.d_head.parameters(), *self.q_head.parameters()]
        return {
            "d": adam(d_params, lr=self.cfg.lr_d, betas=betas),
            "g": adam(self.G.parameters(), lr=self.cfg.lr_g, betas=betas),
        }

    @property
    def real_batches_per_step(self) -> int:
        return self.cfg.n_critic

    @property
    def encodes_images(self) -> bool:
        return True  # Q reads the codes of real and generated images alike

    @property
    def has_mi_lower_bound(self) -> bool:
        return True

    def train_step(self, batch: Batch, step: int) -> dict[str, Tensor]:
        opt_g = self.optimizers["g"]
        # n_critic D/Q updates, each on its own real batch and fresh latents; the last one's fakes (one G pass)
        # are reused by the G step. With `augment`, D and Q see augmented images while Q's targets stay the codes
        # drawn, so Q learns to read the codes through the augmentation.
        chunks = batch["x"].chunk(self.cfg.n_critic)
        for i, x_real in enumerate(chunks):
            latent = self.latent.sample(x_real.shape[0], generator=self.rng, device=x_real.device)
            with torch.set_grad_enabled(i == len(chunks) - 1):
                x_fake = self.G(self.latent.to_input(latent))
            logs, nll = self._critic_step(x_real, x_fake.detach(), latent)

        # G steps against the updated D; D and Q are frozen so only G's parameters receive gradients, but the
        # information term's gradient flows through Q and the trunk into G (unless info_to_g is off). A step after
        # the first redraws the same latents through the G the step before it left.
        with frozen(self.trunk, self.d_head, self.q_head, *self.g_step_frozen):
            for repeat in range(self.cfg.g_steps):
                if repeat:
                    x_fake = self.G(self.latent.to_input(latent))
                h = self.trunk(self._augment(x_fake))
                g_loss = self.g_loss_fn(self.d_head(h))
                if self.cfg.info_to_g:
                    g_loss_total = g_loss + info_loss(
                        self.latent.code_nll(self.q_head(h), latent), self.info_weights
                    )
                else:
                    g_loss_total = g_loss
                extra = self.g_step_terms(redraw=repeat > 0)
                self.update(opt_g, g_loss_total if extra is None else g_loss_total + extra)

        logs = {"d_loss": logs.pop("d_loss"), "g_loss": g_loss, **logs}
        for code in self.latent.codes:
            logs[f"mi_{code.name}"] = mi_lower_bound(nll[code.name], code.entropy)
        return {k: v.detach() for k, v in logs.items()}

    @property
    def g_step_frozen(self) -> tuple[nn.Module, ...]:
        """Networks besides the trunk and D's and Q's heads that G's loss passes through but G's step must not
        update (a subclass's regulariser)."""
        return ()

    def g_step_terms(self, *, redraw: bool = False) -> Tensor | None:
        """A term a subclass adds to G's loss in this update (InfoGAN-CR's contrastive one), or None; `redraw`
        says G has already stepped in this update, so images drawn before that step are stale."""
        return None

    def _critic_step(
        self, x_real: Tensor, x_fake: Tensor, latent: Latent
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """One D and Q update on detached fakes. Real and fake go through D separately, as in the paper's code, so
        batch norm never mixes their statistics; Q learns to recover c from the fakes (and, with the consistency
        term, to divide the real images consistently)."""
        opt_d = self.optimizers["d"]
        x_real, x_fake = self._augment(x_real), self._augment(x_fake)
        h_real, h_fake = self.trunk(x_real), self.trunk(x_fake)
        d_real, d_fake = self.d_head(h_real), self.d_head(h_fake)
        d_loss = self.d_loss_fn(d_real, d_fake)
        logs: dict[str, Tensor] = {}
        if self.cfg.lipschitz == "gp":
            gp = gradient_penalty(lambda x: self.d_head(self.trunk(x)), x_real, x_fake, self.rng)
            d_loss = d_loss + self.cfg.gp_lambda * gp
            logs["gp"] = gp
        nll = self.latent.code_nll(self.q_head(h_fake if self.cfg.info_to_trunk else h_fake.detach()), latent)
        d_info_loss = info_loss(nll, self.info_weights)
        q_loss = d_info_loss
        if self.cfg.consistency.weight > 0:
            real_loss, real_logs = self._real_consistency(x_real, h_real)
            logs.update(real_logs)
            q_loss = q_loss + real_loss
        self.update(opt_d, d_loss + q_loss)
        if self.cfg.lipschitz == "clip":
            clip_weights([*self.trunk.parameters(), *self.d_head.parameters()], self.cfg.clip)
        if self.cfg.adversarial == "wasserstein":
            logs["wasserstein"] = d_real.mean() - d_fake.mean()
        return {"d_loss": d_loss, "info_loss": d_info_loss, **logs}, nll

    def _real_consistency(self, x_real: Tensor, h_real: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The consistency term's loss on the real images x_real (as D saw them, features h_real), and its logs:
        per categorical code, `mi_real_<name>`, the mutual information between Q's categories for each image and
        for a randomly deformed copy (at most H(c) = ln K); with the continuous terms on, `real_invariance` (the
        mean r between each continuous code's means for the images and their thickness-deformed copies) and
        `real_overlap` (the mean r^2 between pairs of continuous codes' means)."""
        cfg = self.cfg.consistency
        # drawn only when used, so that runs without it repeat the draws of those made before it existed
        x_thick = random_thickness(x_real, self.rng, cfg.thickness) if cfg.thickness else x_real
        x_view = random_affine(
            x_thick, self.rng, degrees=cfg.rotation, shift=cfg.shift, scale=cfg.scale, shear=cfg.shear
        )  # (B, C, H, W)
        post, post_view = (self.latent.posterior(self.q_head(h)) for h in (h_real, self.trunk(x_view)))
        logs = {
            f"mi_real_{c.name}": paired_assignment_mi(
                post[c.name]["logits"].softmax(1), post_view[c.name]["logits"].softmax(1)
            )
            for c in self.latent.codes
            if c.is_categorical
        }
        loss = -cfg.weight * torch.stack(list(logs.values())).sum()
        n = len(self.latent.continuous)
        means = [post[c.name]["mean"] for c in self.latent.continuous]
        if cfg.invariance:
            post_thick = self.latent.posterior(self.q_head(self.trunk(x_thick)))
            means_thick = [post_thick[c.name]["mean"] for c in self.latent.continuous]
            r = torch.corrcoef(torch.stack(means + means_thick)).diagonal(n)  # (n,): code j against its copy
            logs["real_invariance"] = r.mean()
            loss = loss + cfg.invariance * (1 - r).sum()
        if cfg.decorrelation:
            r2 = torch.corrcoef(torch.stack(means)).triu(1).square()  # (n, n), each pair once
            logs["real_overlap"] = r2.sum() / (n * (n - 1) / 2)
            loss = loss + cfg.decorrelation * r2.sum()
        return loss, logs

    def calibration_step(self, real: Tensor) -> None:
        # Q's head has batch norm of its own; with the consistency term it also reads the real batch and its view.
        on_real = self._real_consistency if self.cfg.consistency.weight > 0 else None
        self._calibration_passes(real, self.G, self.trunk, head=self.q_head, on_real=on_real)

    @torch.no_grad()
    def generate(self, latent: Latent) -> Tensor:
        with eval_mode(self.G):
            return self.G(self.latent.to_input(latent))

    @torch.no_grad()
    def infer_codes(self, x: Tensor) -> dict[str, dict[str, Tensor]]:
        """Q's posterior parameters for images x (B, C, H, W) in [-1, 1], in eval mode.

        Returns:
            ``{name: {"logits": (B, K)}}`` for categorical codes, ``{name: {"mean", "log_std": (B,)}}`` otherwise.
        """
        with eval_mode(self.trunk, self.q_head):
            return self.latent.posterior(self.q_head(self.trunk(x)))

    @torch.no_grad()
    def represent(self, x: Tensor) -> Tensor:
        """Q's posterior as a flat representation (B, D): class probabilities of each categorical code, then the
        mean of each continuous code, in the order of the latent spec."""
        post = self.infer_codes(x)
        parts = [
            post[c.name]["logits"].softmax(dim=1) if c.is_categorical else post[c.name]["mean"].unsqueeze(1)
            for c in self.latent.codes
        ]
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def code_nll(self, latent: Latent, *, batch_stats: bool = False) -> dict[str, Tensor]:
        """Per-code NLL of Q on images generated from `latent`: the Monte-Carlo pieces of L_I (see `q_nll`)."""
        return self.q_nll(self.generate(latent), latent, batch_stats=batch_stats)

    @torch.no_grad()
    def q_nll(self, x: Tensor, latent: Latent, *, batch_stats: bool = False) -> dict[str, Tensor]:
        """Per-code NLL of Q on images x generated from `latent`.

        Q runs in eval mode (batch norm with its running statistics) unless `batch_stats`, which normalises with
        the statistics of this batch of fakes, as in training, and leaves the running statistics untouched.
        """
        mode = batch_statistics if batch_stats else eval_mode
        with mode(self.trunk, self.q_head):
            return self.latent.code_nll(self.q_head(self.trunk(x)), latent)
