"""Notebook 04, Repeated MNIST: what the cached runs acquired (copies of one image inside a batch,
distinct images), the batches as images, and the figures of batch diversity.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.loop import ExperimentData
from bbal_tutorial.plotting import (
    METHOD_COLOURS,
    method_label,
    plot_median_over_seeds,
    seeds_label,
)
from bbal_tutorial.presets import run_data
from bbal_tutorial.results import RoundRecord, RunRecord, group_by_method


def plot_batch_diversity(runs: Sequence[RunRecord], ax: Axes | None = None) -> Axes:
    """Distinct original images in each acquired batch against labelled points: the median over
    seeds per method, with the acquisition size b dotted (b distinct images = no label wasted on a
    copy). Copies share ``acquired_original_indices`` (Repeated MNIST)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    acquisition_sizes = set()
    for (acquisition, b), group in group_by_method(runs).items():
        curves = [
            {row["n_labeled"]: row["distinct"] for row in batch_diversity(run)} for run in group
        ]
        if set.intersection(*(set(c) for c in curves)):
            label = method_label(acquisition, b)
            plot_median_over_seeds(ax, curves, acquisition, label, band_alpha=0, marker=".")
            acquisition_sizes.add(b)
    for b in acquisition_sizes:
        ax.axhline(b, color="black", linestyle=":", linewidth=0.8)
    ax.set_ylim(0, max(acquisition_sizes, default=10) + 1)
    ax.set_xlabel("labelled points before the batch was acquired")
    ax.set_ylabel("distinct original images in the batch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return ax


def accuracy_on_distinct_grid(
    distinct_per_run: Sequence[Sequence[int]], accuracies_per_run: Sequence[Sequence[float]]
) -> list[dict[int, float]]:
    """Several runs' test accuracy against distinct images labelled, on one common grid: every
    run's accuracy (linearly interpolated) at every distinct-image count any of them reached
    inside the range all of them cover, as ``{distinct: accuracy}`` per run -- curves that
    :func:`~bbal_tutorial.plotting.plot_median_over_seeds` takes the median of.

    A run whose distinct count stays the same for several rounds (batches of copies only) keeps
    its last accuracy at that count. Empty dictionaries when the runs cover no common range.
    """
    curves = []
    for distinct, accuracies in zip(distinct_per_run, accuracies_per_run, strict=True):
        last = dict(zip(distinct, accuracies, strict=True))  # the last round at each count
        curves.append((np.array(sorted(last)), np.array([last[x] for x in sorted(last)])))
    if not curves or any(len(xs) == 0 for xs, _ in curves):
        return [{} for _ in curves]
    low = max(xs[0] for xs, _ in curves)
    high = min(xs[-1] for xs, _ in curves)
    grid = sorted({int(x) for xs, _ in curves for x in xs if low <= x <= high})
    return [dict(zip(grid, np.interp(grid, xs, ys).tolist(), strict=True)) for xs, ys in curves]


def plot_accuracy_vs_distinct(
    runs: Sequence[RunRecord], distinct_per_run: Sequence[Sequence[int]], ax: Axes | None = None
) -> Axes:
    """Test accuracy against the number of *distinct* images labelled so far: one line per
    method, the median over its seeds on a common grid of distinct-image counts
    (:func:`accuracy_on_distinct_grid`) with the interquartile range shaded, and each seed's
    rounds as faint dots. If a method's line moves onto the others here, the labels it spent on
    copies explain its gap in the usual accuracy-against-labels plot.

    ``distinct_per_run`` is :func:`distinct_labelled`'s result (same order as ``runs``).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    by_method: dict[tuple[str, int], list[tuple[RunRecord, Sequence[int]]]] = {}
    for run, distinct in zip(runs, distinct_per_run, strict=True):
        by_method.setdefault((run.acquisition, run.b), []).append((run, distinct))
    for (acquisition, b), group in by_method.items():
        colour = METHOD_COLOURS.get(acquisition)
        label = seeds_label(acquisition, b, len(group))
        curves = accuracy_on_distinct_grid(
            [distinct for _, distinct in group], [run.accuracies for run, _ in group]
        )
        for i, (run, distinct) in enumerate(group):
            # the dots carry the legend entry only when the seeds share no range to summarise
            dots_label = f"{label} (no common range)" if i == 0 and not curves[0] else None
            ax.scatter(
                distinct, run.accuracies, s=9, color=colour, alpha=0.3, lw=0, label=dots_label
            )
        plot_median_over_seeds(ax, curves, acquisition, label, linewidth=1.8)
    ax.set_xlabel("distinct images labelled (copies of one image count once)")
    ax.set_ylabel("test accuracy")
    ax.set_title("median over seeds, quartiles shaded; dots: each seed's rounds", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return ax


def display_images(data: ActiveLearningData, indices: Sequence[int]) -> torch.Tensor:
    """Training images ``indices`` with the normalisation undone, in [0, 1], shape (n, H, W)."""
    index_T = torch.as_tensor(list(indices), dtype=torch.long)
    return (data.train_x_N_1_H_W[index_T, 0] * data.std + data.mean).clamp(0, 1)


def batch_diversity(run: RunRecord) -> list[dict[str, int]]:
    """Per acquired batch: its size, how many *distinct* original images it holds, and how many
    of those are *new* (not acquired in an earlier round). Repeated MNIST's copies of one image
    share an entry of ``acquired_original_indices``, so ``batch - new`` labels went to copies of
    images the run already had or took twice. Rounds that acquired nothing are left out."""
    rows, seen = [], set()
    for record in run.rounds:
        originals = record.acquired_original_indices
        if not originals:
            continue
        rows.append(
            {
                "n_labeled": record.n_labeled,
                "batch": len(originals),
                "distinct": len(set(originals)),
                "new": len(set(originals) - seen),
            }
        )
        seen.update(originals)
    return rows


def diversity_summary(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
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
    records: dict[str, RoundRecord],
    *,
    side_by_side: bool = True,
) -> dict[str, Any]:
    """The arguments of :func:`bbal_tutorial.lessons.duplicates.plot_batch_picks` for the batches
    that some cached rounds acquired: ``records`` maps a method name to one round's record; the
    pool is :func:`run_data`'s. With ``side_by_side``, copies of one image are grouped together."""
    indices, batches, scores = [], {}, {}
    for name, record in records.items():
        order = list(range(len(record.acquired_indices)))
        if side_by_side:
            order = group_copies(record.acquired_indices, record.acquired_original_indices)
        batches[name] = [len(indices) + p for p in range(len(order))]
        indices += [record.acquired_indices[p] for p in order]
        scores[name] = [record.scores[p] for p in order] if record.scores else None
    return {
        "images_N_H_W": display_images(experiment.data, indices),
        "batches": batches,
        "original_N": experiment.data.original_index_N[torch.tensor(indices, dtype=torch.long)],
        "scores": scores if all(v is not None for v in scores.values()) else None,
    }


def distinct_labelled(runs: Sequence[RunRecord]) -> list[list[int]]:
    """For each run, the number of distinct original images in the labelled set at each round
    (the initial labels included; copies of one image count once).

    The initial labels' originals come from the data each run was made from
    (:func:`run_data`, rebuilt once per distinct data setting), the acquired ones from
    ``acquired_original_indices``.
    """
    data_keys = ("acquisition",)  # settings that do not change the data or the splits
    built: dict[str, list[int]] = {}
    curves = []
    for run in runs:
        key = repr(sorted((k, v) for k, v in run.config.to_dict().items() if k not in data_keys))
        if key not in built:
            experiment = run_data(run)
            index_T = torch.tensor(run.initial_indices, dtype=torch.long)
            built[key] = experiment.data.original_index_N[index_T].tolist()
        seen = set(built[key])
        curve = []
        for record in run.rounds:
            curve.append(len(seen))
            seen.update(record.acquired_original_indices or [])
        curves.append(curve)
    return curves
