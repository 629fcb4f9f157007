"""Tests for bbal_tutorial.lessons.duplicates (notebook 02): picks on a pool of near-duplicates,
BatchBALD's scores given a chosen set, sampled estimates, their figures and panels."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.acquisition import CandidateBatch, get_bald_batch, get_batchbald_batch
from bbal_tutorial.lessons import duplicate_pool, duplicates

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("seed", range(3))
def test_bald_picks_duplicates_and_batchbald_does_not(near_duplicate_log_probs, seed):
    log_probs_N_K_C, original_N = near_duplicate_log_probs(seed=seed)
    bald = get_bald_batch(log_probs_N_K_C, 4)
    batchbald = get_batchbald_batch(log_probs_N_K_C, 4, seed=0)
    assert duplicate_pool.count_repeats(bald.indices, original_N) >= 2
    assert duplicate_pool.count_repeats(batchbald.indices, original_N) == 0


def test_batchbald_scores_given_match_the_greedy_step_and_brute_force(softmax_log_probs):
    log_probs_N_K_C = softmax_log_probs(8, 6, 3, seed=5)
    assert torch.allclose(
        duplicates.batchbald_scores_given(log_probs_N_K_C, []),
        info.mutual_information(log_probs_N_K_C),
    )
    greedy = get_batchbald_batch(log_probs_N_K_C, 3, matmul_dtype=torch.float64)
    chosen = greedy.indices[:2]
    scores_N = duplicates.batchbald_scores_given(log_probs_N_K_C, chosen)
    for x in range(8):
        if x not in chosen:
            expected = info.batch_mutual_information(log_probs_N_K_C[chosen + [x]])
            assert float(scores_N[x]) == pytest.approx(expected, abs=1e-10)
    available = [x for x in range(8) if x not in chosen]
    assert available[int(scores_N[available].argmax())] == greedy.indices[2]
    assert float(scores_N[available].max()) == pytest.approx(greedy.scores[2], abs=1e-9)


def test_sampled_estimates_scatter_around_the_exact_entropy_and_tighten_with_m(softmax_log_probs):
    log_probs_n_K_C = softmax_log_probs(4, 10, 4, seed=3, scale=1.0)
    exact = float(info.joint_entropy_exact(log_probs_n_K_C))
    estimates_S_R = duplicates.sampled_entropy_estimates(log_probs_n_K_C, [10, 1000], 40, seed=0)
    assert estimates_S_R.shape == (2, 40)
    small, large = estimates_S_R
    assert float(small.std()) > 0
    # the spread shrinks like 1/sqrt(M): 10x here; allow sampling slack
    assert float(large.std()) < float(small.std()) / 4
    assert float(large.mean()) == pytest.approx(exact, abs=4 * float(large.std()) / math.sqrt(40))
    again = duplicates.sampled_entropy_estimates(log_probs_n_K_C, [10, 1000], 40, seed=0)
    assert torch.equal(again, estimates_S_R)


def texts_of(fig_or_ax):
    return [t.get_text() for t in fig_or_ax.findobj(plt.Text)]


def test_batch_picks_marks_repeats_of_an_original():
    images = torch.rand(6, 28, 28)
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    fig = duplicates.plot_batch_picks(
        images,
        {"bald": [0, 3, 1, 4], "batchbald": [0, 1, 2]},
        original_N,
        scores={"bald": [0.9, 0.8, 0.7, 0.6], "batchbald": [0.9, 1.5, 2.0]},
    )
    rows = fig.axes[:4], fig.axes[4:]
    assert [ax.get_title() for ax in rows[0]] == ["img 0", "img 0 again", "img 1", "img 1 again"]
    assert "2 repeats" in rows[0][0].get_ylabel() and "0 repeats" in rows[1][0].get_ylabel()
    assert rows[0][1].spines["left"].get_edgecolor()[:3] == matplotlib.colors.to_rgb(
        duplicates.REPEAT_COLOUR
    )
    assert not rows[1][3].images  # BatchBALD's row is one shorter: its last cell is blank
    assert rows[1][2].get_xlabel() == "2.00"
    plt.close("all")


def test_estimator_spread_shows_the_exact_value_and_the_std():
    estimates = torch.tensor([[1.0, 3.0, 2.0, 2.0], [1.9, 2.1, 2.0, 2.0]])
    left, right = duplicates.plot_estimator_spread([10, 1000], estimates, exact=2.0)
    assert left.get_lines()[0].get_ydata()[0] == 2.0
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), estimates.std(1, unbiased=False))
    assert "exact: 2.000" in texts_of(left)
    plt.close("all")


def test_cumulative_scores_draw_the_log_k_ceilings_and_mark_repeats():
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    batches = {
        3: CandidateBatch([0, 1, 3], [0.5, 0.9, 1.0]),
        10: CandidateBatch([0, 1, 2], [0.6, 1.2, 1.7]),
    }
    ax = duplicates.plot_cumulative_scores(batches, original_N)
    ceilings = sorted(
        line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"
    )
    np.testing.assert_allclose(ceilings, [math.log(3), math.log(10)])
    (crosses,) = [c for c in ax.collections if c.get_label() == "repeats an image already picked"]
    np.testing.assert_allclose(crosses.get_offsets(), [[3, 1.0]])  # K = 3's third pick
    assert any("log K = 2.30" in t for t in texts_of(ax))
    plt.close("all")


def image_rows(fig):
    """The image titles of a picks figure, one list per method row."""
    rows = {}
    for ax in fig.axes:
        if ax.images:
            rows.setdefault(round(ax.get_position().y0, 3), []).append(ax.get_title())
    return [rows[y] for y in sorted(rows, reverse=True)]


def test_batch_picks_panel_slices_both_batches_when_the_slider_moves(near_duplicate_log_probs):
    log_probs, original_N = near_duplicate_log_probs()
    images = torch.rand(len(original_N), 28, 28)
    pyplot_figures = plt.get_fignums()
    panel = duplicates.batch_picks_panel(
        log_probs, images, original_N, max_acquisition_size=6, acquisition_size=2
    )
    slider = panel.controls["acquisition_size"]
    assert (slider.min, slider.max, slider.continuous_update) == (1, 6, False)
    assert [len(row) for row in image_rows(panel.figure)] == [2, 2]

    slider.value = 5
    bald_row, batchbald_row = image_rows(panel.figure)
    assert plt.get_fignums() == pyplot_figures  # drawn on a figure pyplot does not track
    bald = get_bald_batch(log_probs, 5)
    batchbald = get_batchbald_batch(log_probs, 5, seed=0)
    assert panel.batches["batchbald"].indices[:5] == batchbald.indices  # prefix-stable greedy
    assert bald_row[0] == f"img {int(original_N[bald.indices[0]])}"
    assert (
        sum("again" in t for t in bald_row)
        == duplicate_pool.count_repeats(bald.indices, original_N)
        > 0
    )
    assert not any("again" in t for t in batchbald_row)


def test_log_k_ceiling_panel_draws_a_ceiling_per_k_on_click(near_duplicate_log_probs, capsys):
    log_probs, original_N = near_duplicate_log_probs(K=12)
    pyplot_figures = plt.get_fignums()
    panel = duplicates.log_k_ceiling_panel(
        log_probs, original_N, k_values=(2, 12), acquisition_size=4, num_samples=200
    )
    first = panel.figure
    ceilings = sorted(
        line.get_ydata()[0] for line in first.axes[0].get_lines() if line.get_linestyle() == "--"
    )
    assert ceilings == pytest.approx([math.log(2), math.log(12)])
    assert "K =   2" in capsys.readouterr().out

    panel.controls["k_text"].value = "3, 5 8"
    assert panel.figure is first  # no redraw before the button is clicked
    panel.children[0].children[-1].click()
    ceilings = sorted(
        line.get_ydata()[0]
        for line in panel.figure.axes[0].get_lines()
        if line.get_linestyle() == "--"
    )
    assert ceilings == pytest.approx([math.log(3), math.log(5), math.log(8)])
    assert plt.get_fignums() == pyplot_figures  # drawn on figures pyplot does not track

    panel.controls["k_text"].value = "50"
    panel.children[0].children[-1].click()
    assert "K values must be whole numbers between 1 and 12" in capsys.readouterr().err
