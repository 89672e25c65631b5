"""Feature spaces for sample-quality metrics (FID, KID, precision/recall).

Inception-v3 features (Heusel et al. 2017, arXiv:1706.08500) describe natural RGB photographs; on 28x28 grayscale
digits they are both a poor fit and unavailable offline. The default feature space is therefore a small classifier
that the project trains on the dataset's own training split: deterministic from a seed, cached per dataset and image
shape, with its held-out accuracy recorded beside the weights so every FID says what it was measured with.
Standard Inception FID is available when the user has the weights on disk (`inception_extractor`).

The networks are trained on, or loaded for, a dataset and cached on disk, so they belong to running an evaluation;
the scores computed in their space are the pure functions of metrics/ (fid.py, precision_recall.py, quality.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from infogan.data import ImageTensorDataset
from infogan.errors import ConfigError
from infogan.images import Images
from infogan.metrics.quality import quality_from_features
from infogan.progress import Eta, ProgressFn

FEATURE_DIM = 128
CACHE_VERSION = 1
DEFAULT_CACHE = Path("~/.cache/infogan/features")


class FeatureClassifier(nn.Module):
    """A small CNN classifier for (C, S, S) images in [-1, 1]; its penultimate layer is the feature space.

    4x4 conv 32 stride 2, 4x4 conv 64 stride 2 (leaky ReLU 0.2 after each), FC 128 leaky ReLU (the features), FC to
    the class logits: a few MFLOP per 28x28 image, so training it costs well under a minute on a CPU.
    """

    def __init__(self, channels: int, image_size: int, num_classes: int) -> None:
        super().__init__()
        self.num_features = FEATURE_DIM  # read by torchmetrics when the network is used as its extractor
        side = image_size // 4  # two 4x4 stride-2 convolutions with padding 1 halve the side twice
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),  # (B, 64 * S/4 * S/4)
            nn.Linear(64 * side * side, FEATURE_DIM),
            nn.LeakyReLU(0.2),
        )
        self.classify = nn.Linear(FEATURE_DIM, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Features (B, 128) of images (B, C, S, S) in [-1, 1]."""
        return self.body(x)

    def logits(self, x: Tensor) -> Tensor:
        return self.classify(self.body(x))


@dataclass
class FeatureExtractor:
    """Maps images (B, C, H, W) in [-1, 1] to features (B, F); `info` says what the network is."""

    net: nn.Module
    info: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[Tensor], Tensor] = lambda x: x
    batch_size: int = 500

    @torch.no_grad()
    def __call__(self, images: Images) -> Tensor:
        batch_size = self.batch_size
        self.net.eval()
        device = next(self.net.parameters()).device
        out = [
            self.net(self.prepare(images[i : i + batch_size].to(device))).float().cpu()
            for i in range(0, images.shape[0], batch_size)
        ]
        return torch.cat(out)


@torch.no_grad()
def accuracy(net: FeatureClassifier, data: ImageTensorDataset, batch_size: int = 500) -> float:
    """Fraction of `data` (which must be labelled) that `net` classifies correctly."""
    assert data.labels is not None
    net.eval()
    correct = 0
    for i in range(0, len(data), batch_size):
        pred = net.logits(data.images[i : i + batch_size]).argmax(dim=1)
        correct += int((pred == data.labels[i : i + batch_size]).sum())
    return correct / max(len(data), 1)


def train_classifier(
    train: ImageTensorDataset,
    num_classes: int,
    *,
    steps: int = 1000,
    batch_size: int = 128,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> FeatureClassifier:
    """Train a `FeatureClassifier` with Adam (lr 1e-3) on labelled images; the result depends only on the data,
    the sizes and `seed`."""
    if train.labels is None:
        raise ConfigError(f"dataset {train.name} has no labels to train a feature classifier on")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = FeatureClassifier(train.shape[0], train.shape[1], num_classes)
    net.to(train.images.device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    eta = Eta("feature classifier", steps, progress or (lambda _: None), unit=" steps")
    for step in range(1, steps + 1):
        idx = torch.randint(len(train), (batch_size,), generator=generator).to(train.images.device)
        loss = nn.functional.cross_entropy(net.logits(train.images[idx]), train.labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        eta(step)
    return net.eval()


def cache_key(train: ImageTensorDataset, steps: int, seed: int) -> str:
    """The cache folder name: dataset, image shape, steps, seed, and a fingerprint of the training data (image
    count, labels and a strided sample of pixels), so two datasets of one name never share a classifier."""
    c, h, w = train.shape
    digest = hashlib.sha256(str(len(train)).encode())
    if train.labels is not None:
        digest.update(train.labels.cpu().numpy().tobytes())
    stride = max(len(train) // 256, 1)
    digest.update(train.images[::stride].cpu().float().numpy().tobytes())
    return f"{train.name}-{c}x{h}x{w}-steps{steps}-seed{seed}-{digest.hexdigest()[:12]}-v{CACHE_VERSION}"


def classifier_extractor(
    train: ImageTensorDataset,
    test: ImageTensorDataset,
    num_classes: int,
    *,
    cache_dir: Path = DEFAULT_CACHE,
    steps: int = 1000,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> FeatureExtractor:
    """The project's feature classifier for a dataset: loaded from the cache, or trained on `train`, measured on
    `test` and cached.

    Returns:
        The extractor; `info` holds the network name, dataset, image shape, seed, steps and held-out accuracy.
    """
    folder = cache_dir.expanduser() / cache_key(train, steps, seed)
    with torch.random.fork_rng(devices=[]):  # loading must not consume the caller's random stream
        net = FeatureClassifier(train.shape[0], train.shape[1], num_classes)
    info_path, weights_path = folder / "info.json", folder / "model.safetensors"
    if info_path.is_file() and weights_path.is_file():
        try:
            net.load_state_dict(load_file(weights_path))
            info = json.loads(info_path.read_text())
            return FeatureExtractor(net.to(train.images.device).eval(), info)
        except (OSError, ValueError, RuntimeError) as exc:
            if progress is not None:
                progress(f"feature classifier cache {folder} is unreadable ({exc}); retraining it")
    if progress is not None:
        progress(f"training the feature classifier for {train.name} ({steps} steps; cached in {folder})")
    net = train_classifier(train, num_classes, steps=steps, seed=seed, progress=progress)
    info = {
        "network": "classifier",
        "dataset": train.name,
        "image_shape": list(train.shape),
        "num_classes": num_classes,
        "seed": seed,
        "steps": steps,
        "train_images": len(train),
        "test_images": len(test),
        "test_accuracy": accuracy(net, test) if test.labels is not None else None,
    }
    _write_cache(folder, net, info)
    return FeatureExtractor(net, info)


def _write_cache(folder: Path, net: nn.Module, info: dict[str, Any]) -> None:
    """Write weights and info into a temporary folder and rename it into place, so a reader never sees half a
    cache entry; a failure to cache is not an error (the classifier is still used)."""
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, tmp / "model.safetensors"
        )
        (tmp / "info.json").write_text(json.dumps(info, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def inception_weights_file(weights: str | Path | None) -> Path:
    """The Inception weights file given (`--fid-weights`), or one line saying it is not given or not there."""
    if weights is None:
        raise ConfigError("Inception features need the weights file: give --fid-weights PATH")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"Inception weights not found at {path} (give --fid-weights PATH to a local file)")
    return path


def inception_extractor(weights: str | Path | None, device: torch.device) -> FeatureExtractor:
    """Standard FID features: Inception-v3 pool3 (2048-d) as in the TensorFlow FID code, from local weights.

    Grayscale images are replicated to three channels; images are mapped to uint8 [0, 255] and resized to 299x299
    by the network itself (torch-fidelity's port of the TensorFlow graph, used through torchmetrics). The weights
    file (torch-fidelity's ``pt_inception-2015-12-05-6726825d.pth``, or the same tensors as safetensors) is read
    with `torch.load(weights_only=True)`, which refuses pickled code, before the network sees it.
    """
    try:
        from torchmetrics.image.fid import NoTrainInceptionV3
    except ImportError as exc:  # pragma: no cover - torchmetrics is a dependency
        raise ConfigError(f"Inception FID needs torchmetrics: {exc}") from exc
    state = _read_weights(inception_weights_file(weights))
    with tempfile.TemporaryDirectory() as tmp:
        # torch-fidelity unpickles whatever file it is given; it is given only tensors we have already read safely
        clean = Path(tmp) / "inception.pt"
        torch.save(state, clean)
        try:
            net = NoTrainInceptionV3(
                name="inception-v3-compat",
                features_list=["2048"],
                feature_extractor_weights_path=str(clean),
                antialias=False,  # the TensorFlow FID graph's resize, so scores compare with published FID
            )
        except ModuleNotFoundError as exc:
            raise ConfigError(
                "Inception FID needs torch-fidelity: pip install 'infogan[inception]' (or pip install torch-fidelity)"
            ) from exc
        except RuntimeError as exc:
            raise ConfigError(
                f"{weights} does not hold Inception-v3 weights: {str(exc).splitlines()[0]}"
            ) from exc

    def prepare(x: Tensor) -> Tensor:
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    info = {"network": "inception-v3", "weights": str(weights), "feature_dim": 2048}
    # 299x299 activations: small batches keep memory to a few hundred MB on a CPU
    return FeatureExtractor(net.to(device), info, prepare, batch_size=50)


def _read_weights(path: Path) -> dict[str, Tensor]:
    """A state dict from a safetensors or PyTorch file, refusing anything that is not plain tensors."""
    try:
        if path.suffix == ".safetensors":
            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to read the file is the same user error
        raise ConfigError(f"cannot read Inception weights from {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ConfigError(f"{path} is not a state dict of tensors")
    return state


def sample_quality(
    extract: FeatureExtractor, real: Tensor, fake: Tensor, *, k: int = 3, seed: int = 0
) -> dict[str, Any]:
    """FID, KID and precision/recall of `fake` against `real` in the feature space of `extract`.

    Args:
        extract: the feature network.
        real: (N, C, H, W) real images in [-1, 1] (the reference set).
        fake: (M, C, H, W) images to score. Precision/recall use the first min(N, M) of each set, since the method
            assumes equally many real and generated samples.
        k: neighbourhood size for precision/recall.

    Returns:
        ``{"fid", "kid", "kid_std", "precision", "recall", "features": {...}}`` where "features" records the
        network and the sample counts each number was computed from.
    """
    return quality_from_features(extract(real), extract(fake), extract.info, k=k, seed=seed)
