"""The course's look, shared by every figure: one colour and one display name per method, curves
of a median over seeds with their quartiles, learning curves, the acquired-class histogram, image
grids, the live-run plot and the figure caption that names the data behind a figure.

Runs are :class:`~bbal_tutorial.results.RunRecord` objects, grouped by method (acquisition, b)
with :func:`bbal_tutorial.results.group_by_method`. Functions take plain values and an optional
matplotlib ``Axes``; they return the ``Axes`` (or ``Figure``) they drew on and never call
``plt.show()``. Each lesson's own figures live in its module under :mod:`bbal_tutorial.lessons`.
The figures use matplotlib's default style; nothing here changes global settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.results import RunRecord, group_by_method

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


def method_name(acquisition: str) -> str:
    """The display name of an acquisition function (``"batchbald"`` -> ``"BatchBALD"``)."""
    return METHOD_NAMES.get(acquisition, acquisition)


def method_label(acquisition: str, b: int) -> str:
    """A legend label for a method, a key of :func:`~bbal_tutorial.results.group_by_method`:
    its display name plus the acquisition size, e.g. ``"BALD (b=10)"``."""
    return f"{method_name(acquisition)} (b={b})"


def run_label(run: RunRecord) -> str:
    """:func:`method_label` of a run's method."""
    return method_label(run.acquisition, run.b)


def seeds_label(acquisition: str, b: int, seeds: int) -> str:
    """:func:`method_label` plus the number of seeds when there are several."""
    return method_label(acquisition, b) + (f", {seeds} seeds" if seeds > 1 else "")


def quartiles(
    curves: Sequence[Mapping[int, float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The x values every curve (one ``{x: y}`` per seed) has, and the median, 25th and 75th
    percentile of y over the curves at each of them.

    Only x values every curve reached are kept, so a partly finished run shortens the curve
    instead of biasing it.
    """
    xs = sorted(set.intersection(*(set(c) for c in curves)))
    values_X_S = np.array([[c[x] for c in curves] for x in xs]).reshape(len(xs), len(curves))
    return (
        np.array(xs),
        np.median(values_X_S, axis=1),
        np.percentile(values_X_S, 25, axis=1),
        np.percentile(values_X_S, 75, axis=1),
    )


def learning_curve(run: RunRecord) -> dict[int, float]:
    """A run's test accuracy keyed by the number of labelled points."""
    return dict(zip(run.labels, run.accuracies, strict=True))


def curve_statistics(
    runs: Sequence[RunRecord],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labelled-set sizes and the median, 25th and 75th percentile of test accuracy over seeds
    (:func:`quartiles` of the runs' learning curves)."""
    return quartiles([learning_curve(run) for run in runs])


def plot_median_over_seeds(
    ax: Axes,
    curves: Sequence[Mapping[int, float]],
    acquisition: str,
    label: str,
    *,
    band_alpha: float = 0.2,
    **line: Any,
) -> None:
    """One method's curves (one ``{x: y}`` per seed) as the median line in the method's colour,
    with the quartiles shaded when there are several seeds (``band_alpha = 0``: no shading).
    Draws nothing when the curves share no x value."""
    xs, median, low, high = quartiles(curves)
    if len(xs) == 0:
        return
    colour = METHOD_COLOURS.get(acquisition)
    ax.plot(xs, median, color=colour, label=label, **line)
    if len(curves) > 1 and band_alpha > 0:
        ax.fill_between(xs, low, high, color=colour, alpha=band_alpha, linewidth=0)


def plot_learning_curves(
    runs: Iterable[RunRecord],
    ax: Axes | None = None,
    *,
    target_accuracies: Sequence[float] = (0.9,),
    title: str | None = None,
) -> Axes:
    """Test accuracy against labelled points: the median over seeds, with the quartiles shaded."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    groups = group_by_method(runs)
    if not groups:
        raise ValueError("plot_learning_curves needs at least one results file")
    for (acquisition, b), group in groups.items():
        curves = [learning_curve(run) for run in group]
        label = seeds_label(acquisition, b, len(group))
        plot_median_over_seeds(ax, curves, acquisition, label, marker=".")
    for target in target_accuracies:
        ax.axhline(target, color="black", linestyle=":", linewidth=0.8)
    ax.set_xlabel("labelled points")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_acquired_class_histogram(
    runs: Iterable[RunRecord],
    num_classes: int,
    ax: Axes | None = None,
    *,
    sort: bool = True,
) -> Axes:
    """How often each class was acquired, per method, sorted by count (the blog's Figure 14)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    groups = group_by_method(runs)
    width = 0.8 / max(len(groups), 1)
    for i, ((acquisition, b), group) in enumerate(groups.items()):
        counts_C = np.zeros(num_classes)
        for run in group:
            counts_C += np.bincount(run.acquired_labels, minlength=num_classes)
        counts_C /= len(group)
        if sort:
            counts_C = np.sort(counts_C)[::-1]
        x = np.arange(num_classes) + (i - (len(groups) - 1) / 2) * width
        ax.bar(
            x,
            counts_C,
            width=width,
            color=METHOD_COLOURS.get(acquisition),
            label=method_label(acquisition, b),
        )
    ax.set_xlabel("classes, sorted by how often they were acquired" if sort else "class")
    ax.set_ylabel("acquired points (mean over seeds)")
    ax.legend(fontsize="small")
    return ax


def figure_caption(runs: Sequence[RunRecord]) -> str:
    """Where a figure's numbers came from: data source, settings and dates of the runs."""
    runs = list(runs)
    # Repeated MNIST's source names its noise seed; the seeds are listed once, separately.
    sources = sorted({re.sub(r", seed \d+", "", run.dataset_source) for run in runs})
    finished = sorted(run.finished or run.updated or "unfinished" for run in runs)
    seeds = sorted({run.seed for run in runs})
    config = runs[0].config
    return (
        f"data: {'; '.join(sources)} | K={config.mc_samples}, "
        f"max labels {config.label_budget}, seeds {seeds} | runs finished {finished[0][:10]}"
        + (f" to {finished[-1][:10]}" if finished[-1] != finished[0] else "")
    )


def plot_runs_summary(runs: Sequence[RunRecord], num_classes: int | None = None) -> Figure:
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
    run: RunRecord,
    cached_runs: Sequence[RunRecord] = (),
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
    for (acquisition, b), group in group_by_method(cached_runs).items():
        curves = [learning_curve(cached) for cached in group]
        label = f"cached: {method_label(acquisition, b)}"
        plot_median_over_seeds(
            ax, curves, acquisition, label, band_alpha=0.1, linewidth=1, alpha=0.6
        )
    config = run.config
    ax.plot(
        run.labels,
        run.accuracies,
        marker="o",
        linewidth=2.5,
        color=METHOD_COLOURS.get(run.acquisition, "black"),
        markeredgecolor="black",
        label=f"live: {run_label(run)}",
    )
    progress = f"round {len(run.rounds)}" + (f" of {total_rounds}" if total_rounds else "")
    ax.set_title(
        f"live run, {progress}: K = {config.mc_samples}, "
        f"{config.max_train_images or 'all'} original images, seed {config.seed}",
        fontsize=10,
    )
    ax.set_xlabel("labelled points")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower right")
    return ax
