"""Tests for bbal_tutorial.exercises.duplicates (notebook 02): the greedy-step check passes a
reference solution and fails, with the right hint, on realistic wrong ones."""

import math

import pytest
import torch

from bbal_tutorial import exercises, information
from bbal_tutorial.exercises import duplicates as ex_duplicates


def expected_conditional_entropy(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.double().exp()).sum(dim=2).mean(dim=1)


def _joint_entropy(log_probs_n_K_C):
    """Exact joint entropy of n points by enumerating configurations (test helper)."""
    probs_n_K_C = log_probs_n_K_C.double().exp()
    K = probs_n_K_C.shape[1]
    joint_K_M = torch.ones(K, 1, dtype=torch.float64)
    for probs_K_C in probs_n_K_C:
        joint_K_M = (joint_K_M[:, :, None] * probs_K_C[:, None, :]).reshape(K, -1)
    return float(torch.special.entr(joint_K_M.mean(dim=0)).sum())


def batchbald_greedy_step(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    best, best_score = None, -math.inf
    for n in range(log_probs_N_K_C.shape[0]):
        if n in chosen:
            continue
        batch = [*chosen, n]
        score = _joint_entropy(log_probs_N_K_C[batch]) - float(conditional_N[batch].sum())
        if score > best_score + 1e-12:
            best, best_score = n, score
    return best


def greedy_by_bald(log_probs_N_K_C, chosen):
    scores_N = information.mutual_information(log_probs_N_K_C)
    scores_N[list(chosen)] = -math.inf
    return int(scores_N.argmax())


def greedy_max_joint_entropy(log_probs_N_K_C, chosen):
    scores = {
        n: _joint_entropy(log_probs_N_K_C[[*chosen, n]])
        for n in range(log_probs_N_K_C.shape[0])
        if n not in chosen
    }
    return max(scores, key=scores.get)


def greedy_including_chosen(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    scores = [
        _joint_entropy(log_probs_N_K_C[[*chosen, n]]) - float(conditional_N[[*chosen, n]].sum())
        for n in range(log_probs_N_K_C.shape[0])
    ]
    return max(range(len(scores)), key=scores.__getitem__)


def greedy_last_of_ties(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    best, best_score = None, -math.inf
    for n in range(log_probs_N_K_C.shape[0]):
        if n in chosen:
            continue
        score = _joint_entropy(log_probs_N_K_C[[*chosen, n]]) - float(
            conditional_N[[*chosen, n]].sum()
        )
        if score >= best_score - 1e-12:
            best, best_score = n, score
    return best


GREEDY_WRONG = [
    (greedy_by_bald, "best individual BALD score"),
    (greedy_max_joint_entropy, "largest joint entropy"),
    (greedy_including_chosen, "already chosen"),
    (greedy_last_of_ties, "lowest index"),
    (lambda lp, chosen: [batchbald_greedy_step(lp, chosen)], "return one pool index"),
]


def test_reference_solution_passes(exercise_check):
    exercise_check.passes(exercises.check_batchbald_greedy_step, batchbald_greedy_step)


@pytest.mark.parametrize("wrong, hint", GREEDY_WRONG, ids=[w.__name__ for w, _ in GREEDY_WRONG])
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_batchbald_greedy_step, wrong, hint)


def test_greedy_cases_have_clear_winners():
    """Apart from the deliberate tie of identical points, the best candidate of every greedy case
    beats the runner-up by far more than rounding, so any correct float64 solution agrees."""
    for name, log_probs, chosen in ex_duplicates._greedy_cases():
        gains = sorted(ex_duplicates._greedy_gains(log_probs, chosen).values(), reverse=True)
        if "tie" in name or "hand-made" in name:  # exact ties of 0/1 and 0.5 probabilities only
            assert gains[0] == gains[1] or gains[0] - gains[1] > 0.5
        else:
            assert gains[0] - gains[1] > 1e-3, (name, chosen, gains[:2])
