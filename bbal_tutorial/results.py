"""The record of a run: what ``results/*.json`` holds, written atomically after every round and read
back as a typed view; file names; grouping runs by method; labels and rounds to reach a target
accuracy; the summary tables the notebooks print.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from bbal_tutorial.config import ExperimentConfig


@dataclass(frozen=True)
class RoundRecord:
    """One round of a run: the model trained on ``n_labeled`` labels, its test scores, and the
    batch it acquired (empty in the last round)."""

    round: int
    n_labeled: int
    test_accuracy: float
    test_nll: float
    train_epochs: int
    best_validation_accuracy: float | None
    acquired_indices: list[int]
    acquired_labels: list[int]
    scores: list[float]
    acquired_original_indices: list[int] | None = None  # Repeated MNIST: the image each copies
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    predict_seconds: float = 0.0
    select_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        """Training, evaluating, scoring and selecting: the whole round."""
        return self.train_seconds + self.eval_seconds + self.predict_seconds + self.select_seconds


@dataclass(frozen=True)
class RunRecord:
    """A typed, read-only view of one results file (``results/*.json``): the run's settings, where
    its data came from, and its rounds. :meth:`from_dict` / :meth:`to_dict` convert to and from
    the JSON dictionary the loop writes."""

    config: ExperimentConfig
    rounds: tuple[RoundRecord, ...]
    dataset_source: str
    initial_indices: list[int]
    validation_indices: list[int]
    pool_size: int
    test_size: int
    package_version: str = ""
    torch_version: str = ""
    device: str = ""
    torch_threads: int | None = None
    started: str | None = None
    updated: str | None = None
    finished: str | None = None
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, results: dict[str, Any], path: str | Path | None = None) -> RunRecord:
        """The record of a results dictionary (format 1 or 2, see :func:`load_results`)."""
        results = _upgrade(dict(results))
        known = {f.name for f in fields(cls)} - {"config", "rounds", "path"}
        return cls(
            config=ExperimentConfig.from_dict(results["config"]),
            rounds=tuple(RoundRecord(**r) for r in results["rounds"]),
            path=Path(path) if path is not None else None,
            **{k: v for k, v in results.items() if k in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON dictionary of this record, as :func:`write_json_atomic` stores it."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        del values["path"]
        return {
            "format": RESULTS_FORMAT,
            **values,
            "config": self.config.to_dict(),
            "rounds": [asdict(r) for r in self.rounds],
        }

    @property
    def acquisition(self) -> str:
        return self.config.acquisition

    @property
    def b(self) -> int:
        """The acquisition size."""
        return self.config.acquisition_size

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def labels(self) -> list[int]:
        """Labelled points at each round (``n_labeled``)."""
        return [r.n_labeled for r in self.rounds]

    @property
    def accuracies(self) -> list[float]:
        """Test accuracy at each round."""
        return [r.test_accuracy for r in self.rounds]

    @property
    def acquired_labels(self) -> list[int]:
        """The labels of every acquired point, in acquisition order (initial labels excluded)."""
        return [label for r in self.rounds for label in r.acquired_labels]

    @property
    def seconds(self) -> float:
        """Seconds the run took: training, evaluating, scoring and selecting, all rounds."""
        return sum(r.seconds for r in self.rounds)


Results = RunRecord


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


def group_by_method(runs: Iterable[Results]) -> dict[tuple[str, int], list[Results]]:
    """The runs keyed by (acquisition, b): runs that differ only in their seed, in input order."""
    groups: dict[tuple[str, int], list[Results]] = {}
    for results in runs:
        key = (results["config"]["acquisition"], results["config"]["acquisition_size"])
        groups.setdefault(key, []).append(results)
    return groups


def run_seconds(results: Results) -> float:
    """Seconds a run took: training, evaluating, scoring and selecting, summed over its rounds."""
    parts = ("train_seconds", "eval_seconds", "predict_seconds", "select_seconds")
    return sum(r.get(k, 0.0) for r in results["rounds"] for k in parts)


def rounds_to_reach(results: Results, accuracy: float) -> int | None:
    """How many models were trained (one per round) until test accuracy first reached
    ``accuracy``; None if it never did. The cost side of the acquisition-size trade-off."""
    for i, record in enumerate(results["rounds"]):
        if record["test_accuracy"] >= accuracy:
            return i + 1
    return None


def method_summary(runs: Sequence[Results], accuracy: float) -> list[dict[str, Any]]:
    """One row per (acquisition, b) over its seeds: labels and retraining rounds to reach
    ``accuracy`` (medians count "never" as +inf, so None when half the seeds never got there),
    the final accuracy, the median time to select one batch and the median time of a whole
    run (training, evaluating, scoring and selecting, summed over its rounds).
    """
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        labels = labels_to_reach_summary(group, accuracy)
        rounds = [rounds_to_reach(r, accuracy) for r in group]
        rounds_median = statistics.median(float("inf") if n is None else n for n in rounds)
        selects = [
            rec["select_seconds"] for r in group for rec in r["rounds"] if rec["acquired_indices"]
        ]
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(group),
                "labels (per seed)": labels["per_seed"],
                "median labels": labels["median"],
                "rounds (per seed)": rounds,
                "median rounds": None if rounds_median == float("inf") else rounds_median,
                "final accuracy": statistics.median(
                    r["rounds"][-1]["test_accuracy"] for r in group
                ),
                "final labels": min(r["rounds"][-1]["n_labeled"] for r in group),
                "rounds run": min(len(r["rounds"]) for r in group),
                "select s/round": statistics.median(selects) if selects else 0.0,
                "run seconds": statistics.median(run_seconds(r) for r in group),
            }
        )
    return rows


def format_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    never: str = "never",
) -> str:
    """Rows of dictionaries as a plain-text table (only ``columns``, if given); None reads
    ``never`` (a target not reached); accuracies print as percentages, seconds with 3 decimals,
    other floats with 3 significant digits."""
    if not rows:
        return "(no rows)"

    def cell(name: str, value: Any) -> str:
        if value is None:
            return never
        if isinstance(value, list):
            return ", ".join(cell(name, v) for v in value)
        if isinstance(value, float):
            if "accuracy" in name:
                return f"{value:.1%}"
            if name.endswith("s/round") or "seconds" in name:
                return f"{value:.3f}"
            return f"{value:.3g}"
        return str(value)

    names = list(columns or rows[0])
    table = [[cell(n, row.get(n)) for n in names] for row in rows]
    widths = [max(len(n), *(len(r[i]) for r in table)) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    return "\n".join(lines)


def result_name(tag: str, acquisition: str, acquisition_size: int, seed: int) -> str:
    """File name of a cached run: ``<tag>-<acquisition>-b<b>-seed<seed>.json``."""
    return f"{tag}-{acquisition}-b{acquisition_size}-seed{seed}.json"


RESULTS_FORMAT = "bbal_tutorial.results/2"

#: Settings renamed since format 1 (which called the acquisition size ``batch_size`` and the label
#: budget ``max_labels``): files of format 1 are read as format 2, so earlier runs still load,
#: resume and extend.
_RENAMED_SETTINGS = {"batch_size": "acquisition_size", "max_labels": "label_budget"}
_FORMAT_1 = "bbal_tutorial.results/1"


def _upgrade(results: dict[str, Any]) -> dict[str, Any]:
    """A results dictionary of format 1 in format 2 (settings renamed; nothing else differs)."""
    if results.get("format") == _FORMAT_1 and isinstance(results.get("config"), dict):
        config = results["config"]
        results["config"] = {_RENAMED_SETTINGS.get(k, k): v for k, v in config.items()}
        results["format"] = RESULTS_FORMAT
    return results


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file readable by its owner only; give it the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results file written by :func:`run_experiment`; a clear error if it is not one."""
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no results file at {path}; create one with `python -m bbal_tutorial run --out {path}`"
        ) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}); delete it and re-run") from None
    if isinstance(results, dict):
        results = _upgrade(results)
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a bbal_tutorial results file (format {RESULTS_FORMAT})")
    return results


def labels_to_reach(results: dict[str, Any], accuracy: float) -> int | None:
    """The number of labelled points at the first round whose test accuracy reaches ``accuracy``."""
    for record in results["rounds"]:
        if record["test_accuracy"] >= accuracy:
            return record["n_labeled"]
    return None
