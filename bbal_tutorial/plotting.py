"""The course's look, shared by every figure: one theme, one colour-blind-safe palette, one colour
and one display name per method, curves of a median over seeds with their quartiles, learning
curves, grouped bar charts, the acquired-class histogram, image grids, the live-run plot and the
figure caption that names the data behind a figure.

The plotting layer is seaborn on top of matplotlib. :func:`use_course_style` sets seaborn's theme
for the whole course -- the "notebook" context (readable font sizes), a white background with a
light grid and seaborn's colour-blind palette -- and is the only function here that changes
global settings (matplotlib's ``rcParams``); each notebook calls it once, in its import cell.
:data:`METHOD_COLOURS` takes one colour of that palette per method, so a method has the same
colour in every figure; the palette's grey (:data:`REFERENCE_COLOUR`) is no method's colour and is
kept for references, and a reference drawn as bars (a pool's class shares, say) is hatched and
outlined (:data:`REFERENCE_BAR_STYLE`), never filled with a method colour.

Runs are :class:`~bbal_tutorial.results.RunRecord` objects, grouped by method (acquisition, b)
with :func:`bbal_tutorial.results.group_by_method`. Functions take plain values and an optional
matplotlib ``Axes``; they return the ``Axes`` (or ``Figure``) they drew on and never call
``plt.show()``. Each lesson's own figures live in its module under :mod:`bbal_tutorial.lessons`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from bbal_tutorial.results import RunRecord, group_by_method

#: seaborn's colour-blind palette (10 colours, hex), the course's only categorical palette.
COURSE_PALETTE: list[str] = sns.color_palette("colorblind").as_hex()

#: The palette's grey: references (a pool, a ceiling, "every subset"), never a method.
REFERENCE_COLOUR = COURSE_PALETTE[7]

#: How a reference drawn as bars looks (e.g. the pool's class shares next to the methods' bars):
#: white, hatched and outlined, so it reads as "not a method" in colour and in grey scale.
REFERENCE_BAR_STYLE: dict[str, Any] = {
    "facecolor": "white",
    "edgecolor": "0.2",
    "hatch": "///",
    "linewidth": 0.8,
}

#: One colour per method, fixed across every figure of the course, all different: nine of the
#: palette's ten colours (the grey is left to references), then, for the EPIG methods, black (the
#: one colour of the Okabe-Ito colour-blind palette that seaborn's lacks) and wine (Paul Tol's
#: colour-blind-safe "muted" scheme). The strong colours go to the methods most often drawn
#: together (random, BALD, BatchBALD, and the Repeated MNIST baselines; EPIG beside them in
#: notebook 07), the pale yellow to max entropy, which no lesson plots.
METHOD_COLOURS: dict[str, str] = {
    "random": COURSE_PALETTE[2],  # bluish green
    "bald": COURSE_PALETTE[3],  # vermillion
    "batchbald": COURSE_PALETTE[0],  # blue
    "max-entropy": COURSE_PALETTE[8],  # yellow
    "variation-ratios": COURSE_PALETTE[4],  # reddish purple
    "mean-std": COURSE_PALETTE[5],  # brown
    "power-bald": COURSE_PALETTE[9],  # sky blue
    "softmax-bald": COURSE_PALETTE[6],  # pink
    "softrank-bald": COURSE_PALETTE[1],  # orange
    "epig": "#000000",  # black
    "power-epig": "#882255",  # wine
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
    "epig": "EPIG",
    "power-epig": "PowerEPIG",
}


def use_course_style(*, font_scale: float = 1.0) -> None:
    """Set the course's look for every figure drawn from now on: seaborn's theme with the
    "notebook" context (fonts of 11-12 pt), the "whitegrid" style and the colour-blind palette
    (:data:`COURSE_PALETTE`) as matplotlib's colour cycle.

    The one function of this module that changes global settings (matplotlib's ``rcParams``):
    call it once, in a notebook's import cell. ``font_scale`` scales every font (e.g. 1.2 on a
    projector). ``matplotlib.rcdefaults()`` undoes it.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette="colorblind",
        font_scale=font_scale,
    )


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is 1:
    ``plural(1, "different winner")`` -> ``"1 different winner"``, ``plural(3, "repeat")`` ->
    ``"3 repeats"``; ``plural_noun`` for irregular plurals."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


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
    with the interquartile range shaded when there are several seeds (``band_alpha = 0``: no
    shading). Only x values every curve reached are drawn (as in :func:`quartiles`); draws
    nothing when the curves share no x value.

    Drawn by seaborn's ``lineplot`` (estimator: the median; error band: the 50% percentile
    interval, i.e. the 25th to 75th percentile); ``line`` goes to the median line (``marker``,
    ``linewidth``, ``alpha``, ...).
    """
    xs = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
    if not xs:
        return
    x_XS = np.repeat(np.asarray(xs), len(curves))
    y_XS = np.array([c[x] for x in xs for c in curves], dtype=np.float64)
    colour = METHOD_COLOURS.get(acquisition)
    if colour is not None:
        line = {"color": colour, "markeredgecolor": colour} | line
    band = len(curves) > 1 and band_alpha > 0
    sns.lineplot(
        x=x_XS,
        y=y_XS,
        estimator="median",
        errorbar=("pi", 50) if band else None,
        err_kws={"alpha": band_alpha, "linewidth": 0},
        label=label,
        legend=False,
        ax=ax,
        **line,
    )


def plot_learning_curves(
    runs: Iterable[RunRecord],
    ax: Axes | None = None,
    *,
    target_accuracies: Sequence[float] = (0.9,),
    title: str | None = None,
    reference: tuple[str, int] | None = None,
) -> Axes:
    """Test accuracy against labelled points: the median over seeds, with the quartiles shaded.

    The runs of ``reference`` (acquisition, b), if any, are drawn as a grey dashed line labelled
    "reference", so that a method shown at two acquisition sizes keeps one colour per line.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    groups = group_by_method(runs)
    if not groups:
        raise ValueError("plot_learning_curves needs at least one results file")
    for (acquisition, b), group in groups.items():
        curves = [learning_curve(run) for run in group]
        label = seeds_label(acquisition, b, len(group))
        if (acquisition, b) == reference:
            style = {"color": REFERENCE_COLOUR, "linestyle": "--", "linewidth": 1.2}
            plot_median_over_seeds(ax, curves, acquisition, f"{label} (reference)", **style)
        else:
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


def plot_grouped_bars(
    ax: Axes,
    values_by_group: Mapping[str, Any],
    categories: Sequence[str],
    colours: Mapping[str, str | None],
    *,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[BarContainer]:
    """Grouped bars drawn by seaborn's ``barplot``: for each category (x, in the order given) one
    bar per group, side by side, group g's bars of heights ``values_by_group[g]`` (one value per
    category) in ``colours[g]`` (``None``: the next colour of the palette).

    ``styles[g]`` restyles group g's bars afterwards (e.g. :data:`REFERENCE_BAR_STYLE` for a
    reference that is no method). Each group's bars form one ``BarContainer`` labelled with the
    group's name, so ``ax.legend()`` lists the groups, in order; the containers are returned.
    Colours are used as given (no desaturation). Category i sits at x = i.
    """
    groups = list(values_by_group)
    categories = list(categories)
    data = pd.DataFrame(
        {
            "category": [c for _ in groups for c in categories],
            "value": np.concatenate(
                [np.asarray(_as_numpy(values_by_group[g]), dtype=np.float64) for g in groups]
            ),
            "group": [g for g in groups for _ in categories],
        }
    )
    palette = dict(zip(groups, sns.color_palette(n_colors=len(groups)).as_hex(), strict=True))
    palette |= {g: colours[g] for g in groups if colours.get(g) is not None}
    before = len(ax.containers)
    sns.barplot(
        data=data,
        x="category",
        y="value",
        hue="group",
        order=categories,
        hue_order=groups,
        palette=palette,
        errorbar=None,
        saturation=1,
        legend=False,
        ax=ax,
    )
    containers = list(ax.containers[before:])
    for group, container in zip(groups, containers, strict=True):
        container.set_label(group)
        for bar in container:
            bar.set(**dict((styles or {}).get(group, {})))
    ax.set_xlabel("")
    ax.set_ylabel("")
    return containers


def plot_acquired_class_histogram(
    runs: Iterable[RunRecord],
    num_classes: int,
    ax: Axes | None = None,
    *,
    sort: bool = True,
) -> Axes:
    """How often each class was acquired, per method (mean over seeds), each method's classes
    sorted by that count (the blog's Figure 14): grouped bars in the methods' colours."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    counts_by_method, colours = {}, {}
    for (acquisition, b), group in group_by_method(runs).items():
        counts_C = np.zeros(num_classes)
        for run in group:
            counts_C += np.bincount(run.acquired_labels, minlength=num_classes)
        counts_C /= len(group)
        if sort:
            counts_C = np.sort(counts_C)[::-1]
        label = method_label(acquisition, b)
        counts_by_method[label] = counts_C
        colours[label] = METHOD_COLOURS.get(acquisition)
    if counts_by_method:
        plot_grouped_bars(ax, counts_by_method, [str(c) for c in range(num_classes)], colours)
    # at most 12 labelled ticks, whatever the number of classes; ranks count from 1
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 10**9) if num_classes / s <= 12)
    if sort:
        ranks = sorted({1, *range(step, num_classes + 1, step)})
        ax.set_xticks([r - 1 for r in ranks], [str(r) for r in ranks])
    else:
        classes = list(range(0, num_classes, step))
        ax.set_xticks(classes, [str(c) for c in classes])
    ax.set_xlim(-0.6, num_classes - 0.4)
    ax.set_xlabel("classes, ranked by how often they were acquired (1: most)" if sort else "class")
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
