"""The record of a run: what ``results/*.json`` holds, written atomically after every round and read
back as a typed view (:class:`RunRecord`, :class:`RoundRecord`); file names; grouping runs by
method; labels and rounds to reach a target accuracy; the summaries the CLI and notebooks print.
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

RESULTS_FORMAT = "bbal_tutorial.results/2"

#: Settings renamed since format 1 (which called the acquisition size ``batch_size`` and the label
#: budget ``max_labels``): files of format 1 are read as format 2, so earlier runs still load,
#: resume and extend.
_RENAMED_SETTINGS = {"batch_size": "acquisition_size", "max_labels": "label_budget"}
_FORMAT_1 = "bbal_tutorial.results/1"


# Fields are keyword-only so that they can follow the order of the JSON file.
#: The fields of a round that are measured times: they differ between two runs that are otherwise
#: identical, so comparisons of records leave them out.
TIMING_FIELDS = (
    "train_seconds",
    "eval_seconds",
    "predict_seconds",
    "select_seconds",
    "cpu_seconds",
)


@dataclass(frozen=True, kw_only=True)
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
    acquired_original_indices: list[int] | None = None  # Repeated MNIST: the image each copies
    scores: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    predict_seconds: float = 0.0
    select_seconds: float = 0.0
    # CPU seconds of the whole round from the process clock (all threads). For a single-threaded
    # run it is the round's time on a core of its own, however busy the machine was around it:
    # the cost to compare between runs made side by side (absent in runs made before it existed).
    cpu_seconds: float | None = None

    @property
    def phase_seconds(self) -> tuple[float, float, float, float]:
        """Seconds spent training, evaluating, scoring the pool and selecting the batch."""
        return (self.train_seconds, self.eval_seconds, self.predict_seconds, self.select_seconds)

    @property
    def seconds(self) -> float:
        """Training, evaluating, scoring and selecting: the whole round."""
        return sum(self.phase_seconds)


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """A typed, read-only view of one results file (``results/*.json``): the run's settings, where
    its data came from, and its rounds. :meth:`from_dict` / :meth:`to_dict` convert to and from
    the JSON dictionary the loop writes (same keys, same order)."""

    config: ExperimentConfig
    dataset_source: str
    dataset_dir: str = ""  # the folder the data were read from ("" for the bundled sample)
    dataset_provenance: str = ""  # that folder's provenance note, when it carries one
    package_version: str = ""
    torch_version: str = ""
    device: str = ""
    torch_threads: int | None = None  # CPU runs are bit-for-bit reproducible at equal threads
    started: str | None = None
    updated: str | None = None
    finished: str | None = None
    initial_indices: list[int]
    validation_indices: list[int]
    pool_size: int
    test_size: int
    rounds: tuple[RoundRecord, ...] = ()
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
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "path"}
        values["config"] = self.config.to_dict()
        values["rounds"] = [asdict(r) for r in self.rounds]
        return {"format": RESULTS_FORMAT, **values}

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
    def acquired_indices(self) -> list[int]:
        """The training-set index of every acquired point, in acquisition order."""
        return [index for r in self.rounds for index in r.acquired_indices]

    @property
    def seconds(self) -> float:
        """Seconds the run took: training, evaluating, scoring and selecting, all rounds."""
        # Summed phase by phase in file order, as the tables in the notebooks always have been.
        return sum(s for r in self.rounds for s in r.phase_seconds)


def result_name(tag: str, acquisition: str, acquisition_size: int, seed: int) -> str:
    """File name of a run: ``<tag>-<acquisition>-b<b>-seed<seed>.json`` (the tag of an experiment
    in ``results/``, or the dataset for a single ``run``)."""
    return f"{tag}-{acquisition}-b{acquisition_size}-seed{seed}.json"


def _upgrade(results: dict[str, Any]) -> dict[str, Any]:
    """A results dictionary of format 1 in format 2 (settings renamed; nothing else differs)."""
    if results.get("format") == _FORMAT_1 and isinstance(results.get("config"), dict):
        config = results["config"]
        results["config"] = {_RENAMED_SETTINGS.get(k, k): v for k, v in config.items()}
        results["format"] = RESULTS_FORMAT
    return results


def now() -> str:
    """The current UTC time as the results files record it (ISO 8601, whole seconds)."""
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


def save_results(run: RunRecord, path: str | Path) -> None:
    """Write ``run`` to ``path`` atomically (a reader never sees half a file)."""
    write_json_atomic(Path(path), run.to_dict())


def load_results(path: str | Path) -> RunRecord:
    """Read a results file written by :func:`~bbal_tutorial.loop.run_experiment` (format 1 or 2);
    a clear error if it is not one."""
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
    try:
        return RunRecord.from_dict(results, path)
    except (KeyError, TypeError) as e:
        raise ValueError(
            f"{path} is an incomplete results file ({e!r}); delete it and re-run"
        ) from e


def labels_to_reach(run: RunRecord, accuracy: float) -> int | None:
    """The number of labelled points at the first round whose test accuracy reaches ``accuracy``;
    None if it never did."""
    for record in run.rounds:
        if record.test_accuracy >= accuracy:
            return record.n_labeled
    return None


def rounds_to_reach(run: RunRecord, accuracy: float) -> int | None:
    """How many models were trained (one per round) until test accuracy first reached
    ``accuracy``; None if it never did. The cost side of the acquisition-size trade-off."""
    for i, record in enumerate(run.rounds):
        if record.test_accuracy >= accuracy:
            return i + 1
    return None


def round_cost_seconds(record: RoundRecord) -> float:
    """What a round cost: its CPU seconds where recorded (robust to other work on the machine for
    a single-threaded run), else its wall-clock seconds (older records)."""
    return record.cpu_seconds if record.cpu_seconds is not None else record.seconds


def seconds_to_reach(run: RunRecord, accuracy: float) -> float | None:
    """Seconds (:func:`round_cost_seconds`) of every round up to and including the first whose
    test accuracy reaches ``accuracy``: the compute spent to get there; None if it never did."""
    spent = 0.0
    for record in run.rounds:
        spent += round_cost_seconds(record)
        if record.test_accuracy >= accuracy:
            return spent
    return None


def _median_or_none(values: Iterable[float | None]) -> float | None:
    """The median, counting None ("never") as +inf; None when that median is infinite."""
    median = statistics.median(float("inf") if v is None else v for v in values)
    return None if median == float("inf") else median


def labels_to_reach_summary(runs: Sequence[RunRecord], accuracy: float) -> dict[str, Any]:
    """Per seed, the labelled points needed to reach ``accuracy`` (None: never) and their median.

    The median counts a run that never reached the target as +inf, so it is None when at least
    half of the seeds never got there.
    """
    per_seed = [labels_to_reach(run, accuracy) for run in runs]
    return {
        "per_seed": per_seed,
        "median": _median_or_none(per_seed) if per_seed else None,
        "reached": sum(n is not None for n in per_seed),
        "seeds": len(per_seed),
    }


def group_by_method(runs: Iterable[RunRecord]) -> dict[tuple[str, int], list[RunRecord]]:
    """The runs keyed by (acquisition, b): runs that differ only in their seed, in input order."""
    groups: dict[tuple[str, int], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.acquisition, run.b), []).append(run)
    return groups


def method_summary(runs: Sequence[RunRecord], accuracy: float) -> list[dict[str, Any]]:
    """One row per (acquisition, b) over its seeds: labels, retraining rounds and seconds of
    compute (:func:`seconds_to_reach`) to reach ``accuracy`` (medians count "never" as +inf, so
    None when half the seeds never got there), the final accuracy, the median time to select one
    batch and the median time of a whole run (training, evaluating, scoring and selecting, summed
    over its rounds; CPU seconds where recorded, see :func:`round_cost_seconds`).
    """
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        labels = labels_to_reach_summary(group, accuracy)
        rounds = [rounds_to_reach(run, accuracy) for run in group]
        selects = [r.select_seconds for run in group for r in run.rounds if r.acquired_indices]
        seconds = [seconds_to_reach(run, accuracy) for run in group]
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(group),
                "labels (per seed)": labels["per_seed"],
                "median labels": labels["median"],
                "rounds (per seed)": rounds,
                "median rounds": _median_or_none(rounds),
                "seconds (per seed)": seconds,
                "median seconds": _median_or_none(seconds),
                "final accuracy": statistics.median(run.rounds[-1].test_accuracy for run in group),
                "final labels": min(run.rounds[-1].n_labeled for run in group),
                "rounds run": min(len(run.rounds) for run in group),
                "select s/round": statistics.median(selects) if selects else 0.0,
                "run seconds": statistics.median(
                    sum(round_cost_seconds(r) for r in run.rounds) for run in group
                ),
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


def run_summary(run: RunRecord, out: Path | None, seconds: float) -> str:
    """The lines the CLI prints after a run: method and data, final accuracy, labels to 90%, and
    the ``seconds`` it took (wall clock) and where it was written."""
    config, last = run.config, run.rounds[-1]
    to90 = labels_to_reach(run, 0.9)
    lines = [
        f"{config.acquisition} on {config.dataset} (b={config.acquisition_size}, "
        f"K={config.mc_samples}, seed {config.seed}) -- {run.dataset_source}",
        f"  {len(run.rounds)} rounds, {last.n_labeled} labelled points, "
        f"final test accuracy {last.test_accuracy:.3f} (NLL {last.test_nll:.3f})",
        f"  labels to reach 90%: {to90 if to90 is not None else 'not reached'}",
        f"  took {seconds:.0f} s" + (f"; results in {out}" if out else ""),
    ]
    return "\n".join(lines)
