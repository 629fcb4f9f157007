"""Notebook 03, consistent MC dropout: the same candidates scored many times with consistent,
redrawn or independent MC-dropout masks, how their scores spread, and how a digit's predictions
correlate with its copy's; their figures and the score-spread panel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.information import check_log_probs, mutual_information, predictive_log_probs
from bbal_tutorial.lessons.duplicates import REPEAT_COLOUR, batchbald_scores_given
from bbal_tutorial.models import BayesianModule, predict_log_probs
from bbal_tutorial.plotting import REFERENCE_COLOUR, _as_numpy, plural
from bbal_tutorial.widgets import live_panel, panel_figure

#: Font size (pt) of the candidate labels under the score-spread figure.
CANDIDATE_LABEL_SIZE = 9


def label_candidates(
    ax: Axes,
    order_N: Sequence[int],
    flagged: Any,
    *,
    priority: Sequence[int] = (),
    fontsize: float = CANDIDATE_LABEL_SIZE,
) -> list[int]:
    """Label the candidates at x = 0..n-1 with their pool indices ``order_N``, as many as fit
    side by side at ``fontsize`` without overlapping: flagged candidates first (their labels and
    a light band behind them in :data:`~bbal_tutorial.lessons.duplicates.REPEAT_COLOUR`), then
    the positions in ``priority`` (e.g. the winners), then every m-th of the others. Every
    candidate keeps its tick (and grid line); the others' labels are left blank. Returns the
    positions that got a label.
    """
    order = list(order_N)
    n = len(order)
    ax.set_xlim(-0.5, n - 0.5)
    # room per candidate, and the width of the longest label, in points
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    label_pt = (0.62 * max((len(str(i)) for i in order), default=1) + 0.9) * fontsize
    gap = max(1, math.ceil(label_pt / (width_pt / max(n, 1))))
    is_flagged = [bool(flagged[index]) for index in order]
    shown: list[int] = []
    for position in [p for p in range(n) if is_flagged[p]] + list(priority) + list(range(n)):
        if all(abs(position - other) >= gap for other in shown):
            shown.append(position)
    ax.set_xticks(np.arange(n), [str(index) if p in shown else "" for p, index in enumerate(order)])
    ax.tick_params(axis="x", labelsize=fontsize, labelrotation=0)
    for position, tick in enumerate(ax.get_xticklabels()):
        if is_flagged[position]:
            tick.set_color(REPEAT_COLOUR)
            ax.axvspan(position - 0.5, position + 0.5, color=REPEAT_COLOUR, alpha=0.1, lw=0)
    return sorted(shown)


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
    the batch) have red tick labels, a light red band and red stars. The candidates are labelled
    with their pool indices as far as the labels fit at a readable size, flagged ones and
    winners first (:func:`label_candidates`). All panels share the y axis.
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
        # one shade per repetition, blue to green: no red, so the red stars stand out
        colours = sns.color_palette("crest", n_colors=len(scores_R_N))
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
        most_wins_first = [int(p) for p in np.argsort(-winners, kind="stable") if winners[p]]
        ax.set_title(
            f"{mode}: {plural(int((winners > 0).sum()), 'different winner')} in "
            f"{plural(len(scores_R_N), 'repetition')}",
            fontsize=10,
        )
        label_candidates(ax, order, flagged, priority=most_wins_first)
        ax.set_xlabel("candidate (pool index); red: copy of a chosen image")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    if not legend:
        return list(axes)
    axes[-1].legend(
        handles=[
            plt.Line2D([], [], marker="*", linestyle="", color="black", markersize=10),
            plt.Line2D([], [], marker="*", linestyle="", color=REPEAT_COLOUR, markersize=10),
            plt.Line2D([], [], color=sns.color_palette("crest", n_colors=3)[1], linewidth=0.8),
        ],
        labels=["winner of a repetition", "winner that copies a chosen image", "one repetition"],
        fontsize=8,
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

    modes = list(log_probs_by_mode)
    if axes is None:
        _, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 4))
        axes = np.atleast_1d(axes)
    for ax, mode in zip(axes, modes, strict=False):
        log_probs_2_K_C = log_probs_by_mode[mode]
        probs_2_K = _as_numpy(log_probs_2_K_C[:, :, label].exp())
        rho = prediction_correlation(log_probs_2_K_C, label)
        ax.scatter(probs_2_K[0], probs_2_K[1], s=14, alpha=0.7, color="black")
        ax.plot([0, 1], [0, 1], color=REFERENCE_COLOUR, linewidth=1, linestyle=":")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_title(f"{mode}: correlation {rho:.2f}", fontsize=10)
        ax.set_xlabel(f"$p(y={label} \\mid$ {names[0]}$, \\boldsymbol{{\\omega}}_k)$")
        ax.set_ylabel(f"$p(y={label} \\mid$ {names[1]}$, \\boldsymbol{{\\omega}}_k)$")
        ax.grid(alpha=0.3)
    return list(axes)


def score_spread_panel(
    log_probs_by_mode: dict[str, Any],
    chosen: list[int],
    candidates: list[int],
    flagged_N: Any,
    *,
    k: int | None = None,
) -> widgets.Box:
    """The score-spread figure for the first K of the precomputed posterior samples (a slider).

    ``log_probs_by_mode[mode]`` has shape (R, N, K_max, C) (from
    :func:`repeated_log_probs`); ``chosen`` is the batch so far, ``candidates``
    the points to score and ``flagged_N`` marks copies of chosen images. Only scores are
    recomputed when K moves: the forward passes were done once.
    """
    k_max = min(lp.shape[2] for lp in log_probs_by_mode.values())
    controls = {
        "k": widgets.IntSlider(
            value=k_max if k is None else k,
            min=2,
            max=k_max,
            description="K samples",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }
    candidates = list(candidates)

    def draw(k: int) -> Figure:
        scores = {
            mode: repeated_candidate_scores(lp[:, :, :k], chosen)
            for mode, lp in log_probs_by_mode.items()
        }
        first = next(iter(scores))
        order = sorted(candidates, key=lambda i: -float(scores[first]["batchbald"][:, i].mean()))
        fig = panel_figure(figsize=(6 * len(scores), 7.2))
        axes = fig.subplots(2, len(scores), sharey="row", squeeze=False)
        for row, (quantity, label) in enumerate(
            [("bald", "BALD  I(y_x; w)"), ("batchbald", "BatchBALD  I(y_S, y_x; w)")]
        ):
            plot_score_spread(
                {mode: s[quantity] for mode, s in scores.items()},
                order,
                flagged_N=flagged_N,
                axes=axes[row],
                ylabel=f"{label}, K = {k}",
                legend=row == 1,
            )
        fig.tight_layout()
        rows = [
            (mode, quantity, summary)
            for (mode, quantity), summary in spread_summaries(scores, candidates, flagged_N).items()
        ]
        print(
            f"{'masks':<28}{'score':<11}{'spread':>8}{'relative':>10}{'between':>9}"
            f"{'same winner':>13}{'winner is a copy':>18}"
        )
        for mode, quantity, s in rows:
            print(
                f"{mode:<28}{quantity:<11}{s['spread']:>8.3f}{s['relative spread']:>10.3f}"
                f"{s['differences']:>9.3f}{s['top pick agreement']:>13.0%}"
                f"{s['flagged top picks']:>18.0%}"
            )
        return fig

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


#: How :func:`repeated_log_probs` draws the MC-dropout masks of each repetition.
MASK_MODES = ("fixed", "redrawn", "independent")


def repeated_log_probs(
    model: BayesianModule,
    x_N_: torch.Tensor,
    k: int,
    repeats: int,
    *,
    masks: str = "redrawn",
    points_per_batch: int = 1,
    seed: int = 0,
) -> torch.Tensor:
    """Predict the same N points ``repeats`` times with K MC-dropout samples each:
    ``log_probs_R_N_K_C`` (float32).

    ``masks`` says which networks each repetition uses:

    * ``"fixed"``: consistent masks drawn once and kept -- every repetition is bit-identical;
    * ``"redrawn"``: consistent masks redrawn before each repetition -- each repetition is one
      coherent set of K networks shared by all N points (the blog's "different sets of sampled
      model parameters");
    * ``"independent"``: no consistency, fresh masks for every forward batch of
      ``points_per_batch`` points -- points in different batches see unrelated networks.

    Randomness is seeded by ``seed`` inside :func:`torch.random.fork_rng`, so the caller's global
    RNG is untouched. The model's consistency setting is restored afterwards (which also forgets
    its masks).
    """
    if masks not in MASK_MODES:
        raise ValueError(f"masks must be one of {MASK_MODES}, got {masks!r}")
    if repeats < 1 or k < 1 or points_per_batch < 1:
        raise ValueError("repeats, k and points_per_batch must all be at least 1")
    was_consistent = all(layer.consistent for layer in model.mc_dropout_layers())
    runs = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.set_consistent(masks != "independent")  # also forgets the old masks
        for _ in range(repeats):
            if masks == "redrawn":
                model.redraw_masks()
            chunk_size = points_per_batch if masks == "independent" else None
            runs.append(predict_log_probs(model, x_N_, k, chunk_size=chunk_size, progress=False))
    model.set_consistent(was_consistent)
    return torch.stack(runs)


def repeated_candidate_scores(
    log_probs_R_N_K_C: torch.Tensor, chosen: Sequence[int]
) -> dict[str, torch.Tensor]:
    """Per repetition, BALD ``I[y_x; w]`` and BatchBALD ``I[y_S, y_x; w]`` of every point:
    ``{"bald": scores_R_N, "batchbald": scores_R_N}`` (float64; see
    :func:`~bbal_tutorial.lessons.duplicates.batchbald_scores_given`).
    """
    bald = [mutual_information(lp_N_K_C) for lp_N_K_C in log_probs_R_N_K_C]
    batchbald = [batchbald_scores_given(lp_N_K_C, chosen) for lp_N_K_C in log_probs_R_N_K_C]
    return {"bald": torch.stack(bald), "batchbald": torch.stack(batchbald)}


def spread_summary(
    scores_R_N: torch.Tensor,
    *,
    groups_N: torch.Tensor | None = None,
    flagged_N: torch.Tensor | None = None,
) -> dict[str, float]:
    """How much repeated scores of the same N candidates move, against how much they differ.

    * ``"spread"``: ``mean_n std_r score[r, n]`` -- one candidate's score across repetitions;
    * ``"relative spread"``: the same after subtracting each repetition's mean over candidates
      -- only this part can change which candidate wins (a shift shared by all candidates, a
      "band" of the blog's figure, cannot);
    * ``"differences"``: ``std_n mean_r score[r, n]`` -- how far apart the candidates are;
    * ``"top pick agreement"``: the fraction of repetitions whose winner (argmax) is the most
      common winner; with ``groups_N`` winners are compared by group (e.g. original image, so
      that two copies of one image count as the same pick);
    * ``"distinct top picks"``: how many different winners (groups) the repetitions have;
    * ``"flagged top picks"`` (with a boolean ``flagged_N``): the fraction of repetitions whose
      winner is flagged (e.g. a copy of an image already in the batch).
    """
    scores_R_N = scores_R_N.double()
    R, N = scores_R_N.shape
    relative_R_N = scores_R_N - scores_R_N.mean(dim=1, keepdim=True)
    winners_R = scores_R_N.argmax(dim=1)
    groups_N = torch.arange(N) if groups_N is None else torch.as_tensor(groups_N).long()
    counts_G = torch.bincount(groups_N[winners_R])
    summary = {
        "spread": float(0.0 if R == 1 else _std_r(scores_R_N).mean()),
        "relative spread": float(0.0 if R == 1 else _std_r(relative_R_N).mean()),
        "differences": float(scores_R_N.mean(dim=0).std(unbiased=False)),
        "top pick agreement": float(counts_G.max()) / R,
        "distinct top picks": int((counts_G > 0).sum()),
    }
    if flagged_N is not None:
        flagged_N = torch.as_tensor(flagged_N, dtype=torch.bool)
        summary["flagged top picks"] = float(flagged_N[winners_R].double().mean())
    return summary


def spread_summaries(
    scores_by_mode: Mapping[str, Mapping[str, torch.Tensor]],
    candidates: Sequence[int],
    flagged_N: torch.Tensor,
) -> dict[tuple[str, str], dict[str, float]]:
    """:func:`spread_summary` of the ``candidates`` for every mode and score of
    :func:`repeated_candidate_scores`' results (``scores_by_mode[mode]``), keyed by
    ``(mode, "bald" | "batchbald")``: the table of the score-spread panel."""
    candidates = list(candidates)
    flagged_N = torch.as_tensor(flagged_N, dtype=torch.bool)
    return {
        (mode, quantity): spread_summary(
            scores[quantity][:, candidates], flagged_N=flagged_N[candidates]
        )
        for mode, scores in scores_by_mode.items()
        for quantity in ("bald", "batchbald")
    }


def _std_r(values_R_N: torch.Tensor) -> torch.Tensor:
    """Population standard deviation over repetitions (dim 0)."""
    return values_R_N.std(dim=0, unbiased=False)


def prediction_correlation(log_probs_2_K_C: torch.Tensor, label: int | None = None) -> float:
    """Correlation over the K samples of ``p(y_1 = c | x_1, w_k)`` and ``p(y_2 = c | x_2, w_k)``.

    ``c = label``, by default the most probable class of ``x_1`` under its predictive
    distribution. Close to 1 for near-duplicates scored with the same K networks; close to 0
    when each point saw its own networks -- the correlation BatchBALD's joint entropy needs.
    Returns 0 when either column is constant.
    """
    check_log_probs(log_probs_2_K_C)
    if log_probs_2_K_C.shape[0] != 2:
        raise ValueError(f"need exactly 2 points, got {log_probs_2_K_C.shape[0]}")
    if label is None:
        label = int(predictive_log_probs(log_probs_2_K_C[:1]).argmax())
    probs_2_K = log_probs_2_K_C[:, :, label].double().exp()
    centred_2_K = probs_2_K - probs_2_K.mean(dim=1, keepdim=True)
    norms_2 = centred_2_K.norm(dim=1)
    if bool((norms_2 == 0).any()):
        return 0.0
    return float((centred_2_K[0] * centred_2_K[1]).sum() / (norms_2[0] * norms_2[1]))
