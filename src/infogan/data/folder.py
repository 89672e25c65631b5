"""`folder:PATH`: any directory of images as an unlabelled dataset, with one loading policy for every file.

Every file is checked before it is used (extension, content, size, pixel count, links); a file that fails is
skipped and reported with its reason, or, with `strict`, stops the load. Decoding converts every Pillow mode to
[0, 1] floats the same way: 16-bit by its bit depth, CMYK to RGB, transparency composited over black (the
background of our other datasets), grey from RGB by ITU-R 601 luminance (as Pillow's "L").
"""

from __future__ import annotations

import functools
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from infogan.config import DataConfig
from infogan.data.base import ImageSource, Split, resize01
from infogan.errors import ConfigError, DataUnavailableError
from infogan.images import unreadable_reason

CropPolicy = Literal["center-crop", "resize"]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
MAX_PIXELS = 50_000_000  # per image; larger files are refused as possible decompression bombs
MIN_SIDE = 8  # images smaller than this on a side carry no usable content
MAX_BYTES = 2 * 1024**3  # decoded float32 pixels held in memory
TEST_FRACTION = 0.1
SPLIT_SEED = 0
REPORT_LINES = 20
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, the weights of Pillow's "L"


@dataclass
class Scan:
    """What `scan_folder` found: usable images, bad files with a reason each, and what it ignored."""

    good: list[Path] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)
    skipped_hidden: int = 0
    not_images: int = 0  # files without an image extension, ignored

    def summary(self) -> str:
        """One line: how many files of each kind, e.g. '3 files: 2 not images, 1 empty file'."""
        kinds = Counter(reason.split(":")[0].split(" (")[0] for _, reason in self.bad)
        parts = [f"{len(self.good)} valid"] if self.good else []
        parts += [f"{self.not_images} not images"] if self.not_images else []
        parts += [f"{n} {kind}" for kind, n in kinds.items()]
        total = len(self.good) + len(self.bad) + self.not_images
        hidden = f"; {self.skipped_hidden} hidden files skipped" if self.skipped_hidden else ""
        if not total:
            return f"no files in it{hidden}"
        return f"{total} files: {', '.join(parts)}{hidden}"


def check_image(path: Path, *, max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE) -> str | None:
    """Why the file at `path` cannot be used as an image, or None if its header and structure look valid."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        # our own pixel limit below is the one that counts; Pillow's warning would only repeat it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > max_pixels:
                    return f"image too large ({w} x {h} pixels, limit {max_pixels:,})"
                if min(w, h) < min_side:
                    return f"too small ({w}x{h}, minimum {min_side} px a side)"
                im.verify()
    except Image.DecompressionBombError as exc:
        return f"image too large ({exc})"
    except Exception as exc:  # Pillow raises many types for malformed files; each is a reason, not a crash
        return f"not a valid image: {unreadable_reason(exc)}"
    return None


def scan_folder(
    root: Path,
    *,
    follow_links_within_root: bool = True,
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
) -> Scan:
    """Walk `root` recursively in sorted order and check every image file.

    Hidden files and folders (name starting with '.') are skipped and counted; files without an image extension
    are ignored and counted. A symbolic link is followed only if `follow_links_within_root` and its target lies
    inside `root`; a link to a folder already walked (a loop) is listed as bad rather than walked again.

    Raises:
        DataUnavailableError: `root` is missing or not a folder.
    """
    if not root.is_dir():
        raise DataUnavailableError(f"image folder {root} does not exist or is not a folder")
    real_root = root.resolve()
    scan, visited = Scan(), {real_root}

    def walk(folder: Path) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            scan.bad.append((folder, f"cannot read folder: {exc.strerror}"))
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                scan.skipped_hidden += 1
                continue
            if entry.is_symlink():
                reason = _link_problem(path, real_root, follow_links_within_root)
                if reason is not None:
                    scan.bad.append((path, reason))
                    continue
            if entry.is_dir():
                real = path.resolve()
                if real in visited:
                    scan.bad.append((path, "link to a folder already scanned (a loop)"))
                    continue
                visited.add(real)
                walk(path)
            elif not entry.is_file():
                continue  # sockets, pipes, devices
            elif path.suffix.lower() not in IMAGE_EXTENSIONS:
                scan.not_images += 1
            elif (reason := check_image(path, max_pixels=max_pixels, min_side=min_side)) is not None:
                scan.bad.append((path, reason))
            else:
                scan.good.append(path)

    walk(root)
    return scan


def _link_problem(path: Path, real_root: Path, follow: bool) -> str | None:
    if not follow:
        return "symbolic link (not followed)"
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "broken link"
    except (OSError, RuntimeError):  # RuntimeError: a link that points at itself through other links
        return "link loop"
    if not target.is_relative_to(real_root):
        return "link leaves the root"
    return None


def load_image(path: Path, channels: int, image_size: int, policy: CropPolicy = "center-crop") -> Tensor:
    """Decode one image fully and bring it to the dataset's shape.

    Args:
        channels: 1 (grey, by luminance) or 3 (RGB).
        image_size: side S of the square output.
        policy: "center-crop" takes the central square then resizes; "resize" squashes the whole image.

    Returns:
        (channels, S, S) float32 in [0, 1].

    Raises:
        Whatever Pillow raises for data it cannot decode (truncated files pass `verify` but fail here).
    """
    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft(im.mode, (image_size, image_size))  # decode at a reduced scale, still >= S on each side
        im.load()
        upright = ImageOps.exif_transpose(im)  # camera photos store their rotation in EXIF
        x = torch.from_numpy(_to_float(upright)).permute(2, 0, 1)  # (K, H, W), K colour channels (+ alpha)
    if x.shape[0] in (2, 4):
        x = x[:-1] * x[-1:]  # composited over black
    if channels == 1 and x.shape[0] == 3:
        x = torch.einsum("khw,k->hw", x, torch.from_numpy(_LUMA)).unsqueeze(0)
    elif channels == 3 and x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    if policy == "center-crop":
        h, w = x.shape[1:]
        s = min(h, w)
        x = x[:, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return resize01(x.unsqueeze(0).contiguous(), image_size)[0]


def _to_float(im: Image.Image) -> np.ndarray:
    """(H, W, K) float32 in [0, 1]; K = 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA)."""
    if im.mode.startswith("I;16"):
        arr = np.asarray(im).astype(np.float32) / 65535.0
    elif im.mode == "I":  # 32-bit container; in practice 16-bit data (PNG, TIFF), wider only if values say so
        raw = np.asarray(im).astype(np.float64).clip(0, None)
        arr = (raw / (65535.0 if raw.max() <= 65535 else 2.0**32 - 1)).astype(np.float32)
    elif im.mode == "F":
        arr = np.asarray(im, dtype=np.float32).clip(0, 1)
    else:
        if "transparency" in im.info or im.mode in ("RGBa", "PA"):
            im = im.convert("RGBA")
        elif im.mode in ("1", "La"):
            im = im.convert("LA" if im.mode == "La" else "L")
        elif im.mode not in ("L", "LA", "RGB", "RGBA"):
            im = im.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return arr[..., None] if arr.ndim == 2 else arr


class FolderSource(ImageSource):
    """Every valid image under one folder, unlabelled, as (N, C, S, S) in [0, 1], held in memory.

    The folder is scanned and decoded once per change of its contents; 10% of the images (at least one) are held
    out as the test split by a fixed permutation, so every run on the same folder evaluates on the same images.
    """

    num_classes = None

    def __init__(
        self,
        root: Path,
        channels: int = 3,
        image_size: int = 64,
        policy: CropPolicy = "center-crop",
        strict: bool = False,
        *,
        name: str | None = None,
        max_pixels: int = MAX_PIXELS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        if channels not in (1, 3):
            raise ConfigError(f"an image folder can be read with 1 or 3 channels, not {channels}")
        self.root, self.policy, self.strict = root, policy, strict
        self.name = name or f"folder:{root}"
        self.channels, self.image_size = channels, image_size
        self.max_pixels, self.max_bytes = max_pixels, max_bytes
        self.how_to_get = f"put image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {root}"
        self.description = f"images in {root}"
        self.bad: list[tuple[Path, str]] = []
        self._cache: tuple[tuple[object, ...], Tensor] | None = None

    def available(self, root: Path | None) -> bool:
        try:
            self._images()
        except DataUnavailableError:
            return False
        return True

    def load(
        self, root: Path | None, split: Split, *, download: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        images = self._images()
        n = images.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
        if n == 1:  # a single image serves as both splits: there is nothing to hold out
            return images, None
        n_test = _held_out(n)
        return images[order[:n_test] if split == "test" else order[n_test:]], None

    def report(self) -> list[str]:
        """Lines naming the bad files of the last load and why each was skipped (the first 20, then a count)."""
        if not self.bad:
            return []
        lines = [f"skipped {_count(len(self.bad), 'bad file')} in {self.root}:"]
        lines += [f"  {_relative(p, self.root)}: {reason}" for p, reason in self.bad[:REPORT_LINES]]
        if len(self.bad) > REPORT_LINES:
            lines.append(f"  ... and {len(self.bad) - REPORT_LINES} more")
        return lines

    def _images(self) -> Tensor:
        key = _fingerprint(self.root)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        scan = scan_folder(self.root, max_pixels=self.max_pixels)
        self.bad = list(scan.bad)
        self._check_strict()
        per_image = 4 * self.channels * self.image_size**2
        if len(scan.good) * per_image > self.max_bytes:
            raise DataUnavailableError(
                f"folder {self.root}: {len(scan.good):,} images at {self.channels}x{self.image_size}x"
                f"{self.image_size} need {len(scan.good) * per_image / 1e9:.3g} GB in memory, more than the "
                f"{self.max_bytes / 1e9:.3g} GB limit (about {self.max_bytes // per_image:,} fit); "
                "use a smaller --image-size or a folder with fewer images"
            )
        images = torch.empty(len(scan.good), self.channels, self.image_size, self.image_size)
        n = 0
        for path in scan.good:
            try:
                images[n] = load_image(path, self.channels, self.image_size, self.policy)
                n += 1
            except Exception as exc:  # truncated or corrupt data that `verify` let through
                self.bad.append((path, f"not a valid image: {exc}"))
        self._check_strict()
        if n == 0:
            scan.good, scan.bad = [], self.bad
            raise DataUnavailableError(f"folder {self.root} has no valid images: {scan.summary()}")
        held_out = _held_out(n)
        self.description = (
            f"{n} images from {self.root} ({self.policy} to {self.image_size}x{self.image_size}, "
            f"{'grayscale' if self.channels == 1 else 'RGB'}, unlabelled; {n - held_out} for training and "
            f"{held_out} held out for evaluation)"
        )
        if self.bad:
            self.description += "; " + "\n".join(self.report())
        self._cache = (key, images[:n])
        return images[:n]

    def _check_strict(self) -> None:
        if self.strict and self.bad:
            first = "; ".join(f"{_relative(p, self.root)}: {r}" for p, r in self.bad[:5])
            raise DataUnavailableError(
                f"folder {self.root} has {_count(len(self.bad), 'bad file')} (strict mode): {first}"
                + (" ..." if len(self.bad) > 5 else "")
            )


def _held_out(n: int) -> int:
    """Images of n held out as the test split: a tenth, at least one (none of a single image)."""
    return 0 if n == 1 else max(1, round(TEST_FRACTION * n))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _fingerprint(root: Path) -> tuple[object, ...]:
    """Names, sizes and modification times of everything under `root` (links not followed): cheap to take,
    and different whenever a file is added, removed or rewritten."""
    entries: list[object] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files + dirs):
            st = os.lstat(os.path.join(folder, name))
            entries.append((folder, name, st.st_size, st.st_mtime_ns))
    return tuple(entries)


DESCRIPTION = "any folder of images (unlabelled; bad files are skipped and listed)"
USAGE = "--dataset folder:PATH [--image-size S] [--channels C] [--strict]"


def source_for(path: str, cfg: DataConfig) -> FolderSource:
    """The source for `folder:PATH` read with `cfg`'s channels, image size, crop policy and strictness; a relative
    PATH is taken inside `cfg.root` when set. Channels and size not given come from the images themselves
    (`native_shape`). Sources are shared per setting, so a folder is decoded once per process."""
    folder = Path(path).expanduser()
    if not folder.is_absolute() and cfg.root:
        folder = Path(cfg.root).expanduser() / folder
    root = Path(os.path.abspath(folder))
    channels, size = cfg.channels, cfg.image_size
    if channels is None or size is None:
        native_channels, native_size = native_shape(root, _fingerprint(root) if root.is_dir() else ())
        channels, size = channels or native_channels, size or native_size
    return _shared(f"folder:{path}", root, channels, size, cfg.crop, cfg.strict)


DEFAULT_SIZE = 64  # the side images larger than this (or of mixed sizes) are brought to by default
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"})


@functools.lru_cache(maxsize=8)
def native_shape(root: Path, fingerprint: tuple[object, ...]) -> tuple[int, int]:
    """(channels, side) the folder's images suggest, read from their headers: 1 channel when every image is grey,
    else 3; the images' common shorter side when they all share one of at most 64 pixels (rounded up to a
    multiple of 4, which every backbone's two halvings need), else 64. Unreadable
    files are left to the load to report. `fingerprint` keys the cache to the folder's contents."""
    del fingerprint
    grey, sides = True, set()
    try:
        scan = scan_folder(root)
    except DataUnavailableError:
        return 3, DEFAULT_SIZE  # the load says what is wrong with the folder
    for path in scan.good:
        try:
            with Image.open(path) as im:
                grey = grey and im.mode in _GREY_MODES
                sides.add(min(im.size))
        except Exception:  # reported, with its reason, when the images are loaded
            continue
    side = sides.pop() if len(sides) == 1 and next(iter(sides)) <= DEFAULT_SIZE else DEFAULT_SIZE
    return (1 if grey and scan.good else 3), -(-side // 4) * 4  # networks halve the side twice


@functools.lru_cache(maxsize=4)
def _shared(
    name: str, root: Path, channels: int, image_size: int, policy: CropPolicy, strict: bool
) -> FolderSource:
    return FolderSource(root, channels, image_size, policy, strict, name=name)
