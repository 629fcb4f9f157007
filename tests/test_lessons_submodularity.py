"""Tests for bbal_tutorial.lessons.submodularity (notebook 02, section 3): exhaustive search,
greedy against the best batch and its guarantee, diminishing returns, and the figure."""

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.lessons import double_counting, submodularity

pytestmark = pytest.mark.usefixtures("one_thread")


def test_all_batch_scores_enumerates_every_subset_once(softmax_log_probs):
    log_probs_N_K_C = softmax_log_probs(6, 4, 3, seed=1)
    subsets, scores_S = submodularity.all_batch_scores(log_probs_N_K_C, 3)
    assert subsets == list(itertools.combinations(range(6), 3))
    for subset, score in zip(subsets[::5], scores_S[::5].tolist(), strict=True):
        assert score == pytest.approx(info.batch_mutual_information(log_probs_N_K_C[list(subset)]))
    best, best_score = submodularity.exhaustive_best_batch(log_probs_N_K_C, 3)
    assert best_score == pytest.approx(float(scores_S.max())) and best in subsets
    with pytest.raises(ValueError, match="exhaustive search is limited"):
        submodularity.all_batch_scores(softmax_log_probs(40, 2, 2, seed=0), 10)
    with pytest.raises(ValueError, match="acquisition_size"):
        submodularity.all_batch_scores(log_probs_N_K_C, 7)


@pytest.mark.parametrize("seed", range(8))
def test_best_beats_greedy_which_beats_the_submodular_guarantee(softmax_log_probs, seed):
    log_probs_N_K_C = softmax_log_probs(7, 5, 3, seed=seed)
    for c in submodularity.compare_greedy_to_exhaustive(log_probs_N_K_C, [1, 2, 3]):
        assert c.best_score == pytest.approx(float(c.subset_scores.max()), abs=1e-12)
        assert (
            c.best_score + 1e-9 >= c.greedy_score >= submodularity.GREEDY_GUARANTEE * c.best_score
        )
        assert c.best_score + 1e-9 >= c.bald_score
        assert len(set(c.greedy_indices)) == c.acquisition_size
        if c.acquisition_size == 1:  # the first greedy step is exact: the best single point
            assert c.greedy_score == pytest.approx(c.best_score, abs=1e-12)


def test_greedy_is_not_always_the_best(softmax_log_probs):
    """Seed 4 is a pool where greedy's b = 3 batch scores ~2.6% below the exhaustive best: the
    comparison is not vacuous."""
    log_probs_N_K_C = softmax_log_probs(7, 5, 3, seed=4)
    (c,) = submodularity.compare_greedy_to_exhaustive(log_probs_N_K_C, [3])
    assert c.ratio < 0.99
    assert tuple(sorted(c.greedy_indices)) != c.best_indices


def test_submodularity_gaps_are_never_positive(softmax_log_probs):
    gaps = submodularity.submodularity_gaps(softmax_log_probs(6, 5, 3, seed=2), max_set_size=2)
    # |A| = 0, 1, 2 with a pair outside A: C(6,2) + 6·C(5,2) + C(6,2)·C(4,2) cases
    assert len(gaps) == 15 + 60 + 90
    assert float(gaps.max()) <= 1e-10
    assert float(gaps.min()) < -1e-3  # strictly diminishing returns somewhere


def test_submodularity_gap_of_two_points_is_minus_their_overlap():
    """With A = {}: gap = I[y1,y2;w] - I[y1;w] - I[y2;w] = -I[y1;y2] (what BALD double-counts)."""
    log_probs_2_K_C = double_counting.two_points_log_probs(0, num_samples=8)
    (gap,) = submodularity.submodularity_gaps(log_probs_2_K_C, max_set_size=0).tolist()
    double = double_counting.batch_information(log_probs_2_K_C)["double-counted"]
    assert double > 0.1
    assert gap == pytest.approx(-double, abs=1e-12)


def texts_of(fig_or_ax):
    return [t.get_text() for t in fig_or_ax.findobj(plt.Text)]


def test_greedy_vs_exhaustive_draws_every_subset_and_the_guarantee():
    generator = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(2 * torch.randn(6, 5, 3, generator=generator), -1).double()
    comparisons = submodularity.compare_greedy_to_exhaustive(log_probs, [1, 2, 3])
    ax = submodularity.plot_greedy_vs_exhaustive(comparisons)
    grey = [c for c in ax.collections if c.get_label() in ("every subset", "_child0")]
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert {6, 15, 20} <= set(sizes) and grey  # C(6,1), C(6,2), C(6,3) subsets
    guarantee = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    levels = sorted(float(seg[0][1]) for c in guarantee for seg in c.get_segments())
    expected = sorted((1 - 1 / math.e) * c.best_score for c in comparisons)
    np.testing.assert_allclose(levels, expected)
    assert f"{comparisons[-1].ratio:.1%}" in texts_of(ax)
    plt.close("all")
