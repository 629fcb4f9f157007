"""Notebook 04, Repeated MNIST: what the cached runs acquired (copies of one image inside a batch,
distinct images), the batches as images, and the figures of batch diversity.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes

from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.loop import ExperimentData
from bbal_tutorial.plotting import METHOD_COLOURS, method_label, plot_median_over_seeds, run_label
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


def plot_accuracy_vs_distinct(
    runs: Sequence[RunRecord], distinct_per_run: Sequence[Sequence[int]], ax: Axes | None = None
) -> Axes:
    """Test accuracy against the number of *distinct* images labelled so far, one thin line per
    run, coloured by method: if a method's curve moves onto the others here, the labels it
    spent on copies explain its gap in the usual accuracy-against-labels plot.

    ``distinct_per_run`` is :func:`distinct_labelled`'s result.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    labelled = set()
    for run, distinct in zip(runs, distinct_per_run, strict=True):
        label = run_label(run)
        ax.plot(
            distinct,
            run.accuracies,
            marker=".",
            linewidth=1,
            alpha=0.8,
            color=METHOD_COLOURS.get(run.acquisition),
            label=None if label in labelled else label,
        )
        labelled.add(label)
    ax.set_xlabel("distinct images labelled (copies of one image count once)")
    ax.set_ylabel("test accuracy")
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
