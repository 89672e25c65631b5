"""Mixed precision for training: `train.precision` fp32 (the default), bf16, fp16, or auto.

bf16 and fp16 run each update's forward passes under `torch.autocast`, which computes convolutions and matrix
products in the narrow type and keeps reductions, softmax and the losses in fp32; weights and optimiser states stay
fp32. fp16's small range needs loss scaling: a `torch.amp.GradScaler` multiplies each loss before its backward pass,
skips an optimiser step whose gradients overflowed and adapts the scale; its state is saved in checkpoints. Every
model's updates go through `GenerativeModel.update`, which applies the scaler, so no model knows about precision.

fp16 is for CUDA only (CPUs have no fast fp16 arithmetic). bf16 is fast on CPUs with AMX or AVX-512 BF16 and on
recent GPUs, and emulated, far slower, elsewhere: `benchmarks/train_throughput.py --precision` measures it.
Evaluation, sampling and export always run in fp32. `auto` picks bf16 where the hardware computes it natively (a
CPU with AVX-512 BF16 or AMX, a CUDA GPU that supports bf16) and fp32 elsewhere; docs/scaling.md has what bf16 did
to speed and to the MNIST headline on such a CPU.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

import torch

from infogan.errors import ConfigError
from infogan.machine import cpu_flags

PrecisionName = Literal["fp32", "bf16", "fp16"]
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
# CPU instructions that compute bf16 products natively; without them PyTorch emulates bf16, far slower than fp32.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 natively."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu" and bool(NATIVE_BF16_FLAGS & cpu_flags())


def resolve_precision(name: PrecisionName | Literal["auto"], device: torch.device) -> PrecisionName:
    """The precision a run trains in: `name`, or for auto bf16 where `device` does it natively and fp32 elsewhere."""
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name


class Precision:
    """The autocast context of one precision on one device, and the gradient scaler fp16 needs."""

    def __init__(self, name: PrecisionName | Literal["auto"], device: torch.device) -> None:
        name = resolve_precision(name, device)
        if name == "fp16" and device.type != "cuda":
            raise ConfigError(
                f"train.precision fp16 needs a CUDA device (this run is on {device}); use bf16 or fp32"
            )
        self.name, self.device = name, device
        self.scaler = torch.amp.GradScaler(device.type) if name == "fp16" else None

    def autocast(self) -> AbstractContextManager[Any]:
        """The context for a training step's forward passes: autocast to the narrow type, or nothing in fp32."""
        if self.name == "fp32":
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=DTYPES[self.name])

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint must keep to resume exactly: the gradient scaler's scale and growth counter."""
        return {"grad_scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and "grad_scaler" in state:
            self.scaler.load_state_dict(state["grad_scaler"])
