"""Notebook 02, BALD against BatchBALD on a pool with near-duplicates: the exhaustive best batch of
a tiny pool and how close greedy comes, submodularity gaps, repeated sampled joint-entropy
estimates, the duplicate-pick surprise, BatchBALD's gains given a chosen set; their figures and
panels.

Notation as in the BatchBALD blog post: ``I[y_1..y_b; w] = H[y_1..y_b] - sum_i E_w H[y_i|w]``
(:func:`bbal_tutorial.information.batch_mutual_information`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    entropy_given_configurations,
    exact_configurations,
    joint_entropy_sampled,
    predictive_log_probs,
)
from bbal_tutorial.lessons.duplicate_pool import count_repeats
from bbal_tutorial.plotting import METHOD_COLOURS, _as_numpy, _show_image
from bbal_tutorial.widgets import live_panel

#: Colour of a pick that repeats an image already in the batch, and of near-duplicates.
REPEAT_COLOUR = "#d62728"


#: The greedy guarantee for monotone submodular functions (Nemhauser et al., 1978).
GREEDY_FRACTION = 1.0 - 1.0 / math.e


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
        b = c.acquisition_size
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
    ax.set_xticks([c.acquisition_size for c in comparisons])
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
            description="batch size b",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }

    def draw(acquisition_size: int) -> None:
        batches = {
            "bald": bald.indices[:acquisition_size],
            "batchbald": batchbald.indices[:acquisition_size],
        }
        plot_batch_picks(
            images_N_H_W,
            batches,
            original_N,
            scores={
                "bald": bald.scores[:acquisition_size],
                "batchbald": batchbald.scores[:acquisition_size],
            },
            names={"bald": "top-b BALD", "batchbald": "BatchBALD"},
        )
        repeats = {name: count_repeats(b, original_N) for name, b in batches.items()}
        print(
            f"b = {acquisition_size}: top-b BALD picked {repeats['bald']} repeat(s) of an image it "
            f"already had, BatchBALD {repeats['batchbald']}. Numbers under the images: BALD's "
            "individual scores; BatchBALD's cumulative I(y_1..y_i; w) (nats)."
        )

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
    samples; the student picks the K values (comma-separated) and the batch size, then clicks.

    Costly (one greedy BatchBALD run per K), so it redraws only on the button.
    """
    import math

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
            description="batch size b",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    }

    def draw(k_text: str, acquisition_size: int) -> None:
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
        plot_cumulative_scores(batches, original_N)
        for k, batch in batches.items():
            print(
                f"K = {k:>3}: final score {batch.scores[-1]:.3f} nats of log K = "
                f"{math.log(k):.3f}; {count_repeats(batch.indices, original_N)} "
                "repeated image(s)"
            )

    panel = live_panel(controls, draw, button="Run BatchBALD")
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


#: ``1 - 1/e``: greedy maximisation of a monotone submodular f with ``f({}) = 0`` reaches at least
#: this fraction of the best subset's value (Nemhauser, Wolsey & Fisher, 1978).
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


# All subsets of a pool are enumerated by :func:`all_batch_scores`; beyond this many the notebook
# would wait minutes, which is the point the exhaustive search makes.
_MAX_SUBSETS = 20_000


def all_batch_scores(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int
) -> tuple[list[tuple[int, ...]], torch.Tensor]:
    """``I[y_S; w]`` of every subset S of ``acquisition_size`` pool points, by brute force.

    Returns the subsets (sorted index tuples, in ``itertools.combinations`` order) and their
    scores, shape (number of subsets,), float64. Refuses more than 20,000 subsets: the search is
    exponential, which is why BatchBALD is greedy.
    """
    check_log_probs(log_probs_N_K_C)
    N = log_probs_N_K_C.shape[0]
    if not 0 <= acquisition_size <= N:
        raise ValueError(f"acquisition_size must be in 0..{N}, got {acquisition_size}")
    if math.comb(N, acquisition_size) > _MAX_SUBSETS:
        raise ValueError(
            f"{math.comb(N, acquisition_size):,} subsets of {acquisition_size} out of {N} points; "
            f"exhaustive search is limited to {_MAX_SUBSETS:,}"
        )
    subsets = list(itertools.combinations(range(N), acquisition_size))
    scores_S = torch.tensor(
        [batch_mutual_information(log_probs_N_K_C[list(s)]) for s in subsets],
        dtype=torch.float64,
    )
    return subsets, scores_S


def exhaustive_best_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int
) -> tuple[tuple[int, ...], float]:
    """The subset of ``acquisition_size`` points with the largest ``I[y_S; w]`` and that score.

    Ties go to the first subset in ``itertools.combinations`` order.
    """
    subsets, scores_S = all_batch_scores(log_probs_N_K_C, acquisition_size)
    best = int(torch.argmax(scores_S))
    return subsets[best], float(scores_S[best])


@dataclass
class GreedyComparison:
    """For one batch size: every subset's score, the best, greedy BatchBALD's and top-b BALD's."""

    acquisition_size: int
    subset_scores: torch.Tensor
    best_indices: tuple[int, ...]
    best_score: float
    greedy_indices: list[int]
    greedy_score: float
    bald_indices: list[int]
    bald_score: float  # I[y_S; w] of BALD's batch (not its sum of individual scores)

    @property
    def ratio(self) -> float:
        """``greedy / best`` (1 when the best score is 0)."""
        return self.greedy_score / self.best_score if self.best_score > 0 else 1.0


def compare_greedy_to_exhaustive(
    log_probs_N_K_C: torch.Tensor, batch_sizes: Sequence[int]
) -> list[GreedyComparison]:
    """Greedy BatchBALD and top-b BALD against the exhaustive best batch, per batch size.

    Greedy runs exactly (``num_samples`` >= C^(b-1), so no configuration is sampled) and its
    batch is re-scored with :func:`batch_mutual_information`, like every other batch here.
    """
    N, K, C = log_probs_N_K_C.shape
    comparisons = []
    for b in batch_sizes:
        subsets, scores_S = all_batch_scores(log_probs_N_K_C, b)
        best = int(torch.argmax(scores_S))
        exact_budget = max(1, C ** max(b - 1, 0))
        greedy = get_batchbald_batch(
            log_probs_N_K_C, b, num_samples=exact_budget, matmul_dtype=torch.float64
        )
        bald = get_bald_batch(log_probs_N_K_C, b)
        comparisons.append(
            GreedyComparison(
                acquisition_size=b,
                subset_scores=scores_S,
                best_indices=subsets[best],
                best_score=float(scores_S[best]),
                greedy_indices=greedy.indices,
                greedy_score=batch_mutual_information(log_probs_N_K_C[greedy.indices]),
                bald_indices=bald.indices,
                bald_score=batch_mutual_information(log_probs_N_K_C[bald.indices]),
            )
        )
    return comparisons


def submodularity_gaps(log_probs_N_K_C: torch.Tensor, max_set_size: int = 2) -> torch.Tensor:
    """Diminishing returns, checked on every case of a tiny pool.

    For every set A with ``|A| <= max_set_size`` and every pair ``x != y`` outside A::

        gap = [f(A ∪ {x,y}) - f(A)] - [f(A ∪ {x}) - f(A)] - [f(A ∪ {y}) - f(A)]

    with ``f(S) = I[y_S; w]``. f is submodular iff every gap is <= 0 (the blog's definition);
    returns all gaps, float64. Each f value is computed once (a cache keyed by the sorted set).
    """
    N = log_probs_N_K_C.shape[0]
    cache: dict[tuple[int, ...], float] = {}

    def f(subset: tuple[int, ...]) -> float:
        key = tuple(sorted(subset))
        if key not in cache:
            cache[key] = batch_mutual_information(log_probs_N_K_C[list(key)])
        return cache[key]

    gaps = []
    for size in range(max_set_size + 1):
        for A in itertools.combinations(range(N), size):
            rest = [i for i in range(N) if i not in A]
            for x, y in itertools.combinations(rest, 2):
                base = f(A)
                gaps.append(f(A + (x, y)) - f(A + (x,)) - f(A + (y,)) + base)
    return torch.tensor(gaps, dtype=torch.float64)


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
            bald_N = batchbald_scores_given(pair_2_K_C, [])
            result[name]["joint"].append(batch_mutual_information(pair_2_K_C))
            result[name]["bald sum"].append(float(bald_N.sum()))
    out = {}
    for name, values in result.items():
        joint = torch.tensor(values["joint"], dtype=torch.float64)
        bald_sum = torch.tensor(values["bald sum"], dtype=torch.float64)
        out[name] = {"joint": joint, "bald sum": bald_sum, "overlap": bald_sum - joint}
    return out


def batchbald_scores_given(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> torch.Tensor:
    """BatchBALD's score of adding each candidate x to the chosen set S, exactly::

        I[y_S, y_x; w] = H[y_S, y_x] - sum_{j in S} E_w H[y_j|w] - E_w H[y_x|w]

    for every pool point x, shape (N,), float64 (the greedy step's argmax is BatchBALD's next
    pick). ``H[y_S, y_x] = H[y_S] + H[y_x | y_S]`` with all C^|S| configurations of S; an empty S
    gives BALD. For x in S the value treats x as a second, independent label of the same point.
    """
    check_log_probs(log_probs_N_K_C)
    chosen = list(chosen)
    K = log_probs_N_K_C.shape[1]
    conditional_N = conditional_entropy(log_probs_N_K_C)
    log_joint_M_K = exact_configurations(log_probs_N_K_C[chosen])
    log_marginal_M = torch.logsumexp(log_joint_M_K, dim=1) - math.log(K)
    probs_M = log_marginal_M.exp()
    possible_M = probs_M > 0  # skip impossible configurations (0 · log 0 = 0)
    entropy_S = -(probs_M[possible_M] * log_marginal_M[possible_M]).sum()
    entropy_N = entropy_S + entropy_given_configurations(log_joint_M_K, probs_M, log_probs_N_K_C)
    return entropy_N - conditional_N - conditional_N[chosen].sum()
