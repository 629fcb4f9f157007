"""Notebook 02, section 3, greedy selection and submodularity: every batch of a tiny pool scored by
brute force, greedy BatchBALD and top-b BALD against the exhaustive best (and the ``1 - 1/e``
guarantee), and diminishing returns checked case by case; the figure that compares them.

Every batch is scored with ``I[y_S; w]``,
:func:`bbal_tutorial.information.batch_mutual_information`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.information import batch_mutual_information, check_log_probs
from bbal_tutorial.plotting import METHOD_COLOURS, REFERENCE_COLOUR, _as_numpy

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
    """One acquisition size: every subset's score, the best, greedy BatchBALD's and top-b BALD's."""

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
    log_probs_N_K_C: torch.Tensor, acquisition_sizes: Sequence[int]
) -> list[GreedyComparison]:
    """Greedy BatchBALD and top-b BALD against the exhaustive best batch, per acquisition size.

    Greedy runs exactly (``num_samples`` >= C^(b-1), so no configuration is sampled) and its
    batch is re-scored with :func:`batch_mutual_information`, like every other batch here.
    """
    N, K, C = log_probs_N_K_C.shape
    comparisons = []
    for b in acquisition_sizes:
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


def plot_greedy_vs_exhaustive(comparisons: Sequence[Any], ax: Axes | None = None) -> Axes:
    """Every subset's ``I[y_1..y_b; w]`` (grey), the exhaustive best (star), greedy BatchBALD
    (blue), top-b BALD's batch (red), and the ``(1 - 1/e) · best`` guarantee (dashed), per b.

    ``comparisons`` are :class:`GreedyComparison` objects.
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
            color=REFERENCE_COLOUR,
            label="every subset" if i == 0 else None,
            zorder=1,
        )
        ax.hlines(
            GREEDY_GUARANTEE * c.best_score,
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
    ax.set_xlabel("acquisition size $b$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_b;\boldsymbol{\omega})$ (nats)")
    ax.set_title("greedy against the best of all subsets (blue label: greedy / best)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax
