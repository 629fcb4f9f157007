"""Notebook 01, section 1, one point: a handful of posterior samples made by hand, the information
diagram of their label y and the model parameters w (BALD is the overlap), and the panel that
moves it; also the course's notation and colours for information diagrams.

Everything builds ``log_probs_K_C`` from a few readable knobs, so that a student can move a slider
and watch the information quantities of :mod:`bbal_tutorial.information` move. K posterior
samples ``w_1..w_K`` are equally likely (the empirical posterior), so ``H[w] = log K``.

The building block is a *peaked* distribution over C classes: probability ``confidence`` on one
favourite class and ``(1 - confidence) / (C - 1)`` on each of the others. ``confidence = 1/C`` is
the uniform distribution (an unsure sample), ``confidence = 1`` a one-hot (a certain sample).

Two points, what top-b BALD double-counts and the three-variable diagram (sections 2 and 3) are in
:mod:`bbal_tutorial.lessons.double_counting`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib_venn import venn2
from matplotlib_venn.layout.venn2 import DefaultLayoutAlgorithm

from bbal_tutorial import information
from bbal_tutorial.plotting import COURSE_PALETTE
from bbal_tutorial.widgets import live_panel, panel_figure

#: Colours of the information diagrams, fixed across the course, from the course's colour-blind
#: palette: labels blue and green, the parameters w orange, what is counted twice (or a negative
#: region) vermillion, the joint ``I[y1,y2;w]`` sky blue.
INFO_COLOURS = {
    "y": COURSE_PALETTE[0],
    "y1": COURSE_PALETTE[0],
    "y2": COURSE_PALETTE[2],
    "w": COURSE_PALETTE[1],
    "double": COURSE_PALETTE[3],
    "negative": COURSE_PALETTE[3],
    "joint": COURSE_PALETTE[9],
}
#: Size (inches) of :func:`plot_bald_example`'s figure.
BALD_EXAMPLE_FIGSIZE = (12.0, 4.4)


_MATH_NAMES = {"y": "y", "y1": "y_1", "y2": "y_2", "w": r"\boldsymbol{\omega}"}


_EXPECTED_H = r"$\mathbb{E}_{\boldsymbol{\omega}}\mathbb{H}(y|\boldsymbol{\omega})$"


def info_math(key: str) -> str:
    """A region key as mathtext: ``I[y1;w|y2]`` -> ``$\\mathbb{I}(y_1;\\boldsymbol{\\omega}|y_2)$``.

    The notation of the BatchBALD blog post: blackboard H and I, a bold omega for the model
    parameters, round brackets.
    """
    text = re.sub(r"\b(y1|y2|y|w)\b", lambda m: _MATH_NAMES[m.group(1)], key)
    text = text.replace("H[", r"\mathbb{H}(").replace("I[", r"\mathbb{I}(").replace("]", ")")
    return f"${text}$"


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
    # each sample's H[y|w_k] (K "points" of one sample each), then H[y] of the mean
    entropy_K = information.entropy(log_probs_K_C.detach()[:, None, :]).tolist()
    entropy = float(information.entropy(log_probs_K_C.detach()[None])[0])
    rows = [
        (rf"$\boldsymbol{{\omega}}_{{{k + 1}}}$", probs_K_C[k], entropy_K[k], INFO_COLOURS["w"])
        for k in range(K)
    ]
    rows.append((r"mean: $\mathrm{p}(y)$", mean_C, entropy, INFO_COLOURS["y"]))
    for ax, (name, probs_C, entropy_of_bars, colour) in zip(axes, rows, strict=False):
        ax.bar(np.arange(C), probs_C, color=colour, width=0.7)
        # abs: a certain sample's entropy is -0.0 after rounding
        ax.set_title(f"{name}\nH = {abs(entropy_of_bars):.2f}", fontsize=9)
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
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    K, C = log_probs_K_C.shape
    r = information.two_variable_regions(log_probs_K_C)
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


def plot_bald_example(log_probs_K_C: torch.Tensor, fig: Figure | None = None) -> Figure:
    """:func:`plot_sample_predictions` (left) next to :func:`plot_bald_venn` (right).

    ``fig`` is an empty figure to draw on (a panel's :func:`~bbal_tutorial.widgets.panel_figure`,
    of :data:`BALD_EXAMPLE_FIGSIZE` with the constrained layout); by default a new pyplot figure.
    """
    K = log_probs_K_C.shape[0]
    if fig is None:
        fig = plt.figure(figsize=BALD_EXAMPLE_FIGSIZE, layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
    cols = min(K + 1, 5)
    rows = math.ceil((K + 1) / cols)
    axes = left.subplots(rows, cols, sharey=True, squeeze=False)
    plot_sample_predictions(log_probs_K_C, axes.ravel())
    left.suptitle(f"what each of the K = {K} samples predicts for one point x", fontsize=10)
    plot_bald_venn(log_probs_K_C, right.subplots())
    return fig


def bald_venn_panel(
    *,
    disagreement: float = 0.5,
    confidence: float = 0.9,
    num_samples: int = 4,
    num_classes: int = 3,
) -> widgets.Box:
    """K samples' predictions for one point next to the diagram of ``H[y]``, ``H[w]`` and BALD.

    Sliders set :func:`sample_predictions_log_probs`'s ``disagreement``,
    ``confidence`` (each sample's probability for its favourite class), K and C; the figure is
    :func:`plot_bald_example`. ``panel.controls`` holds the sliders.
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

    def draw(disagreement: float, confidence: float, num_samples: int, num_classes: int) -> Figure:
        log_probs_K_C = sample_predictions_log_probs(
            num_samples, num_classes, disagreement=disagreement, confidence=confidence
        )
        # not pyplot's (see bbal_tutorial.widgets)
        fig = panel_figure(figsize=BALD_EXAMPLE_FIGSIZE, layout="constrained")
        return plot_bald_example(log_probs_K_C, fig)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel
