"""Tests for bbal_tutorial.lessons.duplicate_surprise (notebook 02, section 5): BatchBALD may
prefer a copy once the model's disagreement is small, as the notebook claims; the figures."""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.acquisition import get_batchbald_batch
from bbal_tutorial.lessons import duplicate_surprise


def bernoulli_log_probs(p_K):
    p_K = torch.tensor(p_K, dtype=torch.float64)
    return torch.stack([1 - p_K, p_K], dim=-1).log()


def test_shrink_disagreement_keeps_the_predictive_and_scales_bald_down(softmax_log_probs):
    log_probs_N_K_C = softmax_log_probs(5, 6, 3, seed=4)
    assert torch.allclose(
        duplicate_surprise.shrink_disagreement(log_probs_N_K_C, 1.0), log_probs_N_K_C
    )
    bald = [
        info.mutual_information(duplicate_surprise.shrink_disagreement(log_probs_N_K_C, s))
        for s in (0.0, 0.1, 0.5, 1.0)
    ]
    assert torch.allclose(bald[0], torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert all(bool((a < b).all()) for a, b in itertools.pairwise(bald))
    # BALD ~ scale^2 for small scales
    small = info.mutual_information(duplicate_surprise.shrink_disagreement(log_probs_N_K_C, 0.01))
    tiny = info.mutual_information(duplicate_surprise.shrink_disagreement(log_probs_N_K_C, 0.005))
    assert torch.allclose(small / tiny, torch.full_like(small, 4.0), rtol=0.02)
    predictive = info.predictive_log_probs(log_probs_N_K_C)
    shrunk = info.predictive_log_probs(duplicate_surprise.shrink_disagreement(log_probs_N_K_C, 0.3))
    assert torch.allclose(shrunk, predictive)
    with pytest.raises(ValueError, match="scale"):
        duplicate_surprise.shrink_disagreement(log_probs_N_K_C, 1.5)


def test_the_issue_example_batchbald_prefers_the_duplicate_pair():
    """The open issue's numbers: two identical points and a slightly less informative third."""
    log_probs_3_K_C = duplicate_surprise.issue_example_log_probs()
    assert torch.equal(log_probs_3_K_C[0], log_probs_3_K_C[1])
    bald_3 = info.mutual_information(log_probs_3_K_C)
    assert bald_3[0] > bald_3[2] > 0
    copy = info.batch_mutual_information(log_probs_3_K_C[[0, 1]])
    other = info.batch_mutual_information(log_probs_3_K_C[[0, 2]])
    assert copy > other > 0
    assert get_batchbald_batch(log_probs_3_K_C, 2, seed=0).indices == [0, 1]


def test_duplicates_win_only_once_the_disagreement_is_small():
    # x: the samples split 2-2 and are fairly sure; z: an independent split, a little less sure
    x_K_C = bernoulli_log_probs([0.9, 0.9, 0.1, 0.1])
    z_K_C = bernoulli_log_probs([0.8, 0.2, 0.8, 0.2])
    log_probs_3_K_C = torch.stack([x_K_C, x_K_C, z_K_C])
    scores = duplicate_surprise.pair_scores_by_disagreement(
        log_probs_3_K_C, {"copy": (0, 1), "other": (0, 2)}, [0.05, 1.0]
    )
    copy, other = scores["copy"], scores["other"]
    assert other["joint"][1] > copy["joint"][1]  # the trained model: the new image wins
    assert copy["joint"][0] > other["joint"][0]  # near-zero information: the copy wins
    for pair in (copy, other):
        assert torch.allclose(pair["overlap"], pair["bald sum"] - pair["joint"])
        assert bool((pair["overlap"] >= -1e-12).all())
    # the double-counted share vanishes as the disagreement shrinks
    share = copy["overlap"] / copy["bald sum"]
    assert share[1] > 0.25 and share[0] < 0.01


def texts_of(fig_or_ax):
    return [t.get_text() for t in fig_or_ax.findobj(plt.Text)]


def test_pair_scores_bars_are_in_millinats():
    pair_info = {
        "copy": {"BALD sum": 0.0086, "I[y1,y2;w]": 0.0085},
        "other": {"BALD sum": 0.0071, "I[y1,y2;w]": 0.0070},
    }
    ax = duplicate_surprise.plot_pair_scores(pair_info)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(sorted(heights), [7.0, 7.1, 8.5, 8.6])
    assert "8.50" in texts_of(ax)
    plt.close("all")


def test_duplicate_surprise_plots_the_ratio_and_the_double_counted_share():
    scores = {
        "copy": {
            "joint": torch.tensor([2.0, 5.0]),
            "bald sum": torch.tensor([2.0, 8.0]),
            "overlap": torch.tensor([0.0001, 3.0]),
        },
        "other": {
            "joint": torch.tensor([1.0, 6.0]),
            "bald sum": torch.tensor([1.0, 6.0]),
            "overlap": torch.tensor([0.0, 0.0]),
        },
    }
    left, right = duplicate_surprise.plot_duplicate_surprise(
        [0.01, 1.0], scores, copy_pair="copy", other_pair="other"
    )
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [2.0, 5 / 6])
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.00005, 3 / 8])
    plt.close("all")
