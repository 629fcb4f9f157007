"""Test-wide settings: no network, no display, quiet progress bars."""

import os

# Tests never download: the data layer falls back to (or is pointed at) local files.
os.environ.setdefault("BBAL_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
