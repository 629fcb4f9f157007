"""Notebook 02, BALD against BatchBALD on a pool with near-duplicates: the images each method
picks, BatchBALD's score of every candidate given a chosen set, repeated sampled estimates of a
joint entropy, and the ``log K`` ceiling of the cumulative score; their figures and panels.

Notation as in the BatchBALD blog post: ``I[y_1..y_b; w] = H[y_1..y_b] - sum_i E_w H[y_i|w]``
(:func:`bbal_tutorial.information.batch_mutual_information`). The notebook's other two sections
have their own modules: greedy selection against exhaustive search
(:mod:`bbal_tutorial.lessons.submodularity`) and the duplicate-pick surprise
(:mod:`bbal_tutorial.lessons.duplicate_surprise`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.information import (
    batch_mutual_information,
    check_log_probs,
    conditional_entropy,
    configuration_posterior,
    entropy_given_configurations,
    exact_configurations,
    joint_entropy_sampled,
)
from bbal_tutorial.lessons.duplicate_pool import count_repeats
from bbal_tutorial.plotting import COURSE_PALETTE, METHOD_COLOURS, _as_numpy, _show_image, plural
from bbal_tutorial.widgets import live_panel, panel_figure

#: Colour of a pick that repeats an image already in the batch, and of near-duplicates: the
#: course palette's vermillion (BALD's colour too -- repeats are what top-b BALD does).
REPEAT_COLOUR = COURSE_PALETTE[3]
#: Size (inches) of :func:`plot_cumulative_scores`'s figure.
CUMULATIVE_SCORES_FIGSIZE = (9.0, 4.5)


def batchbald_scores_given(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> torch.Tensor:
    """BatchBALD's score of adding each candidate x to the chosen set S, exactly::

        I[y_S, y_x; w] = I[y_S; w] + H[y_x | y_S] - E_w H[y_x|w]

    for every pool point x, shape (N,), float64 (the greedy step's argmax is BatchBALD's next
    pick). ``H[y_x | y_S] = sum_m p(c_m) H[y_x | c_m]`` over all C^|S| configurations c_m of S; an
    empty S gives BALD. For x in S the value treats x as a second, independent label of the same
    point.
    """
    check_log_probs(log_probs_N_K_C)
    chosen = list(chosen)
    log_joint_M_K = exact_configurations(log_probs_N_K_C[chosen])
    _, log_marginal_M = configuration_posterior(log_joint_M_K)
    entropy_given_chosen_N = entropy_given_configurations(
        log_joint_M_K, log_marginal_M.exp(), log_probs_N_K_C
    )
    return (
        batch_mutual_information(log_probs_N_K_C[chosen])
        + entropy_given_chosen_N
        - conditional_entropy(log_probs_N_K_C)
    )


def sampled_entropy_estimates(
    log_probs_n_K_C: torch.Tensor,
    num_samples_S: Sequence[int],
    repeats: int,
    *,
    seed: int = 0,
) -> torch.Tensor:
    """``repeats`` independent sampled estimates of ``H[y_1..y_n]`` for each budget M in
    ``num_samples_S``: shape (len(num_samples_S), repeats), float64.

    The paper's estimator (:func:`~bbal_tutorial.information.joint_entropy_sampled`): M label
    configurations of the first n-1 points drawn from ``p(y_1..y_{n-1})``, the last point's C
    labels summed exactly. One seeded generator drives all draws, so the table is reproducible.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    generator = torch.Generator().manual_seed(seed)
    estimates = [
        [
            float(joint_entropy_sampled(log_probs_n_K_C, M, generator=generator))
            for _ in range(repeats)
        ]
        for M in num_samples_S
    ]
    return torch.tensor(estimates, dtype=torch.float64)


def plot_batch_picks(
    images_N_H_W: Any,
    batches: Mapping[str, Sequence[int]],
    original_N: Any,
    *,
    scores: Mapping[str, Sequence[float]] | None = None,
    names: Mapping[str, str] | None = None,
    fig: Figure | None = None,
) -> Figure:
    """One row per method: the pool images it picked, in order; a pick whose original image was
    already picked earlier in the same batch gets a red frame and "again" in its title.

    ``batches`` maps a method key (``"bald"``, ``"batchbald"``) to pool indices, ``original_N``
    gives each pool image's original; ``scores`` (same keys) are printed under the images.
    ``fig`` is an empty figure to draw on (a panel's
    :func:`~bbal_tutorial.widgets.panel_figure`), resized to fit the images; by default a new
    pyplot figure.
    """
    original_N = np.asarray(_as_numpy(original_N), dtype=np.int64)
    images = _as_numpy(images_N_H_W)
    width = max(1, max(len(b) for b in batches.values()))
    size = (1.15 * width + 1.4, 1.75 * len(batches))
    if fig is None:
        fig = plt.figure(figsize=size)
    else:
        fig.set_size_inches(size)
    axes = fig.subplots(len(batches), width, squeeze=False)
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
            f"{name}\n{plural(repeats, 'repeat')}",
            fontsize=10,
            color=METHOD_COLOURS.get(method, "black"),
            rotation=0,
            ha="right",
            va="center",
            labelpad=8,
        )
    fig.tight_layout()
    return fig


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
    left.set_title(f"{plural(estimates.shape[1], 'independent estimate')} per $M$", fontsize=10)
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
        _, ax = plt.subplots(figsize=CUMULATIVE_SCORES_FIGSIZE, layout="constrained")
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


def batch_picks_panel(
    log_probs_N_K_C: Any,
    images_N_H_W: Any,
    original_N: Any,
    *,
    max_acquisition_size: int = 10,
    acquisition_size: int = 5,
    num_samples: int = 10_000,
    seed: int = 0,
) -> widgets.Box:
    """A batch-size slider over the images top-b BALD and greedy BatchBALD pick from a pool.

    Both methods are prefix-stable (top-b BALD's first b picks are its top-b; greedy BatchBALD's
    first b picks do not depend on how many more follow), so both batches are computed once for
    ``max_acquisition_size`` and the slider only slices and redraws.
    """

    bald = get_bald_batch(log_probs_N_K_C, max_acquisition_size)
    batchbald = get_batchbald_batch(
        log_probs_N_K_C, max_acquisition_size, num_samples=num_samples, seed=seed
    )
    controls = {
        "acquisition_size": widgets.IntSlider(
            value=min(acquisition_size, max_acquisition_size),
            min=1,
            max=max_acquisition_size,
            description="acquisition size b",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }

    def draw(acquisition_size: int) -> Figure:
        batches = {
            "bald": bald.indices[:acquisition_size],
            "batchbald": batchbald.indices[:acquisition_size],
        }
        fig = plot_batch_picks(
            images_N_H_W,
            batches,
            original_N,
            scores={
                "bald": bald.scores[:acquisition_size],
                "batchbald": batchbald.scores[:acquisition_size],
            },
            names={"bald": "top-b BALD", "batchbald": "BatchBALD"},
            fig=panel_figure(),  # not pyplot's (see bbal_tutorial.widgets)
        )
        repeats = {name: count_repeats(b, original_N) for name, b in batches.items()}
        print(
            f"b = {acquisition_size}: top-b BALD picked {repeats['bald']} repeat(s) of an image it "
            f"already had, BatchBALD {repeats['batchbald']}. Numbers under the images: BALD's "
            "individual scores; BatchBALD's cumulative I(y_1..y_i; w) (nats)."
        )
        return fig

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    panel.batches = {"bald": bald, "batchbald": batchbald}  # type: ignore[attr-defined]
    return panel


def log_k_ceiling_panel(
    log_probs_N_K_C: Any,
    original_N: Any,
    *,
    k_values: tuple[int, ...] = (3, 10, 100),
    acquisition_size: int = 16,
    num_samples: int = 10_000,
    seed: int = 0,
) -> widgets.Box:
    """Greedy BatchBALD's cumulative score against ``log K`` for the first K of the posterior
    samples; the student picks the K values (comma-separated) and the acquisition size, then clicks.

    Costly (one greedy BatchBALD run per K), so it redraws only on the button.
    """
    k_max = log_probs_N_K_C.shape[1]
    controls = {
        "k_text": widgets.Text(
            value=", ".join(str(k) for k in k_values),
            description=f"K values (1..{k_max})",
            style={"description_width": "initial"},
        ),
        "acquisition_size": widgets.IntSlider(
            value=acquisition_size,
            min=1,
            max=min(40, log_probs_N_K_C.shape[0]),
            description="acquisition size b",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    }

    def draw(k_text: str, acquisition_size: int) -> Figure:
        ks = sorted({int(part) for part in k_text.replace(",", " ").split()})
        if not ks or ks[0] < 1 or ks[-1] > k_max:
            raise ValueError(
                f"K values must be whole numbers between 1 and {k_max}, got {k_text!r}"
            )
        batches = {
            k: get_batchbald_batch(
                log_probs_N_K_C[:, :k], acquisition_size, num_samples=num_samples, seed=seed
            )
            for k in ks
        }
        # not pyplot's (see bbal_tutorial.widgets)
        fig = panel_figure(figsize=CUMULATIVE_SCORES_FIGSIZE, layout="constrained")
        plot_cumulative_scores(batches, original_N, ax=fig.subplots())
        for k, batch in batches.items():
            print(
                f"K = {k:>3}: final score {batch.scores[-1]:.3f} nats of log K = "
                f"{math.log(k):.3f}; {count_repeats(batch.indices, original_N)} "
                "repeated image(s)"
            )
        return fig

    panel = live_panel(controls, draw, button="Run BatchBALD")
    panel.controls = controls  # type: ignore[attr-defined]
    return panel
