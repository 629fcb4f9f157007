"""Notebook 01, information diagrams: a handful of posterior samples by hand, their information
quantities, Venn diagrams and the panels that move them.

Everything builds ``log_probs_K_C`` (one point) or ``log_probs_2_K_C`` (two points) from a few
readable knobs, so that a student can move a slider and watch the information quantities of
:mod:`bbal_tutorial.information` move. K posterior samples ``w_1..w_K`` are equally likely (the
empirical posterior), so ``H[w] = log K``.

The building block is a *peaked* distribution over C classes: probability ``confidence`` on one
favourite class and ``(1 - confidence) / (C - 1)`` on each of the others. ``confidence = 1/C`` is
the uniform distribution (an unsure sample), ``confidence = 1`` a one-hot (a certain sample).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial import information
from bbal_tutorial.information import three_variable_regions, two_variable_regions
from bbal_tutorial.widgets import live_panel

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


def bald_venn_panel(
    *,
    disagreement: float = 0.5,
    confidence: float = 0.9,
    num_samples: int = 4,
    num_classes: int = 3,
) -> widgets.Box:
    """K samples' predictions for one point next to the diagram of ``H[y]``, ``H[w]`` and BALD.

    Sliders set :func:`bbal_tutorial.examples.sample_predictions_log_probs`'s ``disagreement``,
    ``confidence`` (each sample's probability for its favourite class), K and C; the figure is
    :func:`bbal_tutorial.plots.plot_bald_example`. ``panel.controls`` holds the sliders.
    """

    style = {"description_width": "110px"}
    controls = {
        "disagreement": widgets.FloatSlider(
            value=disagreement,
            min=0.0,
            max=1.0,
            step=0.05,
            description="disagreement",
            continuous_update=False,
            style=style,
        ),
        "confidence": widgets.FloatSlider(
            value=confidence,
            min=0.2,
            max=1.0,
            step=0.01,
            description="p(favourite)",
            continuous_update=False,
            style=style,
        ),
        "num_samples": widgets.IntSlider(
            value=num_samples,
            min=2,
            max=8,
            description="K samples",
            continuous_update=False,
            style=style,
        ),
        "num_classes": widgets.IntSlider(
            value=num_classes,
            min=2,
            max=5,
            description="C classes",
            continuous_update=False,
            style=style,
        ),
    }

    def draw(disagreement: float, confidence: float, num_samples: int, num_classes: int):
        log_probs_K_C = sample_predictions_log_probs(
            num_samples, num_classes, disagreement=disagreement, confidence=confidence
        )
        return plot_bald_example(log_probs_K_C)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


def two_point_panel(
    *, shift: int = 0, confidence: float = 1.0, num_samples: int = 8
) -> widgets.Box:
    """Top-b BALD's ``I[y1;w] + I[y2;w]`` against BatchBALD's ``I[y1,y2;w]`` for two points.

    The ``shift`` slider rotates point x2's split of the K samples against x1's
    (:func:`bbal_tutorial.examples.two_points_log_probs`): 0 makes x2 a copy of x1, K/4 makes
    them independent, K/2 gives x2 the opposite labels. The figure is
    :func:`bbal_tutorial.plots.plot_two_point_venns`. ``panel.controls`` holds the sliders.
    """

    style = {"description_width": "110px"}
    controls = {
        "shift": widgets.IntSlider(
            value=shift,
            min=0,
            max=num_samples // 2,
            description="shift x2's split",
            continuous_update=False,
            style=style,
        ),
        "confidence": widgets.FloatSlider(
            value=confidence,
            min=0.5,
            max=1.0,
            step=0.01,
            description="p(favourite)",
            continuous_update=False,
            style=style,
        ),
    }

    def draw(shift: int, confidence: float):
        log_probs_2_K_C = two_points_log_probs(
            shift, num_samples=num_samples, confidence=confidence
        )
        return plot_two_point_venns(log_probs_2_K_C)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


__all__ = [
    "peaked_probs",
    "sample_predictions_log_probs",
    "two_points_log_probs",
    "batch_information",
    "parity_joint",
]


def _as_per_sample(value: float | Sequence[float], num_samples: int, name: str) -> torch.Tensor:
    """A float or K floats as a float64 tensor of shape (K,), each checked to lie in [0, 1]."""
    values_K = torch.as_tensor(value, dtype=torch.float64).flatten()
    if values_K.numel() == 1:
        values_K = values_K.expand(num_samples)
    if values_K.numel() != num_samples:
        raise ValueError(f"{name} needs 1 or K = {num_samples} values, got {values_K.numel()}")
    if not bool(((values_K >= 0) & (values_K <= 1)).all()):
        raise ValueError(f"{name} must lie in [0, 1], got {values_K.tolist()}")
    return values_K.clone()


def peaked_probs(
    favourite_K: Sequence[int] | torch.Tensor,
    confidence: float | Sequence[float],
    num_classes: int,
) -> torch.Tensor:
    """``q_k(c) = confidence_k`` if ``c = favourite_k`` else ``(1 - confidence_k) / (C - 1)``.

    Shape (K, C), float64; each row sums to 1. With ``C = 1`` the only class gets probability 1.
    """
    favourite_K = torch.as_tensor(favourite_K, dtype=torch.long).flatten()
    K, C = favourite_K.numel(), num_classes
    if C < 1:
        raise ValueError(f"num_classes must be at least 1, got {C}")
    if not bool(((favourite_K >= 0) & (favourite_K < C)).all()):
        raise ValueError(f"favourite classes must lie in 0..{C - 1}, got {favourite_K.tolist()}")
    confidence_K = _as_per_sample(confidence, K, "confidence")
    if C == 1:
        return torch.ones((K, 1), dtype=torch.float64)
    probs_K_C = ((1 - confidence_K) / (C - 1))[:, None].repeat(1, C)
    probs_K_C[torch.arange(K), favourite_K] = confidence_K
    return probs_K_C


def _log(probs: torch.Tensor) -> torch.Tensor:
    # log 0 = -inf is a valid log-probability (information handles 0 · log 0 = 0).
    return probs.clamp(min=0).log()


def sample_predictions_log_probs(
    num_samples: int = 4,
    num_classes: int = 3,
    *,
    disagreement: float = 0.5,
    confidence: float | Sequence[float] = 0.9,
    favourites: Sequence[int] | None = None,
) -> torch.Tensor:
    """K samples' predictions for one point: ``log p(y | x, w_k)``, shape (K, C), float64.

    Each sample mixes a shared opinion with its own::

        p(y | w_k) = (1 - disagreement) · q_k(class 0) + disagreement · q_k(favourite_k)

    where ``q_k(j)`` is the peaked distribution with sample k's ``confidence`` on class j
    (:func:`peaked_probs`) and ``favourite_k = k mod C`` unless ``favourites`` is given.
    ``disagreement = 0``: every sample predicts the same ``q(class 0)``, so BALD ``I[y;w] = 0``
    whatever the confidence; ``disagreement = 1`` and ``confidence = 1``: each sample is certain of
    its own favourite, so ``E_w H[y|w] = 0`` and BALD equals ``H[y]``.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if not 0 <= disagreement <= 1:
        raise ValueError(f"disagreement must lie in [0, 1], got {disagreement}")
    K, C = num_samples, num_classes
    favourite_K = torch.arange(K) % max(C, 1) if favourites is None else favourites
    shared_K_C = peaked_probs([0] * K, confidence, C)
    own_K_C = peaked_probs(favourite_K, confidence, C)
    return _log((1 - disagreement) * shared_K_C + disagreement * own_K_C)


def two_points_log_probs(
    shift: int, *, num_samples: int = 8, confidence: float = 1.0
) -> torch.Tensor:
    """Two points whose labels split the K samples in two halves, one split rotated by ``shift``.

    Picture the K samples on a circle. Point x1's favourite class (binary, C = 2) is 1 for
    ``w_k`` with ``k < K/2`` and 0 for the rest; point x2 uses the same split rotated by ``shift``
    samples, ``favourite_2(k) = favourite_1((k - shift) mod K)``; every sample puts ``confidence``
    on its favourite. Each point alone has the same BALD score whatever the shift (its split
    still halves the samples); what changes is how much their labels overlap:

    * ``shift = 0``: x2 is a copy of x1. With certain samples (``confidence = 1``) its label adds
      nothing, ``I[y1,y2;w] = I[y1;w]``; with noisy ones a second label of the same point (drawn
      independently given w) still adds a little, but far less than BALD's sum claims;
    * ``shift = K/4`` (K divisible by 4): the two splits are independent, ``I[y1;y2] = 0``
      and ``I[y1,y2;w] = I[y1;w] + I[y2;w]``;
    * ``shift = K/2``: x2's favourite is always the *other* class, as redundant as a copy.

    Returns ``log_probs_2_K_C`` (float64), K = ``num_samples`` (even), C = 2.
    """
    K = num_samples
    if K < 2 or K % 2:
        raise ValueError(f"num_samples must be even and at least 2, got {K}")
    if not 0 <= shift <= K:
        raise ValueError(f"shift must lie in 0..{K}, got {shift}")
    k = torch.arange(K)
    favourite_1_K = (k < K // 2).long()
    favourite_2_K = favourite_1_K[(k - shift) % K]
    probs_2_K_C = torch.stack(
        [peaked_probs(favourite_1_K, confidence, 2), peaked_probs(favourite_2_K, confidence, 2)]
    )
    return _log(probs_2_K_C)


def batch_information(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """BALD's sum against BatchBALD for two points, in nats.

    * ``"I[y1;w]"``, ``"I[y2;w]"``: the individual BALD scores;
    * ``"BALD sum"`` ``= I[y1;w] + I[y2;w]`` (what top-b BALD maximises);
    * ``"I[y1,y2;w]"`` ``= H[y1,y2] - E_w H[y1|w] - E_w H[y2|w]`` (BatchBALD; the conditional
      entropies add because the labels are independent given w);
    * ``"double-counted"`` ``= BALD sum - I[y1,y2;w]``, the centre ``I[y1;y2;w]`` of the
      three-variable diagram, counted twice by the sum (here equal to ``I[y1;y2] >= 0``).
    """
    information.check_log_probs(log_probs_2_K_C)
    if log_probs_2_K_C.shape[0] != 2:
        raise ValueError(f"need exactly 2 points, got {log_probs_2_K_C.shape[0]}")
    bald_2 = information.mutual_information(log_probs_2_K_C)
    joint = information.joint_entropy_exact(log_probs_2_K_C)
    batchbald = float(joint - information.conditional_entropy(log_probs_2_K_C).sum())
    bald_sum = float(bald_2.sum())
    return {
        "I[y1;w]": float(bald_2[0]),
        "I[y2;w]": float(bald_2[1]),
        "BALD sum": bald_sum,
        "I[y1,y2;w]": batchbald,
        "double-counted": bald_sum - batchbald,
    }


def parity_joint() -> torch.Tensor:
    """A joint ``p(y1, y2, w)`` whose information diagram has a negative centre (``-log 2``).

    ``y1`` and ``w`` are independent fair bits and ``y2 = y1 XOR w``: each label alone says
    nothing about w (``I[y1;w] = I[y2;w] = 0``) but the pair reveals it (``I[y1,y2;w] = log 2``),
    so the centre ``I[y1;y2;w] = I[y1;w] - I[y1;w|y2] = -log 2``. This needs labels that are
    *not* independent given w; a Bayesian classifier's labels are, which keeps its centre
    ``>= 0``. Shape (2, 2, 2) indexed ``[y1, y2, w]``, float64.
    """
    probs_Y1_Y2_W = torch.zeros((2, 2, 2), dtype=torch.float64)
    for y1 in range(2):
        for w in range(2):
            probs_Y1_Y2_W[y1, y1 ^ w, w] = 0.25
    return probs_Y1_Y2_W
