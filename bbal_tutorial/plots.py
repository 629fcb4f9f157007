"""Every figure the notebooks and the command line draw.

Functions take plain values (results dictionaries, tensors) and an optional matplotlib ``Axes``;
they return the ``Axes`` (or ``Figure``) they drew on and never call ``plt.show()``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

Results = dict[str, Any]

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
    return f"{name} (b={config['batch_size']})"


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
        f"max labels {config['max_labels']}, seeds {seeds} | runs finished {finished[0][:10]}"
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


# --------------------------------------------------------------------------------------------------
# information diagrams (notebook 01): one point's H[y] and H[w]; two points' y1, y2 and w
#
# venn2 areas are exact, so the one-point diagram is drawn to scale. venn3 areas are only
# approximate and a negative region would be drawn with a positive area, so three-variable
# diagrams are drawn schematically (seven equal regions) and carry their values in the labels.

#: Colours of the information diagrams, fixed across the course.
INFO_COLOURS = {
    "y": "#4c72b0",
    "y1": "#4c72b0",
    "y2": "#55a868",
    "w": "#dd8452",
    "double": "#c44e52",
    "negative": "#c44e52",
}

_MATH_NAMES = {"y": "y", "y1": "y_1", "y2": "y_2", "w": r"\boldsymbol{\omega}"}

# matplotlib-venn's region ids for (a, b, z) and the region keys of
# bbal_tutorial.information.three_variable_regions_from_joint.
_VENN3_REGIONS = {
    "100": "H[{a}|{b},{z}]",
    "010": "H[{b}|{a},{z}]",
    "001": "H[{z}|{a},{b}]",
    "110": "I[{a};{b}|{z}]",
    "101": "I[{a};{z}|{b}]",
    "011": "I[{b};{z}|{a}]",
    "111": "I[{a};{b};{z}]",
}


_EXPECTED_H = r"$\mathbb{E}_{\boldsymbol{\omega}}\mathbb{H}(y|\boldsymbol{\omega})$"


def info_math(key: str) -> str:
    """A region key as mathtext: ``I[y1;w|y2]`` -> ``$\\mathbb{I}(y_1;\\boldsymbol{\\omega}|y_2)$``.

    The notation of the BatchBALD blog post: blackboard H and I, a bold omega for the model
    parameters, round brackets.
    """
    text = re.sub(r"\b(y1|y2|y|w)\b", lambda m: _MATH_NAMES[m.group(1)], key)
    text = text.replace("H[", r"\mathbb{H}(").replace("I[", r"\mathbb{I}(").replace("]", ")")
    return f"${text}$"


def _region_keys(names: Sequence[str]) -> dict[str, str]:
    a, b, z = names
    return {rid: template.format(a=a, b=b, z=z) for rid, template in _VENN3_REGIONS.items()}


def plot_sample_predictions(
    log_probs_K_C: torch.Tensor, axes: Sequence[Axes] | None = None
) -> list[Axes]:
    """One bar chart per posterior sample, ``p(y | x, w_k)``, then the predictive ``p(y | x)``.

    The predictive distribution is the mean over the K samples,
    ``p(y|x) = 1/K sum_k p(y|x,w_k)``; each title gives the entropy of the bars below it, so the
    mean of the first K titles is ``E_w H[y|w]`` and the last title is ``H[y]``. Needs K + 1 axes
    (created in one row when not given).
    """
    probs_K_C = log_probs_K_C.detach().double().exp().cpu().numpy()
    K, C = probs_K_C.shape
    if axes is None:
        _, axes = plt.subplots(1, K + 1, figsize=(1.25 * (K + 1), 2.3), sharey=True)
    axes = list(np.ravel(axes))
    if len(axes) < K + 1:
        raise ValueError(f"need K + 1 = {K + 1} axes, got {len(axes)}")
    mean_C = probs_K_C.mean(axis=0)

    def entropy(p: np.ndarray) -> float:
        return float(-(p[p > 0] * np.log(p[p > 0])).sum())

    rows = [
        (rf"$\boldsymbol{{\omega}}_{{{k + 1}}}$", probs_K_C[k], INFO_COLOURS["w"]) for k in range(K)
    ]
    rows.append((r"mean: $\mathrm{p}(y)$", mean_C, INFO_COLOURS["y"]))
    for ax, (name, probs_C, colour) in zip(axes, rows, strict=False):
        ax.bar(np.arange(C), probs_C, color=colour, width=0.7)
        # abs: a certain sample's entropy is -0.0 after rounding
        ax.set_title(f"{name}\nH = {abs(entropy(probs_C)):.2f}", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(np.arange(C))
        ax.tick_params(labelsize=8)
        ax.set_xlabel("class", fontsize=8)
    axes[0].set_ylabel(r"$\mathrm{p}(y \mid x, \boldsymbol{\omega}_k)$", fontsize=9)
    for ax in axes[K + 1 :]:
        ax.set_visible(False)
    return axes[: K + 1]


def plot_bald_venn(log_probs_K_C: torch.Tensor, ax: Axes | None = None) -> Axes:
    """The information diagram of one point's label y and the model parameters w, to scale.

    Circle areas are ``H[y]`` and ``H[w] = log K``; the overlap is BALD's
    ``I[y;w] = H[y] - E_w H[y|w]``; the rest of y's circle is ``E_w H[y|w]``. venn2 areas are
    exact. The axes limits depend only on K and C, so moving a slider changes the circles, not
    the scale.
    """
    from matplotlib_venn import venn2
    from matplotlib_venn.layout.venn2 import DefaultLayoutAlgorithm

    from bbal_tutorial.information import two_variable_regions

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    K, C = log_probs_K_C.shape
    r = two_variable_regions(log_probs_K_C)
    # rounding can leave -1e-17; venn2 needs sizes >= 0
    sizes = {
        rid: max(r[key], 0.0) for rid, key in [("10", "H[y|w]"), ("01", "H[w|y]"), ("11", "I[y;w]")]
    }
    total = sizes["10"] + sizes["01"] + sizes["11"]
    if total <= 1e-12:
        ax.text(
            0.5, 0.5, "every entropy is 0: nothing to draw", ha="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return ax
    venn = venn2(
        subsets=(sizes["10"], sizes["01"], sizes["11"]),
        set_labels=("", ""),
        set_colors=(INFO_COLOURS["y"], INFO_COLOURS["w"]),
        alpha=0.45,
        ax=ax,
        layout_algorithm=DefaultLayoutAlgorithm(normalize_to=total),
    )
    # matplotlib-venn puts each region's label inside it: point the descriptions there instead
    targets = {}
    for rid in ("10", "01", "11"):
        label = venn.get_label_by_id(rid)
        if label is not None:
            targets[rid] = label.get_position()
            label.set_text("")
    # fixed limits: the largest possible diagram has area H[y,w] <= log C + log K
    radius = math.sqrt((math.log(C) + math.log(K)) / math.pi)
    ax.set_xlim(-2.1 * radius, 2.1 * radius)
    ax.set_ylim(-1.4 * radius, 1.4 * radius)
    ax.set_aspect("equal")
    # each description sits at a corner or edge of the axes, with an arrow into its region
    texts = {
        "10": (f"{_EXPECTED_H} = {r['H[y|w]']:.2f}\n(each sample's own uncertainty)", (0.02, 0.02)),
        "11": (f"{info_math('I[y;w]')} = {r['I[y;w]']:.2f}\n(BALD)", (0.5, 0.98)),
        "01": (f"{info_math('H[w|y]')} = {r['H[w|y]']:.2f}", (0.98, 0.02)),
    }
    for rid, (text, xy) in texts.items():
        place = {
            "ha": ["left", "center", "right"][int(2 * xy[0])],
            "va": "top" if xy[1] > 0.5 else "bottom",
        }
        if sizes[rid] > 1e-9 and rid in targets:
            arrow = {"arrowstyle": "->", "color": "0.3", "lw": 0.8}
            ax.annotate(
                text,
                targets[rid],
                xy,
                textcoords="axes fraction",
                fontsize=9,
                arrowprops=arrow,
                **place,
            )
        else:  # an empty region has no label position to point at
            ax.text(*xy, text, transform=ax.transAxes, fontsize=9, color="0.4", **place)
    totals = [
        (f"{info_math('H[y]')}\n= {r['H[y]']:.2f}", 0.02, "left", INFO_COLOURS["y"]),
        (f"{info_math('H[w]')} = log K\n= {r['H[w]']:.2f}", 0.98, "right", INFO_COLOURS["w"]),
    ]
    for text, x, ha, colour in totals:
        ax.text(
            x, 0.8, text, transform=ax.transAxes, ha=ha, va="top", color=colour, fontweight="bold"
        )
    ax.set_title(
        f"{info_math('I[y;w]')} = {info_math('H[y]')} $-$ {_EXPECTED_H}\n"
        f"{r['I[y;w]']:.2f} = {r['H[y]']:.2f} $-$ {r['H[y|w]']:.2f}",
        fontsize=10,
    )
    return ax


def plot_bald_example(log_probs_K_C: torch.Tensor) -> Figure:
    """:func:`plot_sample_predictions` (left) next to :func:`plot_bald_venn` (right)."""
    K = log_probs_K_C.shape[0]
    fig = plt.figure(figsize=(12, 4.4), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
    cols = min(K + 1, 5)
    rows = math.ceil((K + 1) / cols)
    axes = left.subplots(rows, cols, sharey=True, squeeze=False)
    plot_sample_predictions(log_probs_K_C, axes.ravel())
    left.suptitle(f"what each of the K = {K} samples predicts for one point x", fontsize=10)
    plot_bald_venn(log_probs_K_C, right.subplots())
    return fig


def plot_three_variable_diagram(
    regions: Mapping[str, float],
    names: Sequence[str] = ("y1", "y2", "w"),
    ax: Axes | None = None,
    *,
    counts: Mapping[str, int] | None = None,
    title: str | None = None,
) -> Axes:
    """A three-variable information diagram, drawn schematically, with the values in the labels.

    ``regions`` holds the seven region values keyed as in
    :func:`bbal_tutorial.information.three_variable_regions_from_joint` (e.g. ``"I[y1;w|y2]"``);
    each label shows the region's name and its signed value. All seven regions are drawn the same
    size (``fixed_subset_sizes``): areas are *not* proportional, and a negative region (the centre,
    the co-information ``I[a;b;z]``, can be negative) is drawn hatched with its label in red.
    ``counts`` shades regions by how often a score counts them: 0 grey, 1 coloured, 2 dark and
    hatched (``"x2"``); without it the three circles keep their own colours.
    """
    from matplotlib_venn import venn3
    from matplotlib_venn.layout.venn3 import DefaultLayoutAlgorithm

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    keys = _region_keys(names)
    missing = [key for key in keys.values() if key not in regions]
    if missing:
        raise ValueError(f"regions lacks {missing}; got keys {sorted(regions)}")
    venn = venn3(
        subsets=(1,) * 7,
        set_labels=tuple(info_math(f"H[{n}]") for n in names),
        set_colors=tuple(INFO_COLOURS.get(n, "0.5") for n in names),
        alpha=0.35,
        ax=ax,
        layout_algorithm=DefaultLayoutAlgorithm(fixed_subset_sizes=(1,) * 7),
    )
    for rid, key in keys.items():
        value = regions[key]
        patch, label = venn.get_patch_by_id(rid), venn.get_label_by_id(rid)
        label.set_text(
            f"{info_math(key)}\n{value:+.2f}" if abs(value) > 5e-3 else f"{info_math(key)}\n0"
        )
        label.set_fontsize(8)
        # a white box keeps a label readable on top of a hatched region
        boxed = {
            "boxstyle": "round,pad=0.2",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        }
        if counts is not None:
            count = counts.get(key, 0)
            patch.set_facecolor({0: "0.92", 1: "#9ecae1"}.get(count, INFO_COLOURS["double"]))
            patch.set_alpha(1.0 if count != 1 else 0.9)
            if count >= 2:
                label.set_text(label.get_text() + f"  (×{count})")
                label.set_fontweight("bold")
                if abs(value) > 5e-3:
                    patch.set_hatch("xx")
                    label.set_color(INFO_COLOURS["double"])
                    label.set_bbox(boxed)
                else:  # counted twice, but there is nothing in it to double-count
                    patch.set_facecolor("#f2c4c4")
        if value < -5e-3:
            patch.set_hatch("//")
            patch.set_edgecolor(INFO_COLOURS["negative"])
            label.set_color(INFO_COLOURS["negative"])
            label.set_fontweight("bold")
            label.set_bbox(boxed)
    for label in venn.set_labels:
        label.set_fontsize(11)
    ax.text(
        0.5,
        -0.02,
        "schematic: areas are not to scale",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=8,
        color="0.4",
        style="italic",
    )
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_two_point_predictions(log_probs_2_K_C: torch.Tensor, ax: Axes | None = None) -> Axes:
    """The two points' predictions under each sample: a 2 × K grid, cell text = most likely class.

    Cells are coloured by that class (tab10) and shaded by its probability, so two rows that
    split the samples the same way look alike.
    """
    probs_2_K_C = log_probs_2_K_C.detach().double().exp().cpu().numpy()
    _, K, C = probs_2_K_C.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * K + 1, 1.6))
    label_2_K = probs_2_K_C.argmax(axis=2)
    top_2_K = probs_2_K_C.max(axis=2)
    colours = plt.get_cmap("tab10")
    image = np.ones((2, K, 4))
    for i in range(2):
        for k in range(K):
            image[i, k] = colours(label_2_K[i, k] % 10)
            image[i, k, 3] = 0.25 + 0.6 * (top_2_K[i, k] - 1 / C) / (1 - 1 / C + 1e-12)
            ax.text(
                k,
                i,
                f"{label_2_K[i, k]}\n{top_2_K[i, k]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
            )
    ax.imshow(image, aspect="auto")
    ax.set_xticks(np.arange(K), [rf"$\boldsymbol{{\omega}}_{{{k + 1}}}$" for k in range(K)])
    ax.set_yticks([0, 1], [r"$x_1$", r"$x_2$"])
    ax.tick_params(length=0)
    ax.set_title("most likely label (and its probability) under each posterior sample", fontsize=9)
    return ax


def plot_double_counting_bars(
    info: Mapping[str, float], ax: Axes | None = None, *, ymax: float | None = None
) -> Axes:
    """Top-b BALD's ``I[y1;w] + I[y2;w]`` (stacked) against BatchBALD's ``I[y1,y2;w]``, to scale.

    The top of BALD's stack, of height ``BALD sum - I[y1,y2;w]`` (the double-counted centre),
    is hatched. ``info`` is :func:`bbal_tutorial.examples.batch_information`'s dictionary.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 4))
    i1, i2, joint, double = (
        info["I[y1;w]"],
        info["I[y2;w]"],
        info["I[y1,y2;w]"],
        info["double-counted"],
    )
    ax.bar(0, i1, color=INFO_COLOURS["y1"], alpha=0.8, width=0.6, label=info_math("I[y1;w]"))
    ax.bar(
        0, i2, bottom=i1, color=INFO_COLOURS["y2"], alpha=0.8, width=0.6, label=info_math("I[y2;w]")
    )
    ax.bar(1, joint, color="#9ecae1", width=0.6, label=info_math("I[y1,y2;w]"))
    if double > 5e-3:
        ax.bar(
            0,
            double,
            bottom=i1 + i2 - double,
            fill=False,
            hatch="xx",
            edgecolor=INFO_COLOURS["double"],
            width=0.6,
            linewidth=1.5,
            label=f"counted twice: {double:.2f}",
        )
    ax.axhline(joint, color="0.3", linestyle=":", linewidth=1)
    for x, value in [(0, i1 + i2), (1, joint)]:
        ax.text(x, value, f"{value:.2f}", ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set_xticks([0, 1], ["top-b BALD\n(sum)", "BatchBALD\n(joint)"])
    ax.set_ylabel("nats")
    if ymax is not None:
        ax.set_ylim(0, ymax)
    ax.legend(fontsize=7.5, loc="upper right", framealpha=0.9)
    ax.set_title(
        f"double-counted: {double:.2f} nats",
        fontsize=10,
        color=INFO_COLOURS["double"] if double > 5e-3 else "black",
    )
    return ax


def plot_two_point_venns(log_probs_2_K_C: torch.Tensor) -> Figure:
    """Top-b BALD against BatchBALD for two points: the samples' predictions, both diagrams, bars.

    Left diagram: ``I[y1;w] + I[y2;w]`` shades y1's and y2's overlaps with w, so the centre
    ``I[y1;y2;w]`` is counted twice; right diagram: ``I[y1,y2;w]`` shades the union's overlap with
    w once. The diagrams are schematic (equal regions, values in the labels); the bars are to
    scale.
    """
    from bbal_tutorial.examples import batch_information
    from bbal_tutorial.information import three_variable_regions

    C = log_probs_2_K_C.shape[2]
    regions = three_variable_regions(log_probs_2_K_C)
    info = batch_information(log_probs_2_K_C)
    fig = plt.figure(figsize=(13, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 3.6], width_ratios=[1, 1, 0.75])
    plot_two_point_predictions(log_probs_2_K_C, fig.add_subplot(grid[0, :]))
    bald = {"I[y1;w|y2]": 1, "I[y2;w|y1]": 1, "I[y1;y2;w]": 2}
    batchbald = {"I[y1;w|y2]": 1, "I[y2;w|y1]": 1, "I[y1;y2;w]": 1}
    plot_three_variable_diagram(
        regions,
        ax=fig.add_subplot(grid[1, 0]),
        counts=bald,
        title=f"top-$b$ BALD: {info_math('I[y1;w]')} + {info_math('I[y2;w]')}"
        f" = {info['BALD sum']:.2f}",
    )
    plot_three_variable_diagram(
        regions,
        ax=fig.add_subplot(grid[1, 1]),
        counts=batchbald,
        title=r"BatchBALD: $\mathbb{I}(y_1,y_2;\boldsymbol{\omega})$"
        + f" = {info['I[y1,y2;w]']:.2f}",
    )
    plot_double_counting_bars(info, fig.add_subplot(grid[1, 2]), ymax=2.3 * math.log(C))
    return fig


# --------------------------------------------------------------------------------------------------
# notebooks 02 (BALD vs BatchBALD) and 03 (consistent MC dropout)

#: Colour of a pick that repeats an image already in the batch, and of near-duplicates.
REPEAT_COLOUR = "#d62728"
#: The greedy guarantee for monotone submodular functions (Nemhauser et al., 1978).
GREEDY_FRACTION = 1.0 - 1.0 / math.e


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


def plot_batch_picks(
    images_N_H_W: Any,
    batches: Mapping[str, Sequence[int]],
    original_N: Any,
    *,
    scores: Mapping[str, Sequence[float]] | None = None,
    names: Mapping[str, str] | None = None,
) -> Figure:
    """One row per method: the pool images it picked, in order; a pick whose original image was
    already picked earlier in the same batch gets a red frame and "again" in its title.

    ``batches`` maps a method key (``"bald"``, ``"batchbald"``) to pool indices, ``original_N``
    gives each pool image's original; ``scores`` (same keys) are printed under the images.
    """
    original_N = np.asarray(_as_numpy(original_N), dtype=np.int64)
    images = _as_numpy(images_N_H_W)
    width = max(1, max(len(b) for b in batches.values()))
    fig, axes = plt.subplots(
        len(batches), width, figsize=(1.15 * width + 1.4, 1.75 * len(batches)), squeeze=False
    )
    for row, (method, indices) in enumerate(batches.items()):
        seen: set[int] = set()
        repeats = 0
        for col in range(width):
            ax = axes[row, col]
            if col >= len(indices):
                ax.axis("off")
                continue
            original = int(original_N[indices[col]])
            again = original in seen
            repeats += again
            seen.add(original)
            title = f"img {original}" + (" again" if again else "")
            _show_image(ax, images[indices[col]], title, REPEAT_COLOUR if again else None)
            if scores is not None:
                ax.set_xlabel(f"{scores[method][col]:.2f}", fontsize=8)
        name = (names or {}).get(method, method)
        axes[row, 0].set_ylabel(
            f"{name}\n{repeats} repeat{'s' * (repeats != 1)}",
            fontsize=10,
            color=METHOD_COLOURS.get(method, "black"),
            rotation=0,
            ha="right",
            va="center",
            labelpad=8,
        )
    fig.tight_layout()
    return fig


def plot_greedy_vs_exhaustive(comparisons: Sequence[Any], ax: Axes | None = None) -> Axes:
    """Every subset's ``I[y_1..y_b; w]`` (grey), the exhaustive best (star), greedy BatchBALD
    (blue), top-b BALD's batch (red), and the ``(1 - 1/e) · best`` guarantee (dashed), per b.

    ``comparisons`` are :class:`bbal_tutorial.demos.GreedyComparison` objects.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    rng = np.random.default_rng(0)  # jitter only
    for i, c in enumerate(comparisons):
        b = c.batch_size
        scores = _as_numpy(c.subset_scores)
        ax.scatter(
            b + rng.uniform(-0.18, 0.18, len(scores)),
            scores,
            s=8,
            color="0.7",
            label="every subset" if i == 0 else None,
            zorder=1,
        )
        ax.hlines(
            GREEDY_FRACTION * c.best_score,
            b - 0.3,
            b + 0.3,
            color="black",
            linestyle="--",
            linewidth=1,
            label=r"$(1-1/e)\,\cdot$ best" if i == 0 else None,
        )
        ax.scatter(
            b,
            c.best_score,
            marker="*",
            s=220,
            color="black",
            zorder=3,
            label="exhaustive best" if i == 0 else None,
        )
        ax.scatter(
            b + 0.3,
            c.greedy_score,
            marker="o",
            s=50,
            color=METHOD_COLOURS["batchbald"],
            zorder=4,
            label="greedy BatchBALD" if i == 0 else None,
        )
        ax.scatter(
            b - 0.3,
            c.bald_score,
            marker="s",
            s=45,
            color=METHOD_COLOURS["bald"],
            zorder=4,
            label="top-b BALD's batch" if i == 0 else None,
        )
        ax.annotate(
            f"{c.ratio:.1%}",
            (b + 0.3, c.greedy_score),
            textcoords="offset points",
            xytext=(6, -3),
            fontsize=8,
            color=METHOD_COLOURS["batchbald"],
        )
    ax.set_xticks([c.batch_size for c in comparisons])
    ax.set_xlabel("batch size $b$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_b;\boldsymbol{\omega})$ (nats)")
    ax.set_title("greedy against the best of all subsets (blue label: greedy / best)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_estimator_spread(
    num_samples_S: Sequence[int],
    estimates_S_R: Any,
    exact: float,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """Left: sampled estimates of a joint entropy against the number M of sampled configurations,
    with the exact value; right: their standard deviation against M (log-log) and a
    ``c / sqrt(M)`` reference line.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    left, right = axes
    ms = np.asarray(num_samples_S, dtype=np.float64)
    estimates = _as_numpy(estimates_S_R)
    rng = np.random.default_rng(0)
    for m, row in zip(ms, estimates, strict=True):
        jitter = m * np.exp(rng.uniform(-0.12, 0.12, len(row)))
        left.scatter(jitter, row, s=10, color=METHOD_COLOURS["batchbald"], alpha=0.6)
    left.axhline(exact, color="black", linestyle="--", linewidth=1, label=f"exact: {exact:.3f}")
    left.set_xscale("log")
    left.set_xlabel("sampled configurations $M$")
    left.set_ylabel("estimate of $\\mathbb{H}(y_1,\\ldots,y_n)$ (nats)")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    left.set_title(f"{estimates.shape[1]} independent estimates per $M$", fontsize=10)
    std = estimates.std(axis=1)
    right.loglog(ms, std, marker="o", color=METHOD_COLOURS["batchbald"], label="std of estimates")
    scale = float(np.median(std * np.sqrt(ms)))
    right.loglog(
        ms, scale / np.sqrt(ms), color="black", linestyle=":", label=rf"${scale:.2f}/\sqrt{{M}}$"
    )
    right.set_xlabel("sampled configurations $M$")
    right.set_ylabel("standard deviation (nats)")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    right.set_title("the spread shrinks like $1/\\sqrt{M}$", fontsize=10)
    return [left, right]


def plot_cumulative_scores(
    batches_by_k: Mapping[int, Any],
    original_N: Any | None = None,
    ax: Axes | None = None,
) -> Axes:
    """BatchBALD's cumulative score ``I[y_1..y_i; w]`` after each pick, one line per number K of
    posterior samples, with its ceiling ``log K`` dashed; picks that repeat an image already in
    the batch (with ``original_N``) are marked with a red x.

    ``batches_by_k`` maps K to a :class:`~bbal_tutorial.acquisition.CandidateBatch`.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.8, max(1, len(batches_by_k))))
    repeat_label = "repeats an image already picked"
    for colour, (k, batch) in zip(colours, sorted(batches_by_k.items()), strict=True):
        steps = np.arange(1, len(batch.scores) + 1)
        ax.plot(
            steps,
            batch.scores,
            marker=".",
            color=colour,
            label=f"$K = {k}$ (ceiling $\\log K = {math.log(k):.2f}$)",
        )
        ax.axhline(math.log(k), color=colour, linestyle="--", linewidth=1)
        if original_N is not None:
            originals = [int(original_N[i]) for i in batch.indices]
            repeated = [j for j, o in enumerate(originals) if o in originals[:j]]
            ax.scatter(
                steps[repeated],
                np.asarray(batch.scores)[repeated],
                marker="x",
                s=60,
                color=REPEAT_COLOUR,
                zorder=3,
                label=repeat_label,
            )
            repeat_label = None
    ax.set_xlabel("picks so far $i$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_i;\boldsymbol{\omega})$ (nats)")
    ax.grid(alpha=0.3)
    # outside the axes: the curves fill the plot whatever the K values
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_pair_scores(pair_info: Mapping[str, Mapping[str, float]], ax: Axes | None = None) -> Axes:
    """For each named pair: top-b BALD's sum ``I[y_1;w] + I[y_2;w]`` and BatchBALD's joint
    ``I[y_1, y_2; w]`` side by side, in millinats, with the values printed.

    ``pair_info[name]`` holds ``"BALD sum"`` and ``"I[y1,y2;w]"`` (as returned by
    :func:`bbal_tutorial.examples.batch_information`).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    names = list(pair_info)
    x = np.arange(len(names))
    for offset, key, method, label in [
        (
            -0.2,
            "BALD sum",
            "bald",
            r"top-$b$ BALD: $\mathbb{I}(y_1;\boldsymbol{\omega})"
            r" + \mathbb{I}(y_2;\boldsymbol{\omega})$",
        ),
        (0.2, "I[y1,y2;w]", "batchbald", r"BatchBALD: $\mathbb{I}(y_1,y_2;\boldsymbol{\omega})$"),
    ]:
        values = np.array([pair_info[n][key] for n in names]) * 1000
        ax.bar(x + offset, values, width=0.38, color=METHOD_COLOURS[method], label=label)
        for xi, v in zip(x + offset, values, strict=True):
            ax.text(xi, v, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    top = max(max(p["BALD sum"], p["I[y1,y2;w]"]) for p in pair_info.values()) * 1000
    ax.set_ylim(0, 1.4 * top)
    ax.set_xticks(x, names)
    ax.set_ylabel("millinats")
    ax.legend(fontsize=8, loc="upper center")
    return ax


def plot_duplicate_surprise(
    scales: Sequence[float],
    pair_scores: Mapping[str, Mapping[str, Any]],
    *,
    copy_pair: str,
    other_pair: str,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """The duplicate-pick surprise as the samples' disagreement shrinks.

    Left: ``I[copy pair] / I[other pair]`` against the disagreement scale (above 1, BatchBALD
    would rather take the copy). Right: the share of top-b BALD's sum that is double-counted,
    ``I[y_1;y_2] / (I[y_1;w] + I[y_2;w])``, for both pairs. ``pair_scores`` is
    :func:`bbal_tutorial.demos.pair_scores_by_disagreement`'s result.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    left, right = axes
    scales = np.asarray(scales, dtype=np.float64)
    ratio = _as_numpy(pair_scores[copy_pair]["joint"]) / _as_numpy(pair_scores[other_pair]["joint"])
    left.semilogx(scales, ratio, marker="o", color="black")
    left.axhline(1, color="0.5", linewidth=1)
    left.fill_between(
        scales,
        1,
        np.maximum(ratio, 1),
        color=REPEAT_COLOUR,
        alpha=0.2,
        label="BatchBALD prefers the copy",
    )
    left.fill_between(
        scales,
        np.minimum(ratio, 1),
        1,
        color=METHOD_COLOURS["batchbald"],
        alpha=0.2,
        label="BatchBALD prefers the other image",
    )
    left.set_title("which pair BatchBALD scores higher", fontsize=10)
    left.set_xlabel("disagreement scale (1 = the trained model)")
    left.set_ylabel(f"$\\mathbb{{I}}$({copy_pair}) / $\\mathbb{{I}}$({other_pair})")
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")
    for name, colour in [(copy_pair, REPEAT_COLOUR), (other_pair, METHOD_COLOURS["batchbald"])]:
        share = _as_numpy(pair_scores[name]["overlap"]) / _as_numpy(pair_scores[name]["bald sum"])
        right.loglog(scales, np.maximum(share, 1e-12), marker="o", color=colour, label=name)
    right.set_xlabel("disagreement scale (1 = the trained model)")
    right.set_ylabel("double-counted share of the BALD sum")
    right.set_title(
        r"$\mathbb{I}(y_1;y_2)\,/\,[\mathbb{I}(y_1;\boldsymbol{\omega})"
        r" + \mathbb{I}(y_2;\boldsymbol{\omega})]$",
        fontsize=10,
    )
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    return [left, right]


def plot_score_spread(
    scores_by_mode: Mapping[str, Any],
    order_N: Sequence[int],
    *,
    flagged_N: Any | None = None,
    axes: Sequence[Axes] | None = None,
    ylabel: str = "score (nats)",
    legend: bool = True,
) -> list[Axes]:
    """The blog's score-spread figure: the same candidates scored R times, one panel per mask
    mode (e.g. consistent / independent).

    Each repetition is a thin line over the candidates (x, in the order ``order_N``); its
    winner (argmax) is a star. Candidates with ``flagged_N`` (e.g. copies of an image already in
    the batch) have red tick labels and red stars. All panels share the y axis.
    """
    modes = list(scores_by_mode)
    if axes is None:
        _, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 4), sharey=True)
        axes = np.atleast_1d(axes)
    order = list(order_N)
    flagged = (
        np.zeros(max(order) + 1, dtype=bool)
        if flagged_N is None
        else np.asarray(_as_numpy(flagged_N), dtype=bool)
    )
    x = np.arange(len(order))
    for ax, mode in zip(axes, modes, strict=False):
        scores_R_N = _as_numpy(scores_by_mode[mode])[:, order]
        colours = plt.get_cmap("tab20")(np.arange(len(scores_R_N)) % 20)
        for colour, row in zip(colours, scores_R_N, strict=True):
            ax.plot(x, row, color=colour, linewidth=0.8, alpha=0.8)
            best = int(np.argmax(row))
            ax.scatter(
                best,
                row[best],
                marker="*",
                s=90,
                zorder=3,
                color=REPEAT_COLOUR if flagged[order[best]] else "black",
            )
        winners = np.bincount(scores_R_N.argmax(axis=1), minlength=len(order))
        ax.set_title(
            f"{mode}: {int((winners > 0).sum())} different winners in "
            f"{len(scores_R_N)} repetitions",
            fontsize=10,
        )
        ax.set_xticks(x, [str(i) for i in order], fontsize=6, rotation=90)
        for tick, index in zip(ax.get_xticklabels(), order, strict=True):
            if flagged[index]:
                tick.set_color(REPEAT_COLOUR)
        ax.set_xlabel("candidate (pool index), red: a copy of an image already in the batch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    if not legend:
        return list(axes)
    axes[-1].legend(
        handles=[
            plt.Line2D([], [], marker="*", linestyle="", color="black", markersize=10),
            plt.Line2D([], [], marker="*", linestyle="", color=REPEAT_COLOUR, markersize=10),
            plt.Line2D([], [], color="0.5", linewidth=0.8),
        ],
        labels=["winner of a repetition", "winner that copies a chosen image", "one repetition"],
        fontsize=7,
        loc="upper right",
    )
    return list(axes)


def plot_prediction_scatter(
    log_probs_by_mode: Mapping[str, Any],
    label: int,
    *,
    names: tuple[str, str] = ("$x_1$", "$x_2$"),
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """``p(y = label | x_1, w_k)`` against ``p(y = label | x_2, w_k)`` for each of the K samples,
    one panel per mask mode, with their correlation in the title.

    ``log_probs_by_mode[mode]`` has shape (2, K, C).
    """
    from bbal_tutorial.demos import prediction_correlation

    modes = list(log_probs_by_mode)
    if axes is None:
        _, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 4))
        axes = np.atleast_1d(axes)
    for ax, mode in zip(axes, modes, strict=False):
        log_probs_2_K_C = log_probs_by_mode[mode]
        probs_2_K = _as_numpy(log_probs_2_K_C[:, :, label].exp())
        rho = prediction_correlation(log_probs_2_K_C, label)
        ax.scatter(probs_2_K[0], probs_2_K[1], s=14, alpha=0.7, color="black")
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=1, linestyle=":")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_title(f"{mode}: correlation {rho:.2f}", fontsize=10)
        ax.set_xlabel(f"$p(y={label} \\mid$ {names[0]}$, \\boldsymbol{{\\omega}}_k)$")
        ax.set_ylabel(f"$p(y={label} \\mid$ {names[1]}$, \\boldsymbol{{\\omega}}_k)$")
        ax.grid(alpha=0.3)
    return list(axes)


# --------------------------------------------------------------------------------------------------
# notebooks 04-07: cached experiments, live re-runs, acquisition size, stochastic acquisition


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
        batch_sizes.add(group[0]["config"]["batch_size"])
    for b in batch_sizes:
        ax.axhline(b, color="black", linestyle=":", linewidth=0.8)
    ax.set_ylim(0, max(batch_sizes, default=10) + 1)
    ax.set_xlabel("labelled points before the batch was acquired")
    ax.set_ylabel("distinct original images in the batch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_acquisition_size(
    rows: Sequence[Mapping[str, Any]],
    accuracy: float,
    axes: Sequence[Axes] | None = None,
    *,
    methods: Sequence[str] = ("bald", "batchbald"),
) -> list[Axes]:
    """Labels (left) and retraining rounds (right) needed to reach ``accuracy`` against the
    acquisition size b, one line per method through the medians over seeds, every seed a dot.

    ``rows`` come from :func:`bbal_tutorial.experiments.method_summary`; a seed that never
    reached the target is drawn as an open triangle above the axis' top. A row with
    acquisition ``"bald"`` and b = 1 is drawn for every method (at b = 1, BatchBALD is BALD).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    left, right = axes
    b1 = [r for r in rows if r["b"] == 1 and r["acquisition"] == "bald"]
    # a seed that never reached the target sits just above the end of the longest run
    top = {
        "labels": max(r["final labels"] for r in rows),
        "rounds": max(r["rounds run"] for r in rows),
    }
    for ax, key, per_seed in [
        (left, "labels", "labels (per seed)"),
        (right, "rounds", "rounds (per seed)"),
    ]:
        ceiling = 1.08 * top[key]
        for offset, method in zip(np.linspace(-0.06, 0.06, len(methods)), methods, strict=True):
            chosen = sorted(
                [r for r in rows if r["acquisition"] == method and r["b"] != 1] + b1,
                key=lambda r: r["b"],
            )
            if not chosen:
                continue
            colour = METHOD_COLOURS.get(method)
            bs = np.array([r["b"] for r in chosen], dtype=float)
            medians = [r[f"median {key}"] for r in chosen]
            ax.plot(
                bs,
                [np.nan if m is None else m for m in medians],
                marker="o",
                color=colour,
                label=METHOD_NAMES.get(method, method),
            )
            for b, r in zip(bs, chosen, strict=True):
                values = r.get(per_seed) or []
                x = b * np.exp(offset + np.linspace(-0.04, 0.04, max(1, len(values))))
                for xi, v in zip(x, values, strict=False):
                    if v is None:
                        ax.scatter(xi, ceiling, marker="^", facecolor="none", color=colour, s=30)
                    else:
                        ax.scatter(xi, v, color=colour, s=12, alpha=0.6)
        ax.axhline(ceiling, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        bs_all = sorted({r["b"] for r in rows})
        ax.set_xticks(bs_all, [str(b) for b in bs_all])
        ax.minorticks_off()
        ax.set_xlabel("acquisition size b")
        ax.grid(alpha=0.3)
    left.set_ylabel(f"labelled points to reach {accuracy:.0%}")
    right.set_ylabel(f"models trained to reach {accuracy:.0%}")
    left.set_title("labels needed (median line, seeds as dots)", fontsize=10)
    right.set_title("cost: models trained, one per round", fontsize=10)
    left.legend(
        handles=[
            *left.get_legend_handles_labels()[0],
            plt.Line2D([], [], marker="^", linestyle="", markerfacecolor="none", color="0.3"),
        ],
        labels=[*left.get_legend_handles_labels()[1], "a seed that never got there"],
        fontsize="small",
    )
    return list(axes)


def plot_recorded_batch_scores(runs: Sequence[Results], ax: Axes | None = None) -> Axes:
    """BatchBALD's recorded cumulative score ``I(y_1..y_i; w)`` after each pick, one thin line
    per acquired batch of the cached runs (early rounds dark, late rounds light), with the
    ceiling ``log K`` dashed. Reads the records' ``scores`` only."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    batches = [
        (res["config"]["mc_samples"], i, len(res["rounds"]), r["scores"])
        for res in runs
        if res["config"]["acquisition"] == "batchbald"
        for i, r in enumerate(res["rounds"])
        if r["scores"]
    ]
    if not batches:
        raise ValueError("plot_recorded_batch_scores needs cached BatchBALD runs")
    cmap = plt.get_cmap("viridis")
    for _k, i, n, scores in batches:
        steps = np.arange(1, len(scores) + 1)
        ax.plot(steps, scores, color=cmap(0.85 * i / max(1, n - 1)), linewidth=0.8, alpha=0.7)
    for k in sorted({k for k, *_ in batches}):
        ax.axhline(math.log(k), color="black", linestyle="--", linewidth=1)
        ax.text(
            max(len(s) for *_, s in batches),
            math.log(k) - 0.03,
            f"ceiling log K = log {k} = {math.log(k):.2f} nats",
            ha="right",
            va="top",
            fontsize=8,
        )
    ax.set_ylim(bottom=0)
    ax.set_xlabel("picks so far $i$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_i;\boldsymbol{\omega})$ (nats)")
    sizes = sorted(
        {res["config"]["batch_size"] for res in runs if res["config"]["acquisition"] == "batchbald"}
    )
    where = f"b = {sizes[0]}: " if len(sizes) == 1 else ""
    ax.set_title(f"{where}{len(batches)} recorded batches (dark: early, light: late)", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_coldness_sweep(sweep: Mapping[str, Any], axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Stochastic batch acquisition against its coldness β, one line per mode: the share of the
    sampled batch that top-b BALD would also pick (left: 0 at β = 0 is random, 1 is top-b) and
    the picks that repeat an image already in the batch (right).

    ``sweep`` is :func:`bbal_tutorial.demos.coldness_sweep`'s result.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    left, right = axes
    colds = np.asarray(sweep["coldness"], dtype=float)
    colours = {
        "power": METHOD_COLOURS["power-bald"],
        "softmax": METHOD_COLOURS["softmax-bald"],
        "softrank": METHOD_COLOURS["softrank-bald"],
    }
    for mode, stats in sweep["modes"].items():
        for ax, key in [(left, "top_b_share"), (right, "repeats")]:
            ax.plot(colds, stats[key], marker="o", color=colours.get(mode), label=f"{mode}")
    for ax, key, name in [
        (left, "top_b_share", "share of top-b BALD's batch"),
        (right, "repeats", "picks repeating an image in the batch"),
    ]:
        ax.axhline(
            sweep["random"][key], color=METHOD_COLOURS["random"], linestyle=":", label="random"
        )
        ax.axhline(
            sweep["top_b"][key], color=METHOD_COLOURS["bald"], linestyle="--", label="top-b BALD"
        )
        if "batchbald" in sweep:
            ax.axhline(
                sweep["batchbald"][key],
                color=METHOD_COLOURS["batchbald"],
                linestyle="-.",
                label="BatchBALD",
            )
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlim(left=0)  # coldness is never negative
        ax.set_xlabel(r"coldness $\beta$ (0: uniform; large: top-b)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    right.legend(fontsize="small", loc="upper left")
    left.set_title(
        f"b = {sweep['batch_size']}, mean of {sweep['repeats']} draws per β", fontsize=10
    )
    return [left, right]


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


# --------------------------------------------------------------------------------------------------
# notebooks 05 (class diversity) and 07 (limitations)


def plot_label_entropy(runs: Iterable[Results], num_classes: int, ax: Axes | None = None) -> Axes:
    """Entropy of each method's acquired-label distribution against the number of acquired
    labels: the median over seeds with the quartiles shaded, and the maximum ``log C`` (every
    class acquired equally often) dashed.

    Uses :func:`bbal_tutorial.experiments.label_entropy_by_round`; only sizes every seed of a
    method reached are kept.
    """
    from bbal_tutorial.experiments import label_entropy_by_round

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    groups = group_runs(runs)
    if not groups:
        raise ValueError("plot_label_entropy needs at least one results file")
    for label, group in groups.items():
        curves = [dict(zip(*label_entropy_by_round(r, num_classes), strict=True)) for r in group]
        common = sorted(set.intersection(*(set(c) for c in curves)))
        if not common:
            continue
        values_A_S = np.array([[c[n] for c in curves] for n in common])
        colour = METHOD_COLOURS.get(group[0]["config"]["acquisition"])
        seeds = f", {len(group)} seeds" if len(group) > 1 else ""
        ax.plot(
            common, np.median(values_A_S, axis=1), marker=".", color=colour, label=f"{label}{seeds}"
        )
        if len(group) > 1:
            low, high = np.percentile(values_A_S, [25, 75], axis=1)
            ax.fill_between(common, low, high, color=colour, alpha=0.2, linewidth=0)
    ceiling = math.log(num_classes)
    ax.axhline(
        ceiling,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"log C = log {num_classes} = {ceiling:.2f} (uniform)",
    )
    ax.set_xlabel("acquired labels so far")
    ax.set_ylabel("entropy of the acquired labels (nats)")
    ax.set_ylim(0, ceiling * 1.08)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_class_shares(
    pool_shares_C: Any,
    acquired_shares: Mapping[str, Any],
    ax: Axes | None = None,
    *,
    highlight: Sequence[int] = (),
    class_names: Sequence[str] | None = None,
) -> Axes:
    """Per class: its share of the pool (grey) next to its share of each method's acquired
    points (``acquired_shares[method]``, shape (C,)); classes in ``highlight`` (e.g. the rare
    ones) get a shaded background.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    pool = _as_numpy(pool_shares_C)
    C = len(pool)
    bars = [("pool", pool, "0.75")] + [
        (METHOD_NAMES.get(m, m), _as_numpy(s), METHOD_COLOURS.get(m))
        for m, s in acquired_shares.items()
    ]
    width = 0.8 / len(bars)
    for c in highlight:
        ax.axvspan(c - 0.45, c + 0.45, color="#fdd49e", alpha=0.5, linewidth=0)
    for i, (name, shares, colour) in enumerate(bars):
        x = np.arange(C) + (i - (len(bars) - 1) / 2) * width
        ax.bar(
            x,
            shares,
            width=width,
            color=colour,
            label=name,
            edgecolor="black" if name == "pool" else None,
            linewidth=0.5,
        )
    names = list(class_names) if class_names is not None else [str(c) for c in range(C)]
    ax.set_xticks(np.arange(C), names)
    ax.set_xlabel("class" + (" (shaded: rare in the pool)" if len(highlight) else ""))
    ax.set_ylabel("share")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize="small")
    return ax


def plot_information_by_k(ks: Sequence[int], values_S_R: Any, ax: Axes | None = None) -> Axes:
    """BatchBALD's score of one batch for each number K of posterior samples: every draw of the
    K samples as a dot, their mean with a one-standard-deviation bar, and the ceiling ``log K``.

    ``values_S_R`` is :func:`bbal_tutorial.limitations.batch_information_by_k`'s result.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ks_S = np.asarray(ks, dtype=np.float64)
    values = _as_numpy(values_S_R)
    rng = np.random.default_rng(0)  # jitter only
    for k, row in zip(ks_S, values, strict=True):
        jitter = k * np.exp(rng.uniform(-0.08, 0.08, len(row)))
        ax.scatter(jitter, row, s=10, color=METHOD_COLOURS["batchbald"], alpha=0.5)
    ax.errorbar(
        ks_S,
        values.mean(axis=1),
        yerr=values.std(axis=1),
        color="black",
        marker="o",
        capsize=4,
        label=f"mean ± std over {values.shape[1]} draws of the K samples",
    )
    ax.plot(
        ks_S, np.log(ks_S), color="black", linestyle="--", linewidth=1, label="ceiling $\\log K$"
    )
    ax.set_xscale("log")
    ax.set_xticks(ks_S, [str(int(k)) for k in ks_S])
    ax.set_xlabel("posterior samples $K$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_n;\boldsymbol{\omega})$ (nats)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax
