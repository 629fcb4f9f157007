"""Tests for bbal_tutorial.lessons.dropout (notebook 03): consistent, redrawn and independent
MC-dropout masks, how repeated scores spread, prediction correlation; the figures and the panel."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial import plotting
from bbal_tutorial.lessons import dropout
from bbal_tutorial.lessons.duplicates import REPEAT_COLOUR
from bbal_tutorial.models import BayesianMNISTCNN

pytestmark = pytest.mark.usefixtures("one_thread")


def bernoulli_log_probs(p_K):
    p_K = torch.tensor(p_K, dtype=torch.float64)
    return torch.stack([1 - p_K, p_K], dim=-1).log()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return BayesianMNISTCNN().eval()


@pytest.fixture(scope="module")
def x_N():
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    return torch.cat([x, x[:1]])  # point 5 is an exact copy of point 0


def test_fixed_masks_give_identical_repetitions(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 8, 3, masks="fixed", seed=0)
    assert log_probs_R_N_K_C.shape == (3, 6, 8, 10)
    assert torch.equal(log_probs_R_N_K_C[0], log_probs_R_N_K_C[1])
    assert torch.equal(log_probs_R_N_K_C[0], log_probs_R_N_K_C[2])
    scores = dropout.repeated_candidate_scores(log_probs_R_N_K_C, [1])
    for scores_R_N in scores.values():
        assert dropout.spread_summary(scores_R_N)["spread"] == 0.0


def test_redrawn_masks_differ_between_repetitions_but_are_shared_by_all_points(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 8, 3, masks="redrawn", seed=0)
    assert not torch.allclose(log_probs_R_N_K_C[0], log_probs_R_N_K_C[1])
    # the copy sees the same K networks as its original in every repetition
    assert torch.allclose(log_probs_R_N_K_C[:, 5], log_probs_R_N_K_C[:, 0], atol=1e-5)


def test_independent_masks_break_the_link_between_a_point_and_its_copy(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 16, 4, masks="independent", seed=0)
    assert not torch.allclose(log_probs_R_N_K_C[:, 5], log_probs_R_N_K_C[:, 0], atol=1e-3)
    consistent = dropout.repeated_log_probs(model, x_N, 16, 4, masks="redrawn", seed=0)
    assert dropout.prediction_correlation(consistent[0, [0, 5]]) == pytest.approx(1.0, abs=1e-4)
    assert abs(dropout.prediction_correlation(log_probs_R_N_K_C[0, [0, 5]])) < 0.9


def test_independent_scores_spread_more_than_fixed_ones(model, x_N):
    fixed = dropout.repeated_log_probs(model, x_N, 8, 4, masks="fixed", seed=0)
    independent = dropout.repeated_log_probs(model, x_N, 8, 4, masks="independent", seed=0)
    for quantity in ("bald", "batchbald"):
        spread_fixed = dropout.spread_summary(
            dropout.repeated_candidate_scores(fixed, [0])[quantity][:, 1:]
        )["spread"]
        spread_independent = dropout.spread_summary(
            dropout.repeated_candidate_scores(independent, [0])[quantity][:, 1:]
        )["spread"]
        assert spread_fixed == 0.0
        assert spread_independent > 1e-4


def test_repeated_log_probs_restores_the_model_and_the_global_rng(model, x_N):
    state = torch.get_rng_state()
    dropout.repeated_log_probs(model, x_N, 4, 2, masks="independent", seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(layer.consistent for layer in model.mc_dropout_layers())
    a = dropout.repeated_log_probs(model, x_N, 4, 2, masks="redrawn", seed=3)
    b = dropout.repeated_log_probs(model, x_N, 4, 2, masks="redrawn", seed=3)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="masks"):
        dropout.repeated_log_probs(model, x_N, 4, 2, masks="sometimes")


def test_spread_summary_by_hand():
    scores_R_N = torch.tensor([[1.0, 2.0, 0.0], [2.0, 3.0, 4.0]])
    s = dropout.spread_summary(scores_R_N, flagged_N=torch.tensor([False, False, True]))
    assert s["spread"] == pytest.approx((0.5 + 0.5 + 2.0) / 3)
    # relative to each repetition's mean (1 and 3): [0, 1, -1] and [-1, 0, 1]; stds 0.5, 0.5, 1
    assert s["relative spread"] == pytest.approx(2 / 3)
    assert s["differences"] == pytest.approx(float(np.std([1.5, 2.5, 2.0])))
    assert s["top pick agreement"] == 0.5 and s["distinct top picks"] == 2
    assert s["flagged top picks"] == 0.5
    grouped = dropout.spread_summary(scores_R_N, groups_N=torch.tensor([0, 1, 1]))
    assert grouped["top pick agreement"] == 1.0 and grouped["distinct top picks"] == 1
    single = dropout.spread_summary(scores_R_N[:1])
    assert single["spread"] == 0.0 and single["top pick agreement"] == 1.0


def test_prediction_correlation():
    a_K_C = bernoulli_log_probs([0.9, 0.2, 0.6, 0.4])
    assert dropout.prediction_correlation(torch.stack([a_K_C, a_K_C])) == pytest.approx(1.0)
    flipped_K_C = bernoulli_log_probs([0.1, 0.8, 0.4, 0.6])
    assert dropout.prediction_correlation(torch.stack([a_K_C, flipped_K_C])) == pytest.approx(-1.0)
    constant_K_C = bernoulli_log_probs([0.5] * 4)
    assert dropout.prediction_correlation(torch.stack([a_K_C, constant_K_C])) == 0.0
    with pytest.raises(ValueError, match="2 points"):
        dropout.prediction_correlation(torch.stack([a_K_C] * 3))


def test_score_spread_draws_a_line_per_repetition_and_stars_the_winners():
    scores = {
        "consistent": torch.tensor([[1.0, 2.0, 0.0], [1.5, 2.5, 0.5]]),
        "independent": torch.tensor([[1.0, 2.0, 0.0], [1.0, 0.0, 3.0]]),
    }
    flagged = torch.tensor([False, False, True])
    left, right = dropout.plot_score_spread(scores, [1, 0, 2], flagged_N=flagged)
    assert len(left.get_lines()) == 2 and len(right.get_lines()) == 2
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [2.0, 1.0, 0.0])  # in order
    assert "1 different winner in 2 repetitions" in left.get_title()  # singular for one
    assert "2 different winners in 2 repetitions" in right.get_title()
    winner_colours = [c.get_facecolor()[0][:3] for c in right.collections]
    assert matplotlib.colors.to_rgb(REPEAT_COLOUR) in [tuple(c) for c in winner_colours]
    ticks = right.get_xticklabels()
    assert ticks[2].get_text() == "2" and ticks[2].get_color() == REPEAT_COLOUR
    assert left.get_xlabel() and left.get_ylabel()
    one = dropout.plot_score_spread({"only": torch.tensor([[1.0, 2.0]])}, [0, 1])[0]
    assert "1 different winner in 1 repetition" in one.get_title()
    plt.close("all")


@pytest.mark.parametrize("styled", [False, True])
def test_score_spread_candidate_labels_are_readable_and_do_not_overlap(styled):
    """The notebook's case: 33 candidates in panels of about 5 inches (three modes), some
    candidates flagged. Every label that is shown is at least 8 pt, no two overlap, every
    flagged candidate is labelled in red, and the candidates stay in order."""
    n = 33
    generator = torch.Generator().manual_seed(0)
    scores = {m: torch.rand(4, n + 3, generator=generator) for m in ("a", "b", "c")}
    order = list(range(3, n + 3))[::-1]
    flagged = torch.zeros(n + 3, dtype=torch.bool)
    flagged[[5, 12, 20, 30]] = True
    with matplotlib.rc_context():
        if styled:
            plotting.use_course_style()
        axes = dropout.plot_score_spread(scores, order, flagged_N=flagged)
        fig = axes[0].figure
        fig.tight_layout()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in axes:
            ticks = ax.get_xticklabels()
            assert len(ticks) == n
            shown = [t for t in ticks if t.get_text()]
            assert len(shown) >= n // 4  # thinned, not emptied
            assert all(t.get_fontsize() >= 8 for t in shown)
            assert [int(t.get_text()) for t in shown] == sorted(
                (int(t.get_text()) for t in shown), reverse=True
            )
            boxes = [t.get_window_extent(renderer) for t in shown]
            for left_box, right_box in zip(boxes, boxes[1:], strict=False):
                assert left_box.x1 <= right_box.x0  # side by side, not on top of each other
            red = {int(t.get_text()) for t in shown if t.get_color() == REPEAT_COLOUR}
            assert red == {5, 12, 20, 30}
    plt.close("all")


def test_prediction_scatter_titles_carry_the_correlation():
    p = torch.tensor([0.9, 0.2, 0.6, 0.4], dtype=torch.float64)
    a = torch.stack([1 - p, p], -1).log()
    b = torch.stack([p, 1 - p], -1).log()
    axes = dropout.plot_prediction_scatter(
        {"same": torch.stack([a, a]), "flipped": torch.stack([a, b])}, label=1
    )
    assert axes[0].get_title() == "same: correlation 1.00"
    assert axes[1].get_title() == "flipped: correlation -1.00"
    np.testing.assert_allclose(axes[0].collections[0].get_offsets()[:, 0], p.numpy())
    plt.close("all")


def test_score_spread_panel_rescores_with_the_first_k_samples(capsys):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 8, 4, generator=generator, dtype=torch.float64)
    log_probs_by_mode = {
        "consistent": torch.log_softmax(logits, -1),
        "independent": torch.log_softmax(logits.flip(0), -1),
    }
    flagged = torch.tensor([False, False, True, False, False])
    pyplot_figures = plt.get_fignums()
    panel = dropout.score_spread_panel(log_probs_by_mode, [0], [1, 2, 3, 4], flagged)
    k = panel.controls["k"]
    assert (k.min, k.max, k.value, k.continuous_update) == (2, 8, 8, False)
    fig = panel.figure
    assert len(fig.axes) == 4 and "K = 8" in fig.axes[0].get_ylabel()
    table = capsys.readouterr().out
    assert table.count("consistent") == 2 and table.count("independent") == 2

    k.value = 3
    fig = panel.figure
    assert plt.get_fignums() == pyplot_figures  # drawn on figures pyplot does not track
    assert "K = 3" in fig.axes[2].get_ylabel()
    scores = dropout.repeated_candidate_scores(log_probs_by_mode["consistent"][:, :, :3], [0])
    order = [int(t.get_text()) for t in fig.axes[2].get_xticklabels()]
    line = fig.axes[2].get_lines()[0].get_ydata()
    assert list(line) == pytest.approx(scores["batchbald"][0, order].tolist())


def test_label_candidates_labels_flagged_then_priority_then_every_mth():
    _, ax = plt.subplots(figsize=(5, 3))
    order = list(range(100, 160))  # 60 three-digit labels: far too many to show all
    flagged = np.zeros(160, dtype=bool)
    flagged[[110, 111]] = True  # adjacent: only the first fits
    shown = dropout.label_candidates(ax, order, flagged, priority=[33, 34])
    assert 10 in shown and 11 not in shown  # positions of 110 and 111
    assert 33 in shown and 34 not in shown  # the first priority fits, its neighbour does not
    gaps = np.diff(shown)
    assert gaps.min() > 1 and len(shown) >= 6  # thinned, not emptied
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert texts[10] == "110" and texts[11] == "" and texts[33] == "133"
    assert all(t.get_fontsize() >= 8 for t in ax.get_xticklabels())
    assert ax.get_xticklabels()[11].get_color() == REPEAT_COLOUR  # flagged, even unlabelled
    plt.close("all")
