"""The latent input of InfoGAN (arXiv:1606.03657, Sec. 4): incompressible noise z and structured codes c.

One `LatentSpec` is written once (e.g. ``noise: 62, codes: [cat:10, uniform:2]``) and read everywhere: it samples
the prior, builds the generator input, reads the parameters of Q's posterior off Q's output, gives the per-code
Q loss, the entropy ceiling H(c) and the latent grids used for traversals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from infogan.errors import ConfigError
from infogan.losses.info import gaussian_nll

CodeKind = Literal["categorical", "uniform", "normal"]
NoisePrior = Literal["uniform", "normal"]

_KIND_ALIASES: dict[str, CodeKind] = {
    "cat": "categorical",
    "categorical": "categorical",
    "uniform": "uniform",
    "normal": "normal",
    "gaussian": "normal",
}
# Bounds on Q's log-std for continuous codes: a numerical guard, so a near-deterministic code cannot drive the
# Gaussian NLL to -inf. Any bounded family still gives a valid lower bound on I(c; G(z, c)).
LOG_STD_MIN, LOG_STD_MAX = math.log(1e-2), math.log(10.0)


@dataclass(frozen=True)
class Code:
    """One latent code: a categorical variable with `k` values, or a scalar continuous one."""

    name: str
    kind: CodeKind
    k: int = 1

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def entropy(self) -> float:
        """H(c) in nats: ln K for Cat(K); the differential entropy for U(-1, 1) (ln 2) and N(0, 1)."""
        if self.kind == "categorical":
            return math.log(self.k)
        if self.kind == "uniform":
            return math.log(2.0)
        return 0.5 * math.log(2 * math.pi * math.e)


@dataclass(frozen=True)
class Latent:
    """A batch of latent inputs.

    Attributes:
        z: (B, noise) incompressible noise.
        c_cat: (B, n_categorical) long, the index of each categorical code.
        c_cont: (B, n_continuous) float, the value of each continuous code.
    """

    z: Tensor
    c_cat: Tensor
    c_cont: Tensor

    def __len__(self) -> int:
        return self.z.shape[0]


@dataclass(frozen=True)
class LatentSpec:
    """Noise size, codes and how Q models the continuous codes.

    Args:
        noise: number of noise dimensions.
        codes: the codes, named c1, c2, ... in order.
        noise_prior: distribution of z: U(-1, 1) as in the paper, or N(0, 1).
        fixed_std: if True Q predicts only the mean of each continuous code and its std is fixed to 1 (the official
            code); if False Q also predicts log sigma (the paper).
    """

    noise: int
    codes: tuple[Code, ...]
    noise_prior: NoisePrior = "uniform"
    fixed_std: bool = False

    @classmethod
    def parse(
        cls, noise: int, codes: Sequence[str], *, noise_prior: NoisePrior = "uniform", fixed_std: bool = False
    ) -> LatentSpec:
        """Build a spec from strings such as ``["cat:10", "uniform:2"]`` (``uniform:2`` is two scalar codes)."""
        if noise < 0:
            raise ConfigError(f"latent noise size must be >= 0, got {noise}")
        parsed: list[Code] = []
        for text in codes:
            kind_text, _, count_text = str(text).partition(":")
            kind = _KIND_ALIASES.get(kind_text.strip().lower())
            if kind is None or not count_text.strip().isdigit() or int(count_text) < 1:
                raise ConfigError(
                    f"bad latent code '{text}': expected 'cat:K', 'uniform:N' or 'normal:N' "
                    "with a positive integer"
                )
            count = int(count_text)
            if kind == "categorical":
                if count < 2:
                    raise ConfigError(f"bad latent code '{text}': a categorical code needs K >= 2")
                parsed.append(Code(f"c{len(parsed) + 1}", kind, count))
            else:
                first = len(parsed) + 1
                parsed.extend(Code(f"c{first + i}", kind) for i in range(count))
        return cls(noise, tuple(parsed), noise_prior, fixed_std)

    # --- sizes -------------------------------------------------------------------------------------------------
    @property
    def categorical(self) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if c.is_categorical)

    @property
    def continuous(self) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if not c.is_categorical)

    @property
    def dim(self) -> int:
        """Size of the generator input: noise + one-hot categorical codes + continuous codes."""
        return self.noise + sum(c.k for c in self.categorical) + len(self.continuous)

    @property
    def q_dim(self) -> int:
        """Size of Q's output: logits per categorical code, mean (and log-std) per continuous code."""
        per_cont = 1 if self.fixed_std else 2
        return sum(c.k for c in self.categorical) + per_cont * len(self.continuous)

    def code(self, name: str) -> Code:
        for c in self.codes:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.codes) or "none"
        raise ConfigError(f"unknown code '{name}' (this model's codes: {known})")

    # --- sampling ----------------------------------------------------------------------------------------------
    def sample(
        self, n: int, *, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Latent:
        """Draw n latents from the prior. Returns a `Latent` with tensors on `device`."""
        if self.noise_prior == "uniform":
            z = torch.rand(n, self.noise, generator=generator, device=device) * 2 - 1
        else:
            z = torch.randn(n, self.noise, generator=generator, device=device)
        c_cat = (
            torch.stack(
                [torch.randint(c.k, (n,), generator=generator, device=device) for c in self.categorical],
                dim=1,
            )
            if self.categorical
            else torch.zeros(n, 0, dtype=torch.long, device=device)
        )
        cont = self.continuous
        c_cont = torch.empty(n, len(cont), device=device)
        for j, c in enumerate(cont):
            if c.kind == "uniform":
                c_cont[:, j] = torch.rand(n, generator=generator, device=device) * 2 - 1
            else:
                c_cont[:, j] = torch.randn(n, generator=generator, device=device)
        return Latent(z, c_cat, c_cont)

    def to_input(self, latent: Latent) -> Tensor:
        """Concatenate [z, one-hot(c_cat), c_cont] into the (B, dim) generator input."""
        parts = [latent.z]
        parts += [
            F.one_hot(latent.c_cat[:, i], c.k).to(latent.z.dtype) for i, c in enumerate(self.categorical)
        ]
        parts.append(latent.c_cont)
        return torch.cat(parts, dim=1)

    def with_codes(self, latent: Latent, values: Mapping[str, float]) -> Latent:
        """Return `latent` with the named codes set to fixed values (category index or continuous value)."""
        c_cat, c_cont = latent.c_cat.clone(), latent.c_cont.clone()
        for name, value in values.items():
            code = self.code(name)
            if not math.isfinite(value):
                raise ConfigError(f"code {name} must be a finite number, not {value:g}")
            if code.is_categorical:
                if float(value) != int(value) or not 0 <= int(value) < code.k:
                    raise ConfigError(
                        f"code {name} is categorical with {code.k} values: "
                        f"give an integer in 0..{code.k - 1}, not {value:g}"
                    )
                c_cat[:, self.categorical.index(code)] = int(value)
            else:
                c_cont[:, self.continuous.index(code)] = float(value)
        return replace(latent, c_cat=c_cat, c_cont=c_cont)

    def far_from_training(self, values: Mapping[str, float]) -> list[str]:
        """A note for each continuous code set beyond where G has been shown to draw: past +-2 for a U(-1, 1) code
        (the paper's traversals reach +-2) or +-3 standard deviations for a N(0, 1) one. Such values are allowed;
        G was simply never trained near them."""
        notes = []
        for name, value in values.items():
            code = self.code(name)
            if code.is_categorical or not math.isfinite(value):  # non-finite values are refused by with_codes
                continue
            limit, prior = (2.0, "U(-1, 1)") if code.kind == "uniform" else (3.0, "N(0, 1)")
            if abs(value) > limit:
                notes.append(
                    f"{name}={value:g} is far outside its prior {prior}: G was trained on the prior and is usually "
                    f"shown within +-{limit:g}"
                )
        return notes

    # --- Q's posterior and the information term ----------------------------------------------------------------
    def posterior(self, q_out: Tensor) -> dict[str, dict[str, Tensor]]:
        """Read Q's output (B, q_dim) as per-code posterior parameters.

        Returns:
            ``{name: {"logits": (B, K)}}`` for categorical codes and ``{name: {"mean": (B,), "log_std": (B,)}}``
            for continuous ones (log_std is 0 when the std is fixed).
        """
        out: dict[str, dict[str, Tensor]] = {}
        start = 0
        for c in self.categorical:
            out[c.name] = {"logits": q_out[:, start : start + c.k]}
            start += c.k
        n_cont = len(self.continuous)
        means = q_out[:, start : start + n_cont]
        if self.fixed_std:
            log_stds = torch.zeros_like(means)
        else:
            log_stds = q_out[:, start + n_cont : start + 2 * n_cont].clamp(LOG_STD_MIN, LOG_STD_MAX)
        for j, c in enumerate(self.continuous):
            out[c.name] = {"mean": means[:, j], "log_std": log_stds[:, j]}
        return out

    def code_nll(self, q_out: Tensor, latent: Latent) -> dict[str, Tensor]:
        """Per-code Q loss: -E[log Q(c | x)] over the batch, in nats.

        Categorical codes use cross-entropy on Q's logits (softmax applied exactly once, inside the loss);
        continuous codes use the Gaussian negative log-likelihood with Q's mean and std.

        Returns:
            ``{name: scalar tensor}``; ``entropy - nll`` is the code's term of the lower bound L_I.
        """
        post = self.posterior(q_out)
        nll: dict[str, Tensor] = {}
        for i, c in enumerate(self.categorical):
            nll[c.name] = F.cross_entropy(post[c.name]["logits"], latent.c_cat[:, i])
        for j, c in enumerate(self.continuous):
            nll[c.name] = gaussian_nll(
                latent.c_cont[:, j], post[c.name]["mean"], post[c.name]["log_std"]
            ).mean()
        return {c.name: nll[c.name] for c in self.codes}

    # --- grids for traversals ----------------------------------------------------------------------------------
    def traversal(
        self,
        code: str,
        values: Tensor,
        *,
        rows: int = 10,
        rows_by: str | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> Latent:
        """Latents for a traversal figure (paper Fig. 2 layout): columns sweep `code` over `values`.

        Args:
            code: name of the code that varies along each row.
            values: (S,) values to sweep: category indices for a categorical code, reals for a continuous one.
            rows: number of rows when rows are independent draws of noise and of the other codes.
            rows_by: name of a categorical code; if given there is one row per value of it, the noise and the
                other categorical codes are one draw shared by the whole figure, and the other continuous codes
                are 0.
            generator: randomness for the fixed inputs.

        Returns:
            A `Latent` of rows * S entries in row-major order.
        """
        swept = self.code(code)
        n_cols = values.numel()
        if rows_by is not None:
            row_code = self.code(rows_by)
            if not row_code.is_categorical:
                others = [c.name for c in self.categorical if c != swept]
                choice = f"give {' or '.join(others)} or noise" if others else "give noise"
                raise ConfigError(f"rows cannot follow {rows_by}: it is a continuous code ({choice})")
            if row_code == swept:
                raise ConfigError(f"rows cannot follow {rows_by}: it is the code being swept")
            rows = row_code.k
            base = self.sample(1, generator=generator, device=device)
            base = Latent(*(t.expand(rows, -1).clone() for t in (base.z, base.c_cat, base.c_cont)))
            base.c_cat[:, self.categorical.index(row_code)] = torch.arange(rows, device=device)
            base.c_cont.zero_()  # the other continuous codes sit at their prior's centre
        else:
            base = self.sample(rows, generator=generator, device=device)
        grid = Latent(*(t.repeat_interleave(n_cols, dim=0) for t in (base.z, base.c_cat, base.c_cont)))
        swept_values = values.to(device).repeat(rows)
        if swept.is_categorical:
            grid.c_cat[:, self.categorical.index(swept)] = swept_values.long()
        else:
            grid.c_cont[:, self.continuous.index(swept)] = swept_values.float()
        return grid

    def code_rows(
        self, values: Tensor, *, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Latent:
        """Latents of a figure with one row per continuous code: row j sweeps code j over `values` (S,) while the
        noise and every other code keep one draw shared by the whole figure. Returns len(continuous) * S entries
        in row-major order."""
        if not self.continuous:
            raise ConfigError("this model has no continuous codes to traverse")
        rows, n_cols = len(self.continuous), values.numel()
        base = self.sample(1, generator=generator, device=device)
        grid = Latent(*(t.expand(rows * n_cols, -1).clone() for t in (base.z, base.c_cat, base.c_cont)))
        for j in range(rows):
            grid.c_cont[j * n_cols : (j + 1) * n_cols, j] = values.to(device).float()
        return grid
