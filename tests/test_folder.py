"""`folder:PATH` datasets: a generated corpus with every kind of good and bad file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infogan.api import train
from infogan.config import DataConfig, load_preset
from infogan.data import build, resolve, source
from infogan.data.folder import FolderSource, load_image, scan_folder
from infogan.errors import ConfigError, DataUnavailableError
from tests.conftest import TINY, invoke

RNG = np.random.default_rng(0)


def rgb(w: int, h: int) -> Image.Image:
    return Image.fromarray(RGB_NOISE[:h, :w])


RGB_NOISE = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)


def png_bytes(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def make_corpus(root: Path) -> dict[str, str]:
    """Write good and bad files under `root`; returns {relative path of each bad file: expected reason}."""
    (root / "sub").mkdir(parents=True)
    rgb(40, 30).save(root / "rgb_wide.png")
    rgb(24, 48).save(root / "sub" / "tall.jpg", quality=90)
    rgb(16, 16).convert("L").save(root / "gray.jpeg")
    rgb(20, 20).save(root / "UPPER.PNG")
    rgb(12, 12).save(root / "sub" / "small.bmp")
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(root / "cmyk.jpg")
    Image.fromarray(np.full((16, 16), 65535, np.uint16)).save(root / "white16.png")
    Image.fromarray(np.full((16, 16), 32768, np.uint16)).save(root / "half16.png")
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    palette.paste(2, (0, 0, 8, 16))
    palette.save(root / "palette.png", transparency=1)  # left half green, right half transparent red
    Image.new("RGBA", (16, 16), (255, 0, 0, 128)).save(root / "rgba.png")
    Image.new("LA", (16, 16), (255, 64)).save(root / "la.png")
    Image.new("RGB", (200, 200), (10, 20, 30)).save(root / "big.png")
    # bad files
    whole_png, whole_jpg = png_bytes(rgb(64, 64)), png_bytes(rgb(64, 64), "JPEG")
    (root / "truncated.png").write_bytes(whole_png[: len(whole_png) // 2])
    (root / "truncated.jpg").write_bytes(whole_jpg[: len(whole_jpg) // 2])
    (root / "empty.png").write_bytes(b"")
    (root / "text.png").write_text("this is not a picture\n")
    rgb(1, 1).save(root / "tiny.png")
    # ignored, hidden and linked entries
    (root / "notes.txt").write_text("ignored")
    rgb(16, 16).save(root / ".hidden.png")
    (root / ".cache").mkdir()
    rgb(16, 16).save(root / ".cache" / "thumb.png")
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    rgb(16, 16).save(outside / "elsewhere.png")
    (root / "escape.png").symlink_to(outside / "elsewhere.png")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(root / "self")
    (root / "inside.png").symlink_to(root / "rgb_wide.png")  # a link within the root is followed
    return {
        "truncated.png": "not a valid image",
        "truncated.jpg": "not a valid image",
        "empty.png": "empty file",
        "text.png": "not a valid image: not in any image format Pillow reads",
        "tiny.png": "too small (1x1",
        "escape.png": "link leaves the root",
        "sub/loop": "link to a folder already scanned",
        "self": "link loop",
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("corpus") / "images"
    return root, make_corpus(root)


def test_scan_lists_every_bad_file_with_its_reason(corpus):
    root, expected = corpus
    scan = scan_folder(root, max_pixels=100 * 100)
    bad = {str(p.relative_to(root)): reason for p, reason in scan.bad}
    expected = {**expected, "big.png": "image too large (200 x 200 pixels, limit 10,000)"}
    expected.pop("truncated.jpg")  # JPEG has no checksum: verify() passes it, the full decode catches it
    assert set(bad) == set(expected)
    for name, reason in expected.items():
        assert bad[name].startswith(reason), (name, bad[name])
    good = {str(p.relative_to(root)) for p in scan.good}
    assert {"UPPER.PNG", "cmyk.jpg", "white16.png", "palette.png", "la.png", "inside.png"} <= good
    assert not any(name.startswith(".") for name in good) and "truncated.jpg" in good
    assert scan.skipped_hidden == 2 and scan.not_images == 1


def test_source_reports_decode_failures_and_skips_them(corpus):
    root, expected = corpus
    src = FolderSource(root, channels=3, image_size=16)
    images, labels = src.load(None, "train")
    test, _ = src.load(None, "test")
    assert labels is None and len(images) + len(test) == 13 and len(test) == 1
    bad = {str(p.relative_to(root)): reason for p, reason in src.bad}
    assert set(bad) == set(expected) and bad["truncated.jpg"].startswith(
        "not a valid image: image file is truncated"
    )
    lines = src.report()
    assert lines[0] == f"skipped 8 bad files in {root}:" and "  empty.png: empty file" in lines
    assert "13 images" in src.description and "skipped 8 bad files" in src.description


def test_modes_are_converted_and_scaled(corpus):
    root, _ = corpus

    def pixels(name: str, channels: int = 3) -> torch.Tensor:
        x = load_image(root / name, channels, 16, "resize")
        assert x.shape == (channels, 16, 16) and x.dtype == torch.float32
        return x

    assert torch.allclose(pixels("white16.png", 1), torch.ones(1, 16, 16))
    assert torch.allclose(pixels("half16.png", 1), torch.full((1, 16, 16), 32768 / 65535))
    cmyk = pixels("cmyk.jpg").mean(dim=(1, 2))
    assert cmyk[0] > 0.9 and cmyk[1] < 0.1 and cmyk[2] < 0.1  # CMYK (0, 255, 255, 0) is red
    palette = pixels("palette.png")
    assert torch.allclose(palette[:, :, :6].mean(dim=(1, 2)), torch.tensor([0.0, 1.0, 0.0]))
    assert palette[:, :, 10:].abs().max() == 0  # transparent over black
    assert torch.allclose(pixels("rgba.png").mean(dim=(1, 2)), torch.tensor([128 / 255, 0, 0]), atol=1e-3)
    assert torch.allclose(pixels("la.png", 1), torch.full((1, 16, 16), 64 / 255), atol=1e-3)
    assert torch.allclose(pixels("la.png", 3), torch.full((3, 16, 16), 64 / 255), atol=1e-3)
    red_as_grey = pixels("rgba.png", 1).mean()
    assert abs(float(red_as_grey) - 0.299 * 128 / 255) < 1e-3  # luminance, after compositing


def test_crop_policies(tmp_path):
    im = np.zeros((16, 32), np.uint8)
    im[:, 8:24] = 255  # a white central square between black side bands
    Image.fromarray(im).save(tmp_path / "wide.png")
    assert load_image(tmp_path / "wide.png", 1, 16, "center-crop").min() == 1
    squashed = load_image(tmp_path / "wide.png", 1, 16, "resize")
    assert squashed[0, :, 0].max() < 0.1 and squashed[0, :, 8].min() > 0.9


def test_build_gives_model_range(corpus):
    root, _ = corpus
    for split in ("train", "test"):
        data = build(DataConfig(name=f"folder:{root}", image_size=16, channels=3), split)
        assert data.images.shape[1:] == (3, 16, 16) and data.images.dtype == torch.float32
        assert data.images.min() >= -1 and data.images.max() <= 1 and data.labels is None
    grey = build(DataConfig(name=f"folder:{root}", image_size=8, channels=1, crop="resize"), "train")
    assert grey.shape == (1, 8, 8)


def test_strict_mode_raises(corpus):
    root, _ = corpus
    with pytest.raises(
        DataUnavailableError, match=r"has \d+ bad files? \(strict mode\): .*empty.png: empty file"
    ):
        build(DataConfig(name=f"folder:{root}", image_size=16, strict=True), "train")


def test_empty_invalid_and_missing_folders_fail_fast(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataUnavailableError, match=r"empty has no valid images: no files in it$"):
        resolve(DataConfig(name=f"folder:{tmp_path / 'empty'}"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_text("text")
    (bad / "b.jpg").write_text("text")
    (bad / "c.png").write_bytes(b"")
    (bad / "d.txt").write_text("text")
    (bad / ".e.png").write_bytes(b"")
    with pytest.raises(
        DataUnavailableError,
        match=r"bad has no valid images: 4 files: 1 not images, 2 not a valid image, 1 empty file; "
        r"1 hidden files skipped",
    ):
        build(DataConfig(name=f"folder:{bad}"), "train")
    with pytest.raises(DataUnavailableError, match=r"image folder .*nowhere does not exist"):
        build(DataConfig(name=f"folder:{tmp_path / 'nowhere'}"), "train")


def test_memory_limit_says_how_many_fit(corpus):
    root, _ = corpus
    src = FolderSource(root, channels=3, image_size=16, max_bytes=5 * 3 * 16 * 16 * 4)
    with pytest.raises(DataUnavailableError, match=r"14 images at 3x16x16 .*\(about 5 fit\)"):
        src.load(None, "train")


def test_resolve_reports_bad_files_and_relative_root(corpus):
    root, _ = corpus
    cfg, note = resolve(DataConfig(name="folder:images", root=str(root.parent), image_size=16))
    assert cfg.channels == 3 and cfg.image_size == 16
    assert "13 images" in note and "truncated.jpg: not a valid image" in note
    assert source(f"folder:{root}").num_classes is None


def test_a_folder_is_read_at_its_images_own_size_and_mode_unless_told(tmp_path):
    root = tmp_path / "grey16"
    root.mkdir()
    for i in range(64):
        Image.fromarray(RNG.integers(0, 256, (16, 16), dtype=np.uint8), mode="L").save(root / f"{i:02d}.png")
    cfg, note = resolve(DataConfig(name=f"folder:{root}"))
    assert (cfg.channels, cfg.image_size) == (1, 16)
    assert (
        "64 images" in note
        and "grayscale" in note
        and "58 for training and 6 held out for evaluation" in note
    )
    told, _ = resolve(DataConfig(name=f"folder:{root}", channels=3, image_size=32))
    assert (told.channels, told.image_size) == (3, 32)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.new("RGB", (100, 80)).save(mixed / "a.png")
    Image.new("L", (40, 40)).save(mixed / "b.png")
    cfg, _ = resolve(DataConfig(name=f"folder:{mixed}"))
    assert (cfg.channels, cfg.image_size) == (3, 64)  # a colour image and two sizes: RGB at 64
    write_noise_folder(tmp_path / "tens", 3)  # 12 x 10 colour images: their shorter side rounded up to 12
    cfg, _ = resolve(DataConfig(name=f"folder:{tmp_path / 'tens'}"))
    assert (cfg.channels, cfg.image_size) == (3, 12)


def write_noise_folder(root: Path, n: int) -> None:
    root.mkdir()
    for i in range(n):
        Image.fromarray(RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(root / f"{i:03d}.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n")


def test_train_infogan_on_unlabelled_folder(tmp_path):
    write_noise_folder(tmp_path / "imgs", 24)
    folder = f"data.name=folder:{tmp_path / 'imgs'}"
    cfg = load_preset(
        "digits", [*TINY, folder, "data.image_size=8", "data.channels=1", "eval.metrics=[codes]"]
    )
    lines: list[str] = []
    run = train(cfg, tmp_path / "run", progress=lines.append)
    assert run.step == cfg.train.steps and (tmp_path / "run" / "eval.json").is_file()
    assert any("22 training images" in line for line in lines)


def test_cli_train_reports_bad_files(tmp_path):
    write_noise_folder(tmp_path / "imgs", 24)
    sets = [arg for s in [*TINY, "eval.metrics=[codes]"] for arg in ("--set", s)]
    result = invoke(
        "train", "--preset", "digits", "--dataset", f"folder:{tmp_path / 'imgs'}", "--image-size", "8",
        "--run-dir", str(tmp_path / "run"), *sets,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "skipped 1 bad file in" in result.stderr and "broken.png: not a valid image" in result.stderr
    strict = invoke(
        "train", "--preset", "digits", "--dataset", f"folder:{tmp_path / 'imgs'}", "--strict",
        "--image-size", "8", "--run-dir", str(tmp_path / "run2"), *sets,
    )  # fmt: skip
    assert strict.returncode == 2 and "strict mode" in strict.stderr and "Traceback" not in strict.stderr


def test_links_not_followed_when_asked(corpus):
    root, _ = corpus
    scan = scan_folder(root, follow_links_within_root=False)
    bad = {str(p.relative_to(root)): reason for p, reason in scan.bad}
    assert bad["inside.png"] == bad["sub/loop"] == "symbolic link (not followed)"


def test_listed_in_datasets_and_unknown_name_errors():
    listing = invoke("datasets")
    assert "folder:PATH" in listing.stdout and "usage: --dataset folder:PATH" in listing.stdout
    with pytest.raises(ConfigError, match=r"known: .*folder:PATH"):
        source("nope")
    with pytest.raises(ConfigError, match=r"needs an argument after the colon"):
        source("folder:")


def test_datasets_lists_the_preset_folders_and_finds_their_images(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    lines = invoke("datasets").stdout.splitlines()
    chairs = next(line for line in lines if line.startswith("chairs "))
    assert "missing" in chairs and "folder:~/data/3dchairs" in chairs
    (tmp_path / "data" / "3dchairs" / "chair_001").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "data" / "3dchairs" / "chair_001" / "view.png")
    lines = invoke("datasets").stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("chairs "))
    assert "available" in lines[i] and "rendered_chairs.tar" in lines[i + 1]
    assert "missing" in next(line for line in lines if line.startswith("faces "))
