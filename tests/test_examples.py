"""Tests for bbal_tutorial.examples: the hand-made examples behave as the notebooks claim."""

import math

import numpy as np
import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.lessons import diagrams

LOG_2 = math.log(2)


def np_entropy(p):
    p = np.asarray(p, dtype=np.float64).ravel()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# --------------------------------------------------------------------------------------------------
# peaked_probs


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


# --------------------------------------------------------------------------------------------------
# one point: disagreement and confidence


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
    assert regions["I[y;w]"] == pytest.approx(np_entropy([0.5, 0.25, 0.25]))
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


# --------------------------------------------------------------------------------------------------
# two points: BALD's sum against BatchBALD


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
    lp = diagrams.two_points_log_probs(shift, confidence=confidence)
    bald, joint, i_y1_y2 = np_batch_information(lp)
    result = diagrams.batch_information(lp)
    assert result["I[y1;w]"] == pytest.approx(bald[0])
    assert result["I[y2;w]"] == pytest.approx(bald[1])
    assert result["I[y1,y2;w]"] == pytest.approx(joint)
    assert result["BALD sum"] == pytest.approx(sum(bald))
    # labels are independent given w, so the double-counted centre is I[y1;y2] >= 0
    assert result["double-counted"] == pytest.approx(i_y1_y2, abs=1e-12)
    assert result["double-counted"] >= -1e-12


@pytest.mark.parametrize("shift", range(5))
def test_double_counted_amount_is_the_co_information(shift):
    lp = diagrams.two_points_log_probs(shift)
    centre = info.three_variable_regions(lp)["I[y1;y2;w]"]
    assert diagrams.batch_information(lp)["double-counted"] == pytest.approx(centre, abs=1e-12)


def test_a_certain_copy_adds_nothing():
    lp = diagrams.two_points_log_probs(0, confidence=1.0)
    assert torch.equal(lp[0], lp[1])
    result = diagrams.batch_information(lp)
    assert result["I[y1;w]"] == pytest.approx(LOG_2)
    assert result["I[y1,y2;w]"] == pytest.approx(result["I[y1;w]"])
    assert result["double-counted"] == pytest.approx(result["I[y1;w]"])


def test_a_noisy_copy_adds_a_little():
    """Two labels of the same point are independent given w: the second is a second noisy look."""
    result = diagrams.batch_information(diagrams.two_points_log_probs(0, confidence=0.9))
    assert result["I[y1;w]"] < result["I[y1,y2;w]"] < 0.75 * result["BALD sum"]


def test_independent_points_are_not_double_counted():
    result = diagrams.batch_information(diagrams.two_points_log_probs(2, confidence=1.0))  # K/4 = 2
    assert result["I[y1;w]"] == pytest.approx(LOG_2)
    # the two splits cut the 8 samples into quarters: I[y1,y2;w] = log 4
    assert result["I[y1,y2;w]"] == pytest.approx(2 * LOG_2)
    assert result["double-counted"] == pytest.approx(0.0, abs=1e-12)


def test_opposite_labels_are_as_redundant_as_a_copy():
    copy = diagrams.batch_information(diagrams.two_points_log_probs(0))
    opposite = diagrams.batch_information(diagrams.two_points_log_probs(4))
    assert opposite["double-counted"] == pytest.approx(copy["double-counted"])


def test_each_points_bald_score_does_not_depend_on_the_shift():
    scores = [
        diagrams.batch_information(diagrams.two_points_log_probs(s))["I[y2;w]"] for s in range(9)
    ]
    np.testing.assert_allclose(scores, scores[0])


def test_the_gap_shrinks_as_the_points_become_independent():
    gaps = [
        diagrams.batch_information(diagrams.two_points_log_probs(s))["double-counted"]
        for s in range(3)
    ]
    assert gaps[0] > gaps[1] > gaps[2] == pytest.approx(0.0, abs=1e-12)


def test_two_points_reject_bad_arguments():
    with pytest.raises(ValueError, match="even"):
        diagrams.two_points_log_probs(0, num_samples=7)
    with pytest.raises(ValueError, match="shift"):
        diagrams.two_points_log_probs(9)


def test_batchbald_skips_the_copy_that_top_b_bald_takes():
    """Pool: x1, a copy of x1, and a point independent of x1 (all three have the same BALD)."""
    pool_N_K_C = torch.cat([diagrams.two_points_log_probs(0), diagrams.two_points_log_probs(2)[1:]])
    assert get_bald_batch(pool_N_K_C, 2).indices == [0, 1]
    assert get_batchbald_batch(pool_N_K_C, 2, seed=0).indices == [0, 2]


# --------------------------------------------------------------------------------------------------
# a negative centre


def test_parity_joint_has_a_negative_centre():
    probs = diagrams.parity_joint()
    assert probs.sum().item() == pytest.approx(1.0)
    regions = info.three_variable_regions_from_joint(probs, names=("y1", "y2", "w"))
    assert regions["I[y1;y2;w]"] == pytest.approx(-LOG_2)
    # each label alone says nothing about w, the pair says everything
    h_w = regions["H[w]"]
    i_y1_w = regions["I[y1;w|y2]"] + regions["I[y1;y2;w]"]
    i_pair_w = h_w - regions["H[w|y1,y2]"]
    assert i_y1_w == pytest.approx(0.0, abs=1e-12)
    assert i_pair_w == pytest.approx(LOG_2)
