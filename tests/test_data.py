import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.config import DataConfig
from infogan.data import DATASETS, build, resolve
from infogan.data.base import stratified_split
from infogan.data.fashion_mnist import DEBIAN_ROOT
from infogan.data.idx import read_idx
from infogan.errors import ConfigError, DataUnavailableError

from .conftest import DATA_ROOT

HAS_FASHION = DATASETS["fashion-mnist"].available(None)


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def fake_mnist(folder: Path, n_train: int = 40, n_test: int = 20) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)


@pytest.mark.parametrize(
    "name", [n for n, s in DATASETS.items() if s.available(Path(DATA_ROOT) if DATA_ROOT else None)]
)
def test_every_available_dataset_builds_in_range(name):
    src = DATASETS[name]
    data = build(DataConfig(name=name, root=DATA_ROOT), "test")
    assert data.shape == (src.channels, src.image_size, src.image_size)
    assert data.images.dtype == torch.float32
    assert data.images.min() >= -1 and data.images.max() <= 1 and data.images.std() > 0.1
    assert data.labels is not None and len(data.labels) == len(data)
    assert set(data.labels.tolist()) == set(range(src.num_classes or 0))
    item = data[0]
    assert item["x"].shape == data.shape and item["y"].ndim == 0


def test_mnist_sample_split_is_4000_1000_balanced_and_disjoint():
    train, test = (
        build(DataConfig(name="mnist-sample"), "train"),
        build(DataConfig(name="mnist-sample"), "test"),
    )
    assert len(train) == 4000 and len(test) == 1000
    assert torch.bincount(test.labels).tolist() == [100] * 10
    train_rows = {x.numpy().tobytes() for x in train.images}
    assert not any(x.numpy().tobytes() in train_rows for x in test.images)


@pytest.mark.skipif(
    not (DATA_ROOT and DATASETS["mnist"].available(Path(DATA_ROOT))),
    reason="full MNIST's files not found: set INFOGAN_DATA_ROOT to the folder that holds them",
)
def test_full_mnist_reads_as_published():
    cfg = DataConfig(name="mnist", root=DATA_ROOT, download=False)
    train, val, test = (build(cfg, split) for split in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (60_000, 10_000, 10_000)
    # the test file's class counts as LeCun et al. publish them; the first training digit is a 5, the first test a 7
    assert torch.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert (int(train.labels[0]), int(test.labels[0])) == (5, 7)
    assert torch.equal(val.images, train.images[-10_000:]) and torch.equal(val.labels, train.labels[-10_000:])
    assert train.images.min() == -1 and train.images.max() == 1


def test_stratified_split_is_fixed_and_partitions():
    labels = torch.arange(100) % 4
    test, train = stratified_split(labels, "test", 5), stratified_split(labels, "train", 5)
    assert torch.equal(test, stratified_split(labels, "test", 5))
    assert sorted(torch.cat([test, train]).tolist()) == list(range(100))


def test_mnist_from_idx_files_in_torchvision_layout(tmp_path):
    fake_mnist(tmp_path / "MNIST" / "raw")
    cfg, note = resolve(DataConfig(name="mnist", root=str(tmp_path)))
    assert cfg.name == "mnist" and cfg.image_size == 28 and cfg.channels == 1 and "full MNIST" in note
    data = build(cfg, "train")
    assert len(data) == 40 and data.labels is not None and data.labels[:3].tolist() == [0, 1, 2]


def test_mnist_splits_val_is_the_last_10000_training_digits_and_all_is_both_files(tmp_path, monkeypatch):
    monkeypatch.setattr(DATASETS["mnist"], "validation_size", 15)  # 10,000 of full MNIST's 60,000
    fake_mnist(tmp_path / "MNIST" / "raw", n_train=40, n_test=20)
    cfg = DataConfig(name="mnist", root=str(tmp_path))
    train, val, test, both = (build(cfg, split) for split in ("train", "val", "test", "all"))
    assert (len(train), len(val), len(test), len(both)) == (40, 15, 20, 60)
    assert torch.equal(val.images, train.images[25:]) and torch.equal(val.labels, train.labels[25:])
    assert torch.equal(both.images, torch.cat([train.images, test.images]))
    assert torch.equal(both.labels, torch.cat([train.labels, test.labels]))


def test_full_mnist_validation_split_is_10000_digits():
    assert DATASETS["mnist"].validation_size == 10_000 and DATASETS["fashion-mnist"].validation_size == 10_000


def test_a_dataset_without_a_validation_split_says_so():
    with pytest.raises(
        ConfigError, match="dataset digits has no validation split; evaluate on train, test or all"
    ):
        build(DataConfig(name="digits"), "val")


def test_missing_mnist_says_where_and_how(tmp_path, no_mnist_in_the_cache):
    with pytest.raises(DataUnavailableError, match=r"IDX files not found \(looked in .*MNIST/raw"):
        resolve(DataConfig(name="mnist", root=str(tmp_path)))


def test_mnist_is_looked_for_in_the_data_root_then_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr("infogan.data.mnist.DEFAULT_ROOT", tmp_path / "cache")
    fake_mnist(tmp_path / "cache" / "MNIST" / "raw")
    (tmp_path / "root").mkdir()
    cfg, note = resolve(DataConfig(name="mnist", root=str(tmp_path / "root")))
    assert cfg.name == "mnist" and "full MNIST" in note
    assert DATASETS["mnist"].folder(tmp_path / "root") == tmp_path / "cache" / "MNIST" / "raw"
    fake_mnist(tmp_path / "root" / "MNIST" / "raw")
    assert DATASETS["mnist"].folder(tmp_path / "root") == tmp_path / "root" / "MNIST" / "raw"


def test_mnist_is_looked_for_in_the_data_root_then_infogan_data_root_then_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr("infogan.data.mnist.DEFAULT_ROOT", tmp_path / "cache")
    monkeypatch.setenv("INFOGAN_DATA_ROOT", str(tmp_path / "env"))
    mnist, root = DATASETS["mnist"], tmp_path / "root"
    raw = [root / "MNIST" / "raw", root, tmp_path / "env" / "MNIST" / "raw", tmp_path / "env"]
    assert mnist.search_folders(root) == [*raw, tmp_path / "cache" / "MNIST" / "raw"]
    assert mnist.search_folders(None) == [*raw[2:], tmp_path / "cache" / "MNIST" / "raw"]
    fake_mnist(tmp_path / "cache" / "MNIST" / "raw")
    assert mnist.folder(root) == tmp_path / "cache" / "MNIST" / "raw"
    fake_mnist(tmp_path / "env" / "MNIST" / "raw")
    assert mnist.folder(root) == tmp_path / "env" / "MNIST" / "raw"
    fake_mnist(root / "MNIST" / "raw")
    assert mnist.folder(root) == root / "MNIST" / "raw"


def test_a_failed_download_is_one_line_with_the_mirrors_error(tmp_path, monkeypatch):
    import torchvision.datasets

    from infogan.data.mnist import SOURCE

    def offline(*args, **kwargs):
        print("Downloading https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz")
        raise RuntimeError(  # torchvision's message when every mirror fails
            "Error downloading train-images-idx3-ubyte.gz:\nTried https://ossci-datasets.s3.amazonaws.com/mnist/, "
            "got:\n<urlopen error [Errno -2] Name or service not known>\nTried http://yann.lecun.com/exdb/mnist/, "
            "got:\n<urlopen error [Errno -3] Temporary failure in name resolution>\n"
        )

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(DataUnavailableError) as info:
        SOURCE.fetch(tmp_path)
    assert str(info.value) == (
        f"dataset mnist: download into {tmp_path} failed: Error downloading train-images-idx3-ubyte.gz: "
        "<urlopen error [Errno -3] Temporary failure in name resolution>"
    )


@pytest.mark.usefixtures("no_mnist_in_the_cache")
def test_missing_mnist_falls_back_and_says_so(tmp_path):
    cfg, note = resolve(DataConfig(name="mnist", root=str(tmp_path), fallback="mnist-sample"))
    assert cfg.name == "mnist-sample" and cfg.fallback is None
    assert "mnist is not available" in note and "5,000" in note


def test_unknown_dataset_lists_known():
    with pytest.raises(ConfigError, match=r"unknown dataset 'nope'.*mnist-sample"):
        resolve(DataConfig(name="nope"))


def test_resize_option():
    data = build(DataConfig(name="digits", image_size=16), "test")
    assert data.shape == (1, 16, 16) and data.images.min() >= -1 and data.images.max() <= 1


def test_idx_reader_rejects_truncated_and_bad_header(tmp_path):
    good = tmp_path / "a-idx1-ubyte"
    write_idx(good, np.arange(10), gz=False)
    assert read_idx(good).tolist() == list(range(10))
    truncated = tmp_path / "b"
    truncated.write_bytes(good.read_bytes()[:-3])
    with pytest.raises(DataUnavailableError, match="truncated"):
        read_idx(truncated)
    text = tmp_path / "c"
    text.write_text("hello world")
    with pytest.raises(DataUnavailableError, match="not an IDX file"):
        read_idx(text)


@pytest.mark.skipif(
    not HAS_FASHION,
    reason=f"Fashion-MNIST not installed in {DEBIAN_ROOT} (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_full_sizes():
    assert len(build(DataConfig(name="fashion-mnist"), "train")) == 60_000
    assert len(build(DataConfig(name="fashion-mnist"), "test")) == 10_000
