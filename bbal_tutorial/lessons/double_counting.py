"""Notebook 01, sections 2 and 3, two points: top-b BALD's sum ``I[y1;w] + I[y2;w]`` against
BatchBALD's ``I[y1,y2;w]`` (:func:`batch_information`), the pair of points whose overlap a slider
sets (:func:`two_points_log_probs`), the three-variable information diagram and a joint whose
centre is negative (:func:`parity_joint`); their figures and the two-point panel.

Notation and colours come from :mod:`bbal_tutorial.lessons.diagrams`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib_venn import venn3
from matplotlib_venn.layout.venn3 import DefaultLayoutAlgorithm

from bbal_tutorial import information
from bbal_tutorial.lessons.diagrams import INFO_COLOURS, info_math, peaked_probs
from bbal_tutorial.plotting import COURSE_PALETTE
from bbal_tutorial.widgets import live_panel, panel_figure

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
#: Size (inches) of :func:`plot_two_point_venns`'s figure.
TWO_POINT_FIGSIZE = (13.0, 6.2)


def _region_keys(names: Sequence[str]) -> dict[str, str]:
    a, b, z = names
    return {rid: template.format(a=a, b=b, z=z) for rid, template in _VENN3_REGIONS.items()}


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
    return probs_2_K_C.log()  # log 0 = -inf is a valid log-probability (0 · log 0 = 0)


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
    batchbald = information.batch_mutual_information(log_probs_2_K_C)
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
            patch.set_facecolor(
                {0: "0.92", 1: INFO_COLOURS["joint"]}.get(count, INFO_COLOURS["double"])
            )
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

    Cells are coloured by that class (the course palette) and shaded by its probability, so two
    rows that split the samples the same way look alike.
    """
    probs_2_K_C = log_probs_2_K_C.detach().double().exp().cpu().numpy()
    _, K, C = probs_2_K_C.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * K + 1, 1.6))
    label_2_K = probs_2_K_C.argmax(axis=2)
    top_2_K = probs_2_K_C.max(axis=2)
    colours = [to_rgba(c) for c in COURSE_PALETTE]
    image = np.ones((2, K, 4))
    for i in range(2):
        for k in range(K):
            image[i, k] = colours[label_2_K[i, k] % len(colours)]
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
    ax.grid(False)  # no grid lines across the cells (the course style has a grid)
    ax.set_title("most likely label (and its probability) under each posterior sample", fontsize=9)
    return ax


def plot_double_counting_bars(
    info: Mapping[str, float], ax: Axes | None = None, *, ymax: float | None = None
) -> Axes:
    """Top-b BALD's ``I[y1;w] + I[y2;w]`` (stacked) against BatchBALD's ``I[y1,y2;w]``, to scale.

    The top of BALD's stack, of height ``BALD sum - I[y1,y2;w]`` (the double-counted centre),
    is hatched. ``info`` is :func:`batch_information`'s dictionary.
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
    ax.bar(1, joint, color=INFO_COLOURS["joint"], width=0.6, label=info_math("I[y1,y2;w]"))
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
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    ax.set_title(
        f"double-counted: {double:.2f} nats",
        fontsize=10,
        color=INFO_COLOURS["double"] if double > 5e-3 else "black",
    )
    return ax


def plot_two_point_venns(log_probs_2_K_C: torch.Tensor, fig: Figure | None = None) -> Figure:
    """Top-b BALD against BatchBALD for two points: the samples' predictions, both diagrams, bars.

    Left diagram: ``I[y1;w] + I[y2;w]`` shades y1's and y2's overlaps with w, so the centre
    ``I[y1;y2;w]`` is counted twice; right diagram: ``I[y1,y2;w]`` shades the union's overlap with
    w once. The diagrams are schematic (equal regions, values in the labels); the bars are to
    scale.

    ``fig`` is an empty figure to draw on (a panel's :func:`~bbal_tutorial.widgets.panel_figure`,
    of :data:`TWO_POINT_FIGSIZE` with the constrained layout); by default a new pyplot figure.
    """

    C = log_probs_2_K_C.shape[2]
    regions = information.three_variable_regions(log_probs_2_K_C)
    info = batch_information(log_probs_2_K_C)
    if fig is None:
        fig = plt.figure(figsize=TWO_POINT_FIGSIZE, layout="constrained")
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


def two_point_panel(
    *, shift: int = 0, confidence: float = 1.0, num_samples: int = 8
) -> widgets.Box:
    """Top-b BALD's ``I[y1;w] + I[y2;w]`` against BatchBALD's ``I[y1,y2;w]`` for two points.

    The ``shift`` slider rotates point x2's split of the K samples against x1's
    (:func:`two_points_log_probs`): 0 makes x2 a copy of x1, K/4 makes
    them independent, K/2 gives x2 the opposite labels. The figure is
    :func:`plot_two_point_venns`. ``panel.controls`` holds the sliders.
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

    def draw(shift: int, confidence: float) -> Figure:
        log_probs_2_K_C = two_points_log_probs(
            shift, num_samples=num_samples, confidence=confidence
        )
        # not pyplot's (see bbal_tutorial.widgets)
        fig = panel_figure(figsize=TWO_POINT_FIGSIZE, layout="constrained")
        return plot_two_point_venns(log_probs_2_K_C, fig)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel
