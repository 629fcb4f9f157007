"""The cached experiments behind notebooks 04-07: find, load and summarise ``results/``.

``make reproduce`` writes one JSON file per run, ``results/<tag>-<acquisition>-b<b>-seed<s>.json``
(the runs are listed in :data:`bbal_tutorial.presets.EXPERIMENTS`). The notebooks read those
files through this module and nothing else, so every figure is traceable to a command.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bbal_tutorial.loop import labels_to_reach, load_results
from bbal_tutorial.presets import EXPERIMENTS, result_name

Results = dict[str, Any]

#: The repository's results/ folder (override with $BBAL_RESULTS_DIR).
DEFAULT_RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


def results_dir(path: str | Path | None = None) -> Path:
    """``path``, else ``$BBAL_RESULTS_DIR``, else the repository's ``results/``."""
    return Path(path or os.environ.get("BBAL_RESULTS_DIR") or DEFAULT_RESULTS_DIR)


def load_experiment(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    batch_sizes: Sequence[int] | None = None,
    directory: str | Path | None = None,
    finished_only: bool = True,
) -> list[Results]:
    """All cached runs of experiment ``tag`` (optionally only some methods / acquisition sizes).

    Raises ``FileNotFoundError`` naming the command to run when a run it expects is missing, and
    skips unfinished runs (a ``make reproduce`` still in progress) unless ``finished_only=False``.
    """
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    spec = EXPERIMENTS[tag]
    folder = results_dir(directory)
    runs, missing = [], []
    for seed in spec["seeds"]:
        for acquisition, b in spec["runs"]:
            if acquisitions is not None and acquisition not in acquisitions:
                continue
            if batch_sizes is not None and b not in batch_sizes:
                continue
            path = folder / result_name(tag, acquisition, b, seed)
            if not path.exists():
                missing.append(path.name)
                continue
            results = load_results(path)
            if finished_only and not results.get("finished"):
                missing.append(f"{path.name} (unfinished)")
                continue
            runs.append(results)
    if not runs:
        raise FileNotFoundError(
            f"no cached runs of {tag!r} in {folder}/ (expected e.g. {', '.join(missing[:3])}); "
            f"run `make reproduce` (or `python -m bbal_tutorial reproduce --experiments {tag}`)"
        )
    return runs


def labels_to_reach_summary(runs: Sequence[Results], accuracy: float) -> dict[str, Any]:
    """Per seed, the labelled points needed to reach ``accuracy`` (None: never) and their median.

    The median counts a run that never reached the target as +inf, so it is None when at least
    half of the seeds never got there.
    """
    per_seed = [labels_to_reach(results, accuracy) for results in runs]
    as_numbers = [float("inf") if n is None else n for n in per_seed]
    median = statistics.median(as_numbers) if as_numbers else float("inf")
    return {
        "per_seed": per_seed,
        "median": None if median == float("inf") else median,
        "reached": sum(n is not None for n in per_seed),
        "seeds": len(per_seed),
    }
