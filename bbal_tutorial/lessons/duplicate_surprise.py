"""Notebook 02, section 5, the duplicate-pick surprise: with almost no information in a batch, the
joint score of two near-duplicates can exceed that of two different points, so BatchBALD may pick
a copy. The example reported on a public implementation, the model's disagreement shrunk step by
step, and the two pairs' scores along the way; their figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from bbal_tutorial.information import (
    batch_mutual_information,
    check_log_probs,
    mutual_information,
    predictive_log_probs,
)
from bbal_tutorial.lessons.duplicates import REPEAT_COLOUR
from bbal_tutorial.plotting import METHOD_COLOURS, REFERENCE_COLOUR, _as_numpy, plot_grouped_bars


def issue_example_log_probs() -> torch.Tensor:
    """The duplicate-pick surprise as reported on a public BatchBALD implementation (K = 2
    samples, C = 4 classes): points 0 and 1 are identical, point 2 differs and has a slightly
    lower BALD score. Greedy BatchBALD with b = 2 picks the two identical points.
    Returns ``log_probs_3_K_C`` (float64).
    """
    probs_3_K_C = torch.tensor(
        [
            [[0.1, 0.2, 0.3, 0.4], [0.15, 0.15, 0.3, 0.4]],
            [[0.1, 0.2, 0.3, 0.4], [0.15, 0.15, 0.3, 0.4]],
            [[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.16, 0.14]],
        ],
        dtype=torch.float64,
    )
    return probs_3_K_C.log()


def shrink_disagreement(log_probs_N_K_C: torch.Tensor, scale: float) -> torch.Tensor:
    """Move every sample's prediction towards the point's predictive distribution::

        p'(y | x, w_k) = p(y | x) + scale · (p(y | x, w_k) - p(y | x)),   0 <= scale <= 1

    ``scale = 1`` leaves the predictions unchanged, ``scale = 0`` makes all samples agree (BALD 0).
    The predictive ``p(y|x)`` stays the same; BALD shrinks roughly like ``scale²`` -- a model that
    has learnt more and disagrees less. Returns float64 log-probabilities.
    """
    if not 0.0 <= scale <= 1.0:
        raise ValueError(f"scale must lie in [0, 1], got {scale}")
    check_log_probs(log_probs_N_K_C)
    probs_N_K_C = log_probs_N_K_C.double().exp()
    predictive_N_1_C = predictive_log_probs(log_probs_N_K_C).exp()[:, None, :]
    mixed_N_K_C = predictive_N_1_C + scale * (probs_N_K_C - predictive_N_1_C)
    mixed_N_K_C = mixed_N_K_C.clamp_min(0)  # rounding only: a convex mixture is >= 0
    return (mixed_N_K_C / mixed_N_K_C.sum(-1, keepdim=True)).log()


def pair_scores_by_disagreement(
    log_probs_N_K_C: torch.Tensor,
    pairs: dict[str, tuple[int, int]],
    scales: Sequence[float],
) -> dict[str, dict[str, torch.Tensor]]:
    """For each named pair (i, j) and each scale of :func:`shrink_disagreement`:

    * ``"joint"``: BatchBALD's ``I[y_i, y_j; w]``;
    * ``"bald sum"``: top-b BALD's ``I[y_i; w] + I[y_j; w]``;
    * ``"overlap"``: their difference ``I[y_i; y_j]``, the information the two labels share
      (what BALD double-counts; >= 0 because the labels are independent given w).

    Returns ``{name: {quantity: tensor of len(scales)}}``, float64.
    """
    result = {name: {"joint": [], "bald sum": []} for name in pairs}
    for scale in scales:
        shrunk_N_K_C = shrink_disagreement(log_probs_N_K_C, scale)
        for name, (i, j) in pairs.items():
            pair_2_K_C = shrunk_N_K_C[[i, j]]
            result[name]["joint"].append(batch_mutual_information(pair_2_K_C))
            result[name]["bald sum"].append(float(mutual_information(pair_2_K_C).sum()))
    out = {}
    for name, values in result.items():
        joint = torch.tensor(values["joint"], dtype=torch.float64)
        bald_sum = torch.tensor(values["bald sum"], dtype=torch.float64)
        out[name] = {"joint": joint, "bald sum": bald_sum, "overlap": bald_sum - joint}
    return out


def plot_pair_scores(pair_info: Mapping[str, Mapping[str, float]], ax: Axes | None = None) -> Axes:
    """For each named pair: top-b BALD's sum ``I[y_1;w] + I[y_2;w]`` and BatchBALD's joint
    ``I[y_1, y_2; w]`` side by side, in millinats, with the values printed.

    ``pair_info[name]`` holds ``"BALD sum"`` and ``"I[y1,y2;w]"`` (as returned by
    :func:`bbal_tutorial.lessons.double_counting.batch_information`).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    names = list(pair_info)
    bars = {
        r"top-$b$ BALD: $\mathbb{I}(y_1;\boldsymbol{\omega})"
        r" + \mathbb{I}(y_2;\boldsymbol{\omega})$": ("BALD sum", "bald"),
        r"BatchBALD: $\mathbb{I}(y_1,y_2;\boldsymbol{\omega})$": ("I[y1,y2;w]", "batchbald"),
    }
    values = {
        label: np.array([pair_info[n][key] for n in names]) * 1000
        for label, (key, _) in bars.items()
    }
    colours = {label: METHOD_COLOURS[method] for label, (_, method) in bars.items()}
    for container in plot_grouped_bars(ax, values, names, colours):
        ax.bar_label(container, fmt="%.2f", fontsize=9)
    top = max(max(p["BALD sum"], p["I[y1,y2;w]"]) for p in pair_info.values()) * 1000
    ax.set_ylim(0, 1.4 * top)
    ax.set_xlabel("pair of points")
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
    :func:`pair_scores_by_disagreement`'s result.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    left, right = axes
    scales = np.asarray(scales, dtype=np.float64)
    ratio = _as_numpy(pair_scores[copy_pair]["joint"]) / _as_numpy(pair_scores[other_pair]["joint"])
    left.semilogx(scales, ratio, marker="o", color="black")
    left.axhline(1, color=REFERENCE_COLOUR, linewidth=1)
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
