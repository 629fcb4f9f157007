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


def greedy_pairwise(log_probs_N_K_C, chosen):
    """The pairwise approximation: I[y_n; w] - sum_c I[y_c; y_n], exact for one chosen point."""
    lp = log_probs_N_K_C.double()
    entropy_N = torch.special.entr(lp.exp().mean(dim=1)).sum(dim=1)
    bald_N = entropy_N - expected_conditional_entropy(lp)

    def overlap(c, n):
        return float(entropy_N[c] + entropy_N[n]) - _joint_entropy(lp[[c, n]])

    scores = {
        n: float(bald_N[n]) - sum(overlap(c, n) for c in chosen)
        for n in range(lp.shape[0])
        if n not in chosen
    }
    return max(scores, key=scores.get)


def greedy_candidate_position(log_probs_N_K_C, chosen):
    """Scores only the candidates and returns the argmax's position among them."""
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    candidates = [n for n in range(log_probs_N_K_C.shape[0]) if n not in chosen]
    scores = [
        _joint_entropy(log_probs_N_K_C[[*chosen, n]]) - float(conditional_N[[*chosen, n]].sum())
        for n in candidates
    ]
    return int(torch.tensor(scores).argmax())


GREEDY_WRONG = [
    (greedy_by_bald, "best individual BALD score"),
    (greedy_max_joint_entropy, "largest joint entropy"),
    (greedy_including_chosen, "already chosen"),
    (greedy_last_of_ties, "lowest index"),
    (lambda lp, chosen: [batchbald_greedy_step(lp, chosen)], "return one pool index"),
    (greedy_pairwise, "not the single scores minus the pairwise overlaps"),
    (greedy_candidate_position, "a position in the list of candidates"),
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


def test_cases_separate_the_pairwise_approximation():
    """Some cases with 2 and with 3 chosen points have the pairwise approximation pick another
    point than the joint score, by clear margins under both scores, and that pick is neither the
    best BALD score nor the largest joint entropy (so its hint is not pre-empted)."""
    separating = set()
    for name, log_probs, chosen in ex_duplicates._greedy_cases():
        gains = ex_duplicates._greedy_gains(log_probs, chosen)
        pairwise = ex_duplicates._pairwise_scores(log_probs, chosen)
        expected = max(gains, key=gains.get)
        by_pairwise = max(pairwise, key=pairwise.get)
        if len(chosen) <= 1:  # exact: I[y_c, y_n; w] = I[y_c; w] + I[y_n; w] - I[y_c; y_n]
            assert by_pairwise == expected, (name, chosen)
            continue
        if by_pairwise == expected:
            continue
        assert gains[expected] - gains[by_pairwise] > 1e-3, (name, chosen)
        assert pairwise[by_pairwise] - pairwise[expected] > 1e-3, (name, chosen)
        bald_N = information.mutual_information(log_probs)
        assert by_pairwise != max(gains, key=lambda n: float(bald_N[n])), (name, chosen)
        separating.add(len(chosen))
    assert separating == {2, 3}


def test_pairwise_hint_names_higher_order_terms(capsys):
    assert exercises.check_batchbald_greedy_step(greedy_pairwise) is False
    out = capsys.readouterr().out
    assert "pairwise approximation" in out and "higher-order terms" in out, out


def test_candidate_position_hint_blames_the_index_not_bald(capsys):
    """The position-returning step's first wrong pick coincides with the best BALD score; the
    hint still names positions vs pool indices."""
    assert exercises.check_batchbald_greedy_step(greedy_candidate_position) is False
    out = capsys.readouterr().out
    assert "position in the list of candidates" in out and "not a pool index" in out, out
    assert "individual BALD score" not in out, out
