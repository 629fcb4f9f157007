"""Tests for bbal_tutorial.exercises.diagrams (notebook 01): each check passes a reference solution
and fails, with the right hint, on realistic wrong ones. The reference solutions are written
independently of the package's code."""

import math

import pytest
import torch

from bbal_tutorial import exercises, information
from bbal_tutorial.exercises import _checks as ex_checks
from bbal_tutorial.exercises import diagrams as ex_diagrams


def predictive_entropy(log_probs_N_K_C):
    probs_N_C = log_probs_N_K_C.double().exp().mean(dim=1)
    return torch.special.entr(probs_N_C).sum(dim=1)


def expected_conditional_entropy(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.double().exp()).sum(dim=2).mean(dim=1)


def bald(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C) - expected_conditional_entropy(log_probs_N_K_C)


def joint_entropy_two_points(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return float(torch.special.entr(joint_C_C).sum())


def entropy_of_mean_log(log_probs_N_K_C):  # forgot 0 log 0: NaN for zero probabilities
    probs_N_C = log_probs_N_K_C.double().exp().mean(dim=1)
    return -(probs_N_C * probs_N_C.log()).sum(dim=1)


def entropy_without_log_k(log_probs_N_K_C):  # logsumexp without - log K in the log
    lp = log_probs_N_K_C.double()
    probs_N_C = lp.exp().mean(dim=1)
    p_log_p_N_C = torch.where(probs_N_C > 0, probs_N_C * torch.logsumexp(lp, dim=1), 0.0)
    return -p_log_p_N_C.sum(dim=1)


def entropy_summed_over_k(log_probs_N_K_C):  # forgot the mean over K
    return torch.special.entr(log_probs_N_K_C.double().exp().sum(dim=1)).sum(dim=1)


def entropy_float32(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.float().exp().mean(dim=1)).sum(dim=1)


def entropy_float32_then_cast(log_probs_N_K_C):  # right dtype, float32 digits
    return entropy_float32(log_probs_N_K_C).double()


def entropy_exp_in_float32(log_probs_N_K_C):  # .double() after exp: the probabilities lose digits
    return torch.special.entr(log_probs_N_K_C.float().exp().double().mean(dim=1)).sum(dim=1)


def entropy_wrong_shape(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.double().exp().mean(dim=1))


def entropy_mean_of_entropies(log_probs_N_K_C):
    return expected_conditional_entropy(log_probs_N_K_C)


def entropy_bits(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C) / math.log(2)


ENTROPY_WRONG = [
    (entropy_of_mean_log, "0 · log 0"),
    (entropy_without_log_k, "off by log K"),
    (entropy_summed_over_k, "forgot the mean over K"),
    (entropy_float32, "float64"),
    (entropy_float32_then_cast, "Compute in float64 throughout"),
    (entropy_exp_in_float32, "Compute in float64 throughout"),
    (entropy_wrong_shape, "shape"),
    (entropy_mean_of_entropies, "E_w H[y|w]"),
    (entropy_bits, "bits"),
]


def bald_sign_flipped(log_probs_N_K_C):
    return -bald(log_probs_N_K_C)


def bald_is_entropy(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C)


def bald_sum_over_k(log_probs_N_K_C):  # the second term summed over K instead of averaged
    K = log_probs_N_K_C.shape[1]
    return predictive_entropy(log_probs_N_K_C) - K * expected_conditional_entropy(log_probs_N_K_C)


def bald_off_by_log_k(log_probs_N_K_C):
    return entropy_without_log_k(log_probs_N_K_C) - expected_conditional_entropy(log_probs_N_K_C)


def bald_nan(log_probs_N_K_C):
    lp = log_probs_N_K_C.double()
    conditional_N = -(lp.exp() * lp).sum(dim=2).mean(dim=1)
    return predictive_entropy(lp) - conditional_N


def bald_float32_then_cast(log_probs_N_K_C):
    probs_N_K_C = log_probs_N_K_C.float().exp()
    entropy_N = torch.special.entr(probs_N_K_C.mean(dim=1)).sum(dim=1)
    return (entropy_N - torch.special.entr(probs_N_K_C).sum(dim=2).mean(dim=1)).double()


BALD_WRONG = [
    (bald_sign_flipped, "wrong sign"),
    (bald_is_entropy, "predictive entropy H[y] alone"),
    (bald_sum_over_k, "sums the K samples' entropies"),
    (bald_off_by_log_k, "off by log K"),
    (bald_nan, "NaN"),
    (lambda lp: bald(lp).float(), "float64"),
    (bald_float32_then_cast, "Compute in float64 throughout"),
    (lambda lp: bald(lp)[None], "shape"),
]


def joint_as_independent(log_probs_2_K_C):
    return float(predictive_entropy(log_probs_2_K_C).sum())


def joint_entropy_inside_mean(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_K_C_C = probs_2_K_C[0][:, :, None] * probs_2_K_C[1][:, None, :]
    return float(torch.special.entr(joint_K_C_C).sum(dim=(1, 2)).mean())


def joint_nan(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return float(-(joint_C_C * joint_C_C.log()).sum())


def joint_summed_over_k(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1])
    return float(torch.special.entr(joint_C_C).sum())


def joint_not_scalar(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return torch.special.entr(joint_C_C).sum(dim=1)


JOINT_WRONG = [
    (joint_as_independent, "H[y1] + H[y2]"),
    (joint_entropy_inside_mean, "E_w H[y1, y2 | w]"),
    (joint_nan, "NaN"),
    (joint_summed_over_k, "forgot the mean over K"),
    (joint_not_scalar, "one number"),
]


CHECKS = [
    (exercises.check_predictive_entropy, predictive_entropy, ENTROPY_WRONG),
    (exercises.check_bald, bald, BALD_WRONG),
    (exercises.check_joint_entropy_two_points, joint_entropy_two_points, JOINT_WRONG),
]


@pytest.mark.parametrize(
    "check, solution", [c[:2] for c in CHECKS], ids=[c[0].__name__ for c in CHECKS]
)
def test_reference_solution_passes(check, solution, exercise_check):
    exercise_check.passes(check, solution)


@pytest.mark.parametrize(
    "check, wrong, hint",
    [
        pytest.param(check, wrong, hint, id=f"{check.__name__}-{wrong.__name__}-{i}")
        for check, _, wrongs in CHECKS
        for i, (wrong, hint) in enumerate(wrongs)
    ],
)
def test_wrong_solution_fails_with_its_hint(check, wrong, hint, exercise_check):
    exercise_check.fails_with_hint(check, wrong, hint)


def test_hand_made_answers_agree_with_the_package():
    """The hand-derived known answers agree with the package's own tested functions."""
    for log_probs, expected in zip(
        [case[1] for case in ex_diagrams._per_point_cases()],
        [
            [math.log(2), 0.6108643020548935, 0.0, math.log(2)],
            [math.log(4), math.log(3)],
            [1.0296530140645737, 0.0],
        ],
        strict=True,
    ):
        assert torch.allclose(information.entropy(log_probs), torch.tensor(expected).double())
    for _, log_probs, expected in ex_diagrams._joint_cases():
        assert float(information.joint_entropy_exact(log_probs)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "reference, float32_version, expected",
    [
        (predictive_entropy, entropy_float32_then_cast, information.entropy),
        (bald, bald_float32_then_cast, information.mutual_information),
    ],
)
def test_float64_tolerance_separates_float32_from_float64(reference, float32_version, expected):
    """Every case's float64 reference is within FLOAT64_ATOL / 1000; the float32 computation is
    more than 10 · FLOAT64_ATOL off on every case with float32 inputs, and on the first case."""
    cases = ex_diagrams._per_point_cases() + [
        ex_diagrams._random_case(seed) for seed in (0, 1, 2, 3)
    ]
    for i, (name, log_probs, _) in enumerate(cases):
        expected_N = expected(log_probs)
        assert (reference(log_probs) - expected_N).abs().max() < ex_checks.FLOAT64_ATOL / 1000
        float32_error = float((float32_version(log_probs) - expected_N).abs().max())
        if i == 0 or log_probs.dtype == torch.float32:
            assert float32_error > 10 * ex_checks.FLOAT64_ATOL, (name, float32_error)
        assert float32_error <= ex_checks.ATOL, (name, float32_error)
