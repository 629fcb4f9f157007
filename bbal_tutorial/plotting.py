"""The course's look, shared by every figure: one colour and one display name per method, learning
curves with their spread over seeds, image grids, the live-run plot and the figure caption that
names the data behind a figure.

Functions take plain values (run records, tensors) and an optional matplotlib ``Axes``; they return
the ``Axes`` (or ``Figure``) they drew on and never call ``plt.show()``. Each lesson's own figures
live in its module under :mod:`bbal_tutorial.lessons`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.results import Results

# One colour per method, fixed across every figure of the course.
METHOD_COLOURS = {
    "random": "#7f7f7f",
    "bald": "#d62728",
    "batchbald": "#1f77b4",
    "max-entropy": "#ff7f0e",
    "variation-ratios": "#9467bd",
    "mean-std": "#8c564b",
    "power-bald": "#2ca02c",
    "softmax-bald": "#17becf",
    "softrank-bald": "#bcbd22",
}


METHOD_NAMES = {
    "random": "Random",
    "bald": "BALD",
    "batchbald": "BatchBALD",
    "max-entropy": "Max entropy",
    "variation-ratios": "Variation ratios",
    "mean-std": "Mean STD",
    "power-bald": "PowerBALD",
    "softmax-bald": "SoftmaxBALD",
    "softrank-bald": "SoftrankBALD",
}


def run_label(results: Results) -> str:
    """A legend label for a run: method name, plus the acquisition size."""
    config = results["config"]
    name = METHOD_NAMES.get(config["acquisition"], config["acquisition"])
    return f"{name} (b={config['acquisition_size']})"


def group_runs(runs: Iterable[Results]) -> dict[str, list[Results]]:
    """Group runs that differ only in their seed, keyed by :func:`run_label`."""
    groups: dict[str, list[Results]] = defaultdict(list)
    for results in runs:
        groups[run_label(results)].append(results)
    return dict(groups)


def curve_statistics(
    runs: Sequence[Results],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labelled-set sizes and the median, 25th and 75th percentile of test accuracy over seeds.

    Only sizes that every run reached are kept, so a partly finished run shortens the curve
    instead of biasing it.
    """
    per_run = [{r["n_labeled"]: r["test_accuracy"] for r in res["rounds"]} for res in runs]
    common = sorted(set.intersection(*(set(d) for d in per_run)))
    acc_R_S = np.array([[d[n] for d in per_run] for n in common]).reshape(len(common), len(runs))
    return (
        np.array(common),
        np.median(acc_R_S, axis=1),
        np.percentile(acc_R_S, 25, axis=1),
        np.percentile(acc_R_S, 75, axis=1),
    )


def plot_learning_curves(
    runs: Iterable[Results],
    ax: Axes | None = None,
    *,
    target_accuracies: Sequence[float] = (0.9,),
    title: str | None = None,
) -> Axes:
    """Test accuracy against labelled points: the median over seeds, with the quartiles shaded."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    groups = group_runs(runs)
    if not groups:
        raise ValueError("plot_learning_curves needs at least one results file")
    for label, group in groups.items():
        method = group[0]["config"]["acquisition"]
        n_labeled, median, low, high = curve_statistics(group)
        colour = METHOD_COLOURS.get(method)
        seeds = f", {len(group)} seeds" if len(group) > 1 else ""
        ax.plot(n_labeled, median, marker=".", color=colour, label=f"{label}{seeds}")
        if len(group) > 1:
            ax.fill_between(n_labeled, low, high, color=colour, alpha=0.2, linewidth=0)
    for target in target_accuracies:
        ax.axhline(target, color="black", linestyle=":", linewidth=0.8)
    ax.set_xlabel("labelled points")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def acquired_labels(results: Results) -> list[int]:
    """All labels acquired during a run (the initial labelled set excluded)."""
    return [label for record in results["rounds"] for label in record["acquired_labels"]]


def plot_acquired_class_histogram(
    runs: Iterable[Results],
    num_classes: int,
    ax: Axes | None = None,
    *,
    sort: bool = True,
) -> Axes:
    """How often each class was acquired, per method, sorted by count (the blog's Figure 14)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    groups = group_runs(runs)
    width = 0.8 / max(len(groups), 1)
    for i, (label, group) in enumerate(groups.items()):
        counts_C = np.zeros(num_classes)
        for results in group:
            counts_C += np.bincount(acquired_labels(results), minlength=num_classes)
        counts_C /= len(group)
        if sort:
            counts_C = np.sort(counts_C)[::-1]
        method = group[0]["config"]["acquisition"]
        x = np.arange(num_classes) + (i - (len(groups) - 1) / 2) * width
        ax.bar(x, counts_C, width=width, color=METHOD_COLOURS.get(method), label=label)
    ax.set_xlabel("classes, sorted by how often they were acquired" if sort else "class")
    ax.set_ylabel("acquired points (mean over seeds)")
    ax.legend(fontsize="small")
    return ax


def figure_caption(runs: Sequence[Results]) -> str:
    """Where a figure's numbers came from: data source, settings and dates of the runs."""
    runs = list(runs)
    # Repeated MNIST's source names its noise seed; the seeds are listed once, separately.
    sources = sorted({re.sub(r", seed \d+", "", r["dataset_source"]) for r in runs})
    finished = sorted(r["finished"] or r["updated"] or "unfinished" for r in runs)
    seeds = sorted({r["config"]["seed"] for r in runs})
    config = runs[0]["config"]
    return (
        f"data: {'; '.join(sources)} | K={config['mc_samples']}, "
        f"max labels {config['label_budget']}, seeds {seeds} | runs finished {finished[0][:10]}"
        + (f" to {finished[-1][:10]}" if finished[-1] != finished[0] else "")
    )


def plot_runs_summary(runs: Sequence[Results], num_classes: int | None = None) -> Figure:
    """Learning curves (and, with ``num_classes``, the acquired-class histogram) with a caption."""
    ncols = 2 if num_classes else 1
    fig, axes = plt.subplots(1, ncols, figsize=(7 * ncols, 4.8), squeeze=False)
    plot_learning_curves(runs, axes[0, 0])
    if num_classes:
        plot_acquired_class_histogram(runs, num_classes, axes[0, 1])
    fig.text(0.01, 0.005, figure_caption(runs), fontsize="x-small", color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _as_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().double().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def _show_image(ax: Axes, image_H_W: Any, title: str = "", frame_colour: str | None = None) -> None:
    """One grey-scale image without ticks; a thick coloured frame when ``frame_colour`` is set."""
    ax.imshow(_as_numpy(image_H_W), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(frame_colour is not None)
        if frame_colour is not None:
            spine.set_edgecolor(frame_colour)
            spine.set_linewidth(3)
    ax.set_title(title, fontsize=8, color=frame_colour or "black")


def plot_image_grid(
    images_N_H_W: Any,
    *,
    titles: Sequence[str] | None = None,
    frame_colours: Sequence[str | None] | None = None,
    ncols: int = 10,
) -> Figure:
    """Images in a grid of ``ncols`` columns (grey scale, ink dark), optional titles and frames."""
    images = _as_numpy(images_N_H_W)
    n = len(images)
    if n == 0:
        raise ValueError("plot_image_grid needs at least one image")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.3 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        _show_image(
            ax,
            images[i],
            titles[i] if titles is not None else "",
            frame_colours[i] if frame_colours is not None else None,
        )
    fig.tight_layout()
    return fig


def plot_live_run(
    results: Results,
    cached_runs: Sequence[Results] = (),
    *,
    total_rounds: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A run in progress: test accuracy after each round so far (thick line) over the median
    and quartiles of ``cached_runs`` (thin, faded), with the live run's settings in the title.

    The cached curves come from larger runs (the teaching preset), so they show where the
    method ends up with more data and training, not what the live run should match point by
    point.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for label, group in group_runs(cached_runs).items():
        method = group[0]["config"]["acquisition"]
        n_labeled, median, low, high = curve_statistics(group)
        colour = METHOD_COLOURS.get(method)
        ax.plot(n_labeled, median, color=colour, linewidth=1, alpha=0.6, label=f"cached: {label}")
        if len(group) > 1:
            ax.fill_between(n_labeled, low, high, color=colour, alpha=0.1, linewidth=0)
    config = results["config"]
    rounds = results["rounds"]
    ax.plot(
        [r["n_labeled"] for r in rounds],
        [r["test_accuracy"] for r in rounds],
        marker="o",
        linewidth=2.5,
        color=METHOD_COLOURS.get(config["acquisition"], "black"),
        markeredgecolor="black",
        label=f"live: {run_label(results)}",
    )
    progress = f"round {len(rounds)}" + (f" of {total_rounds}" if total_rounds else "")
    ax.set_title(
        f"live run, {progress}: K = {config['mc_samples']}, "
        f"{config.get('max_train_images') or 'all'} original images, seed {config['seed']}",
        fontsize=10,
    )
    ax.set_xlabel("labelled points")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower right")
    return ax
