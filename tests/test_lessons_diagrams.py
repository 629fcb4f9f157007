"""Tests for bbal_tutorial.lessons.diagrams (notebook 01, one point): the hand-made samples behave
as the notebook claims, the figures draw the information quantities, the panel redraws."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.lessons import diagrams


def test_peaked_probs_puts_confidence_on_the_favourite_and_spreads_the_rest():
    probs_K_C = diagrams.peaked_probs([0, 2, 1], [0.7, 0.5, 1.0], num_classes=3)
    np.testing.assert_allclose(
        probs_K_C.numpy(), [[0.7, 0.15, 0.15], [0.25, 0.25, 0.5], [0.0, 1.0, 0.0]]
    )
    assert probs_K_C.dtype == torch.float64


def test_peaked_probs_with_confidence_one_over_c_is_uniform():
    np.testing.assert_allclose(diagrams.peaked_probs([1, 3], 0.25, num_classes=4).numpy(), 0.25)
    assert diagrams.peaked_probs([0, 0], 0.3, num_classes=1).tolist() == [[1.0], [1.0]]


@pytest.mark.parametrize(
    "favourites, confidence, match",
    [([0, 3], 0.9, "favourite"), ([0, 1], 1.5, r"\[0, 1\]"), ([0, 1], [0.9] * 3, "1 or K = 2")],
)
def test_peaked_probs_rejects_bad_arguments(favourites, confidence, match):
    with pytest.raises(ValueError, match=match):
        diagrams.peaked_probs(favourites, confidence, num_classes=3)


@pytest.mark.parametrize("confidence", [1 / 3, 0.6, 0.9, 1.0])
def test_no_disagreement_means_no_bald(confidence):
    log_probs_K_C = diagrams.sample_predictions_log_probs(
        5, 3, disagreement=0.0, confidence=confidence
    )
    assert torch.equal(log_probs_K_C, log_probs_K_C[:1].expand(5, 3))  # identical samples
    assert abs(float(info.mutual_information(log_probs_K_C[None])[0])) < 1e-12


@pytest.mark.parametrize("disagreement", [0.0, 0.5, 1.0])
def test_unsure_samples_carry_only_aleatoric_uncertainty(disagreement):
    """confidence = 1/C: every sample is uniform, so H[y] = E_w H[y|w] = log C and BALD = 0."""
    lp = diagrams.sample_predictions_log_probs(4, 3, disagreement=disagreement, confidence=1 / 3)
    regions = info.two_variable_regions(lp)
    assert regions["H[y|w]"] == pytest.approx(math.log(3))
    assert regions["I[y;w]"] == pytest.approx(0.0, abs=1e-12)


def test_certain_disagreeing_samples_make_bald_equal_the_entropy():
    """K = 4, C = 3, favourites 0, 1, 2, 0: p(y) = (1/2, 1/4, 1/4) and every sample is certain."""
    lp = diagrams.sample_predictions_log_probs(4, 3, disagreement=1.0, confidence=1.0)
    regions = info.two_variable_regions(lp)
    assert regions["H[y|w]"] == pytest.approx(0.0, abs=1e-12)
    assert regions["I[y;w]"] == pytest.approx(1.5 * math.log(2))
    assert regions["H[w]"] == pytest.approx(math.log(4))


def test_bald_grows_with_disagreement():
    scores = [
        float(
            info.mutual_information(
                diagrams.sample_predictions_log_probs(4, 3, disagreement=d, confidence=0.9)[None]
            )[0]
        )
        for d in np.linspace(0, 1, 11)
    ]
    assert scores[0] == pytest.approx(0.0, abs=1e-12)
    assert all(b > a for a, b in zip(scores, scores[1:], strict=False))


def test_sample_predictions_match_the_formula_with_per_sample_confidence():
    lp = diagrams.sample_predictions_log_probs(
        3, 3, disagreement=0.25, confidence=[0.9, 0.6, 1.0], favourites=[2, 1, 0]
    )
    shared = np.array([[0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [1.0, 0.0, 0.0]])
    own = np.array([[0.05, 0.05, 0.9], [0.2, 0.6, 0.2], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(lp.exp().numpy(), 0.75 * shared + 0.25 * own, atol=1e-15)
    info.check_log_probs(lp[None])  # normalised, zeros as -inf


def test_sample_predictions_reject_bad_arguments():
    with pytest.raises(ValueError, match="disagreement"):
        diagrams.sample_predictions_log_probs(disagreement=1.5)
    with pytest.raises(ValueError, match="num_samples"):
        diagrams.sample_predictions_log_probs(0)


def polygon_area(patch):
    """Area enclosed by a patch's path (shoelace over its flattened polygons), in data units."""
    area = 0.0
    # a whole circle is a Circle patch: a unit path scaled by its patch transform
    path = patch.get_patch_transform().transform_path(patch.get_path())
    for xy in path.to_polygons():
        x, y = xy[:, 0], xy[:, 1]
        area += 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return area


def all_text(ax_or_fig):
    return "\n".join(t.get_text() for t in ax_or_fig.findobj(plt.Text))


def test_info_math_uses_the_blog_notation():
    assert diagrams.info_math("I[y1;w|y2]") == r"$\mathbb{I}(y_1;\boldsymbol{\omega}|y_2)$"
    assert diagrams.info_math("H[y]") == r"$\mathbb{H}(y)$"


def test_bald_venn_areas_are_the_information_quantities():
    log_probs_K_C = diagrams.sample_predictions_log_probs(4, 3, disagreement=0.5, confidence=0.9)
    regions = info.two_variable_regions(log_probs_K_C)
    ax = diagrams.plot_bald_venn(log_probs_K_C)
    # matplotlib-venn adds the regions in the order y only, w only, overlap; drawn in nats
    areas = [polygon_area(p) for p in ax.patches]
    expected = [regions["H[y|w]"], regions["H[w|y]"], regions["I[y;w]"]]
    np.testing.assert_allclose(areas, expected, rtol=2e-3)
    text = all_text(ax)
    assert f"{regions['I[y;w]']:.2f} = {regions['H[y]']:.2f}" in ax.get_title()
    assert f"= {regions['H[w]']:.2f}" in text and f"= {math.log(4):.2f}" in text
    plt.close("all")


def test_bald_venn_without_disagreement_has_no_overlap():
    log_probs_K_C = diagrams.sample_predictions_log_probs(4, 3, disagreement=0.0, confidence=0.9)
    regions = info.two_variable_regions(log_probs_K_C)
    ax = diagrams.plot_bald_venn(log_probs_K_C)
    areas = sorted(polygon_area(p) for p in ax.patches)  # two disjoint circles
    np.testing.assert_allclose(areas, sorted([regions["H[y]"], math.log(4)]), rtol=2e-3)
    assert ax.get_title().endswith("0.00 = 0.39 $-$ 0.39")
    plt.close("all")


def test_sample_prediction_bars_are_the_probabilities_and_their_mean():
    log_probs_K_C = diagrams.sample_predictions_log_probs(3, 4, disagreement=1.0, confidence=0.7)
    axes = diagrams.plot_sample_predictions(log_probs_K_C)
    probs_K_C = log_probs_K_C.exp().numpy()
    assert len(axes) == 4
    for k, ax in enumerate(axes[:3]):
        np.testing.assert_allclose([p.get_height() for p in ax.patches], probs_K_C[k])
    np.testing.assert_allclose([p.get_height() for p in axes[3].patches], probs_K_C.mean(0))
    assert f"H = {info.entropy(log_probs_K_C[None]).item():.2f}" in axes[3].get_title()
    plt.close("all")


def figure_text(fig):
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def bald_of(**settings):
    log_probs_K_C = diagrams.sample_predictions_log_probs(**settings)
    return info.two_variable_regions(log_probs_K_C)


def test_bald_venn_panel_draws_once_and_redraws_when_a_slider_moves():
    pyplot_figures = plt.get_fignums()
    panel = diagrams.bald_venn_panel()
    assert all(not c.continuous_update for c in panel.controls.values())
    first = panel.figure
    regions = bald_of(num_samples=4, num_classes=3, disagreement=0.5, confidence=0.9)
    assert f"{regions['I[y;w]']:.2f} = {regions['H[y]']:.2f}" in figure_text(first)

    panel.controls["disagreement"].value = 1.0
    panel.controls["confidence"].value = 1.0
    fig = panel.figure
    assert fig is not first
    assert plt.get_fignums() == pyplot_figures  # drawn on figures pyplot does not track
    regions = bald_of(num_samples=4, num_classes=3, disagreement=1.0, confidence=1.0)
    assert regions["I[y;w]"] == pytest.approx(1.04, abs=5e-3)
    assert "1.04 = 1.04 $-$ 0.00" in figure_text(fig)


def test_bald_venn_panel_follows_the_number_of_samples():
    panel = diagrams.bald_venn_panel()
    panel.controls["num_samples"].value = 6
    text = figure_text(panel.figure)
    assert "K = 6 samples" in text
    assert r"$\boldsymbol{\omega}_{6}$" in text
    assert "= 1.79" in text  # H[w] = log 6


def test_bald_venn_panel_redraw_returns_the_figure():
    panel = diagrams.bald_venn_panel(disagreement=0.0)
    fig = panel.redraw()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert "0.00 = 0.39 $-$ 0.39" in figure_text(fig)
