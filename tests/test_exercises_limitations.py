"""Tests for bbal_tutorial.exercises.limitations (notebook 07): the EPIG check passes reference
solutions and fails, with the right hint, on realistic wrong ones. The reference solutions are
written independently of the package's code."""

import math

import pytest
import torch

from bbal_tutorial import exercises, information
from bbal_tutorial.exercises import limitations as ex_limitations


def _entropy(probs):
    return torch.special.entr(probs).sum()


def _probs(log_probs_K_C, target_log_probs_K_C, dtype=torch.float64):
    return log_probs_K_C.to(dtype).exp(), target_log_probs_K_C.to(dtype).exp()


def epig_two_points(log_probs_K_C, target_log_probs_K_C):
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_C_C = p_K_C.T @ q_K_C / p_K_C.shape[0]  # 1/K sum_k p(y=c|w_k) p(y*=d|w_k)
    return float(_entropy(p_K_C.mean(0)) + _entropy(q_K_C.mean(0)) - _entropy(joint_C_C))


def epig_log_space(log_probs_K_C, target_log_probs_K_C):
    """Another right answer: log space throughout, the rows renormalised in float64 first."""
    lp = torch.log_softmax(log_probs_K_C.double(), dim=1)
    lq = torch.log_softmax(target_log_probs_K_C.double(), dim=1)
    K = lp.shape[0]
    log_joint_C_C = torch.logsumexp(lp[:, :, None] + lq[:, None, :], dim=0) - math.log(K)

    def h(log_p):
        return float(torch.where(torch.isneginf(log_p), 0.0, -log_p.exp() * log_p).sum())

    return (
        h(torch.logsumexp(lp, 0) - math.log(K))
        + h(torch.logsumexp(lq, 0) - math.log(K))
        - h(log_joint_C_C)
    )


def epig_as_tensor(log_probs_K_C, target_log_probs_K_C):  # a 0-d tensor is fine
    return torch.tensor(epig_two_points(log_probs_K_C, target_log_probs_K_C), dtype=torch.float64)


def epig_float32_then_cast(log_probs_K_C, target_log_probs_K_C):
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C, torch.float32)
    joint_C_C = p_K_C.T @ q_K_C / p_K_C.shape[0]
    epig = _entropy(p_K_C.mean(0)) + _entropy(q_K_C.mean(0)) - _entropy(joint_C_C)
    return float(epig.double())


def epig_without_target_entropy(log_probs_K_C, target_log_probs_K_C):
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_C_C = p_K_C.T @ q_K_C / p_K_C.shape[0]
    return float(_entropy(p_K_C.mean(0)) - _entropy(joint_C_C))


def epig_independent_joint(log_probs_K_C, target_log_probs_K_C):  # p(y) p(y*): always 0
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_C_C = torch.outer(p_K_C.mean(0), q_K_C.mean(0))
    return float(_entropy(p_K_C.mean(0)) + _entropy(q_K_C.mean(0)) - _entropy(joint_C_C))


def epig_entropy_inside_mean(log_probs_K_C, target_log_probs_K_C):  # E_w H[y, y*|w]
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_K_C_C = p_K_C[:, :, None] * q_K_C[:, None, :]
    conditional = torch.special.entr(joint_K_C_C).sum(dim=(1, 2)).mean()
    return float(_entropy(p_K_C.mean(0)) + _entropy(q_K_C.mean(0)) - conditional)


def epig_is_bald(log_probs_K_C, target_log_probs_K_C):
    p_K_C, _ = _probs(log_probs_K_C, target_log_probs_K_C)
    return float(_entropy(p_K_C.mean(0)) - torch.special.entr(p_K_C).sum(1).mean())


def epig_joint_summed_over_k(log_probs_K_C, target_log_probs_K_C):
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_C_C = p_K_C.T @ q_K_C
    return float(_entropy(p_K_C.mean(0)) + _entropy(q_K_C.mean(0)) - _entropy(joint_C_C))


def epig_nan(log_probs_K_C, target_log_probs_K_C):  # forgot 0 log 0
    p_K_C, q_K_C = _probs(log_probs_K_C, target_log_probs_K_C)
    joint_C_C = p_K_C.T @ q_K_C / p_K_C.shape[0]

    def h(p):
        return -(p * p.log()).sum()

    return float(h(p_K_C.mean(0)) + h(q_K_C.mean(0)) - h(joint_C_C))


def epig_sign_flipped(log_probs_K_C, target_log_probs_K_C):
    return -epig_two_points(log_probs_K_C, target_log_probs_K_C)


def epig_bits(log_probs_K_C, target_log_probs_K_C):
    return epig_two_points(log_probs_K_C, target_log_probs_K_C) / math.log(2)


def epig_log_without_mean(log_probs_K_C, target_log_probs_K_C):  # logsumexp, no - log K
    K = log_probs_K_C.shape[0]
    return epig_two_points(log_probs_K_C, target_log_probs_K_C) + math.log(K)


def epig_per_class(log_probs_K_C, target_log_probs_K_C):
    p_K_C, _ = _probs(log_probs_K_C, target_log_probs_K_C)
    return torch.special.entr(p_K_C.mean(0))


def epig_raises(log_probs_K_C, target_log_probs_K_C):
    raise IndexError("index 2 is out of bounds")


def test_reference_solutions_pass(exercise_check):
    for solution in (epig_two_points, epig_log_space, epig_as_tensor):
        exercise_check.passes(exercises.check_epig_two_points, solution)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (epig_float32_then_cast, "Compute in float64 throughout"),
        (epig_without_target_entropy, "forgot H[y*]"),
        (epig_independent_joint, "p(y) p(y*)"),
        (epig_entropy_inside_mean, "E_w H[y, y*|w]"),
        (epig_is_bald, "this is BALD"),
        (epig_joint_summed_over_k, "forgot the mean over K"),
        (epig_nan, "NaN"),
        (epig_sign_flipped, "wrong sign"),
        (epig_bits, "bits"),
        (epig_log_without_mean, "off by log K"),
        (epig_per_class, "one number"),
        (epig_raises, "raised IndexError"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_epig_two_points, wrong, hint)


def test_hand_made_answers_agree_with_the_package():
    """Every hand-derived EPIG is what information.epig gives for the pair."""
    for name, log_probs_K_C, target_log_probs_K_C, expected in ex_limitations._epig_cases():
        got = information.epig(log_probs_K_C[None], target_log_probs_K_C[None])
        assert float(got[0]) == pytest.approx(expected, abs=1e-12), name


def test_an_unfinished_exercise_propagates_not_implemented_error():
    def stub(log_probs_K_C, target_log_probs_K_C):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        exercises.check_epig_two_points(stub)
