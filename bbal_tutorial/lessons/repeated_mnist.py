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
from bbal_tutorial.plotting import METHOD_COLOURS, group_runs, run_label
from bbal_tutorial.presets import run_data
from bbal_tutorial.results import Results, group_by_method


def plot_batch_diversity(runs: Sequence[Results], ax: Axes | None = None) -> Axes:
    """Distinct original images in each acquired batch against labelled points: the median over
    seeds per method, with the batch size b dotted (b distinct images = no label wasted on a
    copy). Copies share ``acquired_original_indices`` (Repeated MNIST)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    batch_sizes = set()
    for label, group in group_runs(runs).items():
        per_run = [
            {
                r["n_labeled"]: len(set(r["acquired_original_indices"]))
                for r in res["rounds"]
                if r["acquired_original_indices"]
            }
            for res in group
        ]
        common = sorted(set.intersection(*(set(d) for d in per_run)))
        if not common:
            continue
        median = np.median([[d[n] for d in per_run] for n in common], axis=1)
        method = group[0]["config"]["acquisition"]
        ax.plot(common, median, marker=".", color=METHOD_COLOURS.get(method), label=label)
        batch_sizes.add(group[0]["config"]["acquisition_size"])
    for b in batch_sizes:
        ax.axhline(b, color="black", linestyle=":", linewidth=0.8)
    ax.set_ylim(0, max(batch_sizes, default=10) + 1)
    ax.set_xlabel("labelled points before the batch was acquired")
    ax.set_ylabel("distinct original images in the batch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_accuracy_vs_distinct(
    runs: Sequence[Results], distinct_per_run: Sequence[Sequence[int]], ax: Axes | None = None
) -> Axes:
    """Test accuracy against the number of *distinct* images labelled so far, one thin line per
    run, coloured by method: if a method's curve moves onto the others here, the labels it
    spent on copies explain its gap in the usual accuracy-against-labels plot.

    ``distinct_per_run`` is :func:`bbal_tutorial.experiments.distinct_labelled`'s result.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    labelled = set()
    for results, distinct in zip(runs, distinct_per_run, strict=True):
        method = results["config"]["acquisition"]
        label = run_label(results)
        ax.plot(
            distinct,
            [r["test_accuracy"] for r in results["rounds"]],
            marker=".",
            linewidth=1,
            alpha=0.8,
            color=METHOD_COLOURS.get(method),
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
