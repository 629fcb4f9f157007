"""Tests for bbal_tutorial.lessons.double_counting (notebook 01, two points): top-b BALD's sum
against BatchBALD as the notebook claims, the three-variable diagram, the figures and the panel."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from bbal_tutorial import information as info
from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.lessons import diagrams, double_counting

LOG_2 = math.log(2)


def np_entropy(p):
    p = np.asarray(p, dtype=np.float64).ravel()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def np_batch_information(log_probs_2_K_C):
    """Brute force: I[y1,y2;w] = H[y1,y2] - sum_i E_w H[y_i|w] with p(y1,y2) = mean_k p1 p2."""
    p_2_K_C = log_probs_2_K_C.exp().numpy()
    joint_C_C = np.einsum("kc,kd->cd", p_2_K_C[0], p_2_K_C[1]) / p_2_K_C.shape[1]
    cond = [np.mean([np_entropy(p) for p in p_2_K_C[i]]) for i in range(2)]
    bald = [np_entropy(p_2_K_C[i].mean(axis=0)) - cond[i] for i in range(2)]
    i_y1_y2 = np_entropy(joint_C_C.sum(1)) + np_entropy(joint_C_C.sum(0)) - np_entropy(joint_C_C)
    return bald, np_entropy(joint_C_C) - sum(cond), i_y1_y2


@pytest.mark.parametrize("shift", range(5))
@pytest.mark.parametrize("confidence", [0.7, 0.95, 1.0])
def test_batch_information_matches_brute_force(shift, confidence):
    lp = double_counting.two_points_log_probs(shift, confidence=confidence)
    bald, joint, i_y1_y2 = np_batch_information(lp)
    result = double_counting.batch_information(lp)
    assert result["I[y1;w]"] == pytest.approx(bald[0])
    assert result["I[y2;w]"] == pytest.approx(bald[1])
    assert result["I[y1,y2;w]"] == pytest.approx(joint)
    assert result["BALD sum"] == pytest.approx(sum(bald))
    # labels are independent given w, so the double-counted centre is I[y1;y2] >= 0
    assert result["double-counted"] == pytest.approx(i_y1_y2, abs=1e-12)
    assert result["double-counted"] >= -1e-12


@pytest.mark.parametrize("shift", range(5))
def test_double_counted_amount_is_the_co_information(shift):
    lp = double_counting.two_points_log_probs(shift)
    centre = info.three_variable_regions(lp)["I[y1;y2;w]"]
    assert double_counting.batch_information(lp)["double-counted"] == pytest.approx(
        centre, abs=1e-12
    )


def test_a_certain_copy_adds_nothing():
    lp = double_counting.two_points_log_probs(0, confidence=1.0)
    assert torch.equal(lp[0], lp[1])
    result = double_counting.batch_information(lp)
    assert result["I[y1;w]"] == pytest.approx(LOG_2)
    assert result["I[y1,y2;w]"] == pytest.approx(result["I[y1;w]"])
    assert result["double-counted"] == pytest.approx(result["I[y1;w]"])


def test_a_noisy_copy_adds_a_little():
    """Two labels of the same point are independent given w: the second is a second noisy look."""
    result = double_counting.batch_information(
        double_counting.two_points_log_probs(0, confidence=0.9)
    )
    assert result["I[y1;w]"] < result["I[y1,y2;w]"] < 0.75 * result["BALD sum"]


def test_independent_points_are_not_double_counted():
    result = double_counting.batch_information(
        double_counting.two_points_log_probs(2, confidence=1.0)
    )  # K/4 = 2
    assert result["I[y1;w]"] == pytest.approx(LOG_2)
    # the two splits cut the 8 samples into quarters: I[y1,y2;w] = log 4
    assert result["I[y1,y2;w]"] == pytest.approx(2 * LOG_2)
    assert result["double-counted"] == pytest.approx(0.0, abs=1e-12)


def test_opposite_labels_are_as_redundant_as_a_copy():
    copy = double_counting.batch_information(double_counting.two_points_log_probs(0))
    opposite = double_counting.batch_information(double_counting.two_points_log_probs(4))
    assert opposite["double-counted"] == pytest.approx(copy["double-counted"])


def test_each_points_bald_score_does_not_depend_on_the_shift():
    scores = [
        double_counting.batch_information(double_counting.two_points_log_probs(s))["I[y2;w]"]
        for s in range(9)
    ]
    np.testing.assert_allclose(scores, scores[0])


def test_the_gap_shrinks_as_the_points_become_independent():
    gaps = [
        double_counting.batch_information(double_counting.two_points_log_probs(s))["double-counted"]
        for s in range(3)
    ]
    assert gaps[0] > gaps[1] > gaps[2] == pytest.approx(0.0, abs=1e-12)


def test_two_points_reject_bad_arguments():
    with pytest.raises(ValueError, match="even"):
        double_counting.two_points_log_probs(0, num_samples=7)
    with pytest.raises(ValueError, match="shift"):
        double_counting.two_points_log_probs(9)


def test_batchbald_skips_the_copy_that_top_b_bald_takes():
    """Pool: x1, a copy of x1, and a point independent of x1 (all three have the same BALD)."""
    pool_N_K_C = torch.cat(
        [double_counting.two_points_log_probs(0), double_counting.two_points_log_probs(2)[1:]]
    )
    assert get_bald_batch(pool_N_K_C, 2).indices == [0, 1]
    assert get_batchbald_batch(pool_N_K_C, 2, seed=0).indices == [0, 2]


def test_parity_joint_has_a_negative_centre():
    probs = double_counting.parity_joint()
    assert probs.sum().item() == pytest.approx(1.0)
    regions = info.three_variable_regions_from_joint(probs, names=("y1", "y2", "w"))
    assert regions["I[y1;y2;w]"] == pytest.approx(-LOG_2)
    # each label alone says nothing about w, the pair says everything
    h_w = regions["H[w]"]
    i_y1_w = regions["I[y1;w|y2]"] + regions["I[y1;y2;w]"]
    i_pair_w = h_w - regions["H[w|y1,y2]"]
    assert i_y1_w == pytest.approx(0.0, abs=1e-12)
    assert i_pair_w == pytest.approx(LOG_2)


def test_batch_mutual_information_matches_bald_and_the_two_point_example(softmax_log_probs):
    log_probs_N_K_C = softmax_log_probs(3, 6, 3, seed=0)
    assert info.batch_mutual_information(log_probs_N_K_C[:0]) == 0.0
    assert info.batch_mutual_information(log_probs_N_K_C[:1]) == pytest.approx(
        float(info.mutual_information(log_probs_N_K_C[:1])[0]), abs=1e-12
    )
    pair = double_counting.batch_information(log_probs_N_K_C[:2])["I[y1,y2;w]"]
    assert info.batch_mutual_information(log_probs_N_K_C[:2]) == pytest.approx(pair, abs=1e-12)
    # I[y_1..y_n; w] <= H[w] = log K
    assert info.batch_mutual_information(log_probs_N_K_C) <= math.log(6) + 1e-12


def all_text(ax_or_fig):
    return "\n".join(t.get_text() for t in ax_or_fig.findobj(plt.Text))


def test_three_variable_labels_carry_signed_values_and_mark_negative_regions():
    regions = info.three_variable_regions_from_joint(
        double_counting.parity_joint(), names=("y1", "y2", "w")
    )
    ax = double_counting.plot_three_variable_diagram(regions)
    labels = {t.get_text().split("\n")[0]: t for t in ax.texts if "\n" in t.get_text()}
    centre = labels[diagrams.info_math("I[y1;y2;w]")]
    assert centre.get_text().endswith("-0.69")
    assert centre.get_color() == diagrams.INFO_COLOURS["negative"]
    assert labels[diagrams.info_math("I[y1;w|y2]")].get_text().endswith("+0.69")
    assert len(labels) == 7
    assert any(p.get_hatch() == "//" for p in ax.patches)  # only the negative centre
    assert sum(p.get_hatch() is not None for p in ax.patches) == 1
    assert "not to scale" in all_text(ax)
    with pytest.raises(ValueError, match="lacks"):
        double_counting.plot_three_variable_diagram({"I[y1;y2;w]": 0.1})
    plt.close("all")


def test_two_point_figure_highlights_the_double_counted_centre(monkeypatch):
    def no_show(*_, **__):
        raise AssertionError("plot functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    log_probs_2_K_C = double_counting.two_points_log_probs(1)
    result = double_counting.batch_information(log_probs_2_K_C)
    fig = double_counting.plot_two_point_venns(log_probs_2_K_C)
    assert isinstance(fig, Figure)
    bald_ax, batchbald_ax, bars_ax = fig.axes[1:4]
    assert bald_ax.get_title().endswith(f"= {result['BALD sum']:.2f}")
    assert batchbald_ax.get_title().endswith(f"= {result['I[y1,y2;w]']:.2f}")
    centre = diagrams.info_math("I[y1;y2;w]")
    assert f"{centre}\n+{result['double-counted']:.2f}  (×2)" in all_text(bald_ax)
    assert "×2" not in all_text(batchbald_ax)
    heights = [p.get_height() for p in bars_ax.patches]
    expected = [result["I[y1;w]"], result["I[y2;w]"], result["I[y1,y2;w]"]]
    np.testing.assert_allclose(heights[:3], expected)
    np.testing.assert_allclose(heights[3], result["double-counted"])  # the hatched top
    assert bars_ax.patches[3].get_hatch() == "xx"
    plt.close("all")


def test_two_point_figure_for_independent_points_has_no_gap():
    fig = double_counting.plot_two_point_venns(double_counting.two_points_log_probs(2))
    bars_ax = fig.axes[3]
    assert bars_ax.get_title() == "double-counted: 0.00 nats"
    assert len(bars_ax.patches) == 3  # no hatched part
    plt.close("all")


def test_two_point_predictions_show_each_samples_label():
    ax = double_counting.plot_two_point_predictions(
        double_counting.two_points_log_probs(2, confidence=0.9)
    )
    cells = [t.get_text() for t in ax.texts]
    assert cells[:8] == ["1\n0.90"] * 4 + ["0\n0.90"] * 4  # x1: the first half votes 1
    assert cells[8:10] == ["0\n0.90"] * 2  # x2: the split rotated by 2
    assert torch.is_tensor(double_counting.two_points_log_probs(2))
    plt.close("all")


def test_two_point_panel_shows_the_gap_appear_and_disappear():
    pyplot_figures = plt.get_fignums()
    panel = double_counting.two_point_panel()
    shift = panel.controls["shift"]
    assert (shift.min, shift.max, shift.continuous_update) == (0, 4, False)
    gaps = {}
    for value in [2, 1, 0]:
        shift.value = value
        title = panel.figure.axes[3].get_title()
        gaps[value] = float(title.split(": ")[1].split()[0])
    expected = {
        s: double_counting.batch_information(double_counting.two_points_log_probs(s))[
            "double-counted"
        ]
        for s in gaps
    }
    assert gaps == pytest.approx(expected, abs=5e-3)
    assert gaps[2] == 0.0 and gaps[0] == pytest.approx(0.69, abs=5e-3)
    assert plt.get_fignums() == pyplot_figures  # drawn on figures pyplot does not track
