"""Exercise of notebook 02: one greedy step of BatchBALD."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import torch

from bbal_tutorial import information
from bbal_tutorial.exercises._checks import (
    _call,
    _certain,
    _fmt,
    _MismatchError,
    _random_log_probs,
    _report,
)


def _greedy_gains(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> dict[int, float]:
    """``I[y_chosen, y_n; w]`` for every candidate n not in ``chosen``, exactly (float64)."""
    lp = log_probs_N_K_C.double()
    return {
        n: information.batch_mutual_information(lp[[*chosen, n]])
        for n in range(lp.shape[0])
        if n not in chosen
    }


def _argmax_lowest(values: dict[int, float], tolerance: float = 1e-10) -> int:
    best = max(values.values())
    return min(n for n, v in values.items() if v >= best - tolerance)


def _pairwise_scores(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> dict[int, float]:
    """The pairwise approximation ``I[y_n; w] - sum_{c in chosen} I[y_c; y_n]`` of BatchBALD's
    greedy gain, for every candidate n not in ``chosen`` (exact for at most one chosen point)."""
    lp = log_probs_N_K_C.double()
    bald_N = information.mutual_information(lp)
    entropy_N = information.entropy(lp)

    def overlap(c: int, n: int) -> float:  # I[y_c; y_n] = H[y_c] + H[y_n] - H[y_c, y_n]
        return float(entropy_N[c] + entropy_N[n] - information.joint_entropy_exact(lp[[c, n]]))

    return {
        n: float(bald_N[n]) - sum(overlap(c, n) for c in chosen)
        for n in range(lp.shape[0])
        if n not in chosen
    }


def _candidates(num_points: int, chosen: Sequence[int]) -> list[int]:
    """The pool indices not in ``chosen``, in order."""
    return [n for n in range(num_points) if n not in chosen]


def _greedy_cases() -> list[tuple[str, torch.Tensor, list[int]]]:
    """(description, log_probs_N_K_C, chosen): hand-made and random pools."""
    split, other = [0, 0, 1, 1], [0, 1, 0, 1]
    noise = torch.full((4, 2), 0.5, dtype=torch.float64).log()  # uniform: H = log 2, BALD = 0
    hand = torch.stack([_certain(split, 2), noise, _certain(split, 2), _certain(other, 2)])
    description = (
        "hand-made pool (K = 4, C = 2): 0 = a point, 1 = pure noise, 2 = a copy of 0, "
        "3 = independent of 0"
    )
    tie = torch.stack([_certain([0, 0, 0, 1], 2), _certain(other, 2), _certain(other, 2)])
    cases = [
        (description, hand, []),
        (description, hand, [0]),
        (description, hand, [2]),
        ("a tie (points 1 and 2 are identical and best)", tie, []),
    ]
    # Seeds 41 and 57 (2 and 3 chosen points): the pairwise approximation (_pairwise_scores)
    # picks another point than the joint score, by clear margins under both scores, and its pick
    # is neither the best BALD score nor the largest joint entropy (found by a seeded search).
    for seed, chosen in [
        (6, []),
        (7, [2]),
        (8, [2, 4]),
        (9, [0, 3, 5]),
        (10, [5, 1]),
        (41, [4, 3]),
        (57, [4, 2, 3]),
    ]:
        cases.append(
            (
                f"random pool (float32, N = 6, K = 5, C = 3, seed {seed})",
                _random_log_probs(6, 5, 3, seed, 2.0),
                chosen,
            )
        )
    # Little disagreement: a second label of the chosen point 4 would gain more than any other
    # point (the duplicate-pick surprise of notebook 02), so a step that forgets to exclude the
    # chosen points returns 4.
    cases.append(
        (
            "random pool with little disagreement (float32, N = 6, K = 5, C = 3, seed 29)",
            _random_log_probs(6, 5, 3, 29, 0.3),
            [4],
        )
    )
    return cases


def _pool_index(got: object) -> int:
    """The student's pick as an int; a hint for anything that is not one index."""
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    try:
        return operator.index(got)
    except TypeError:
        raise _MismatchError(
            f"returned a {type(got).__name__}; return one pool index, an int"
        ) from None


def _diagnose(
    index: int, expected: int, log_probs: torch.Tensor, chosen: list[int], name: str
) -> _MismatchError:
    """The :class:`_MismatchError` whose hint names what is off in the wrong pick ``index``."""
    gains = _greedy_gains(log_probs, chosen)
    where = f"[{name}, chosen = {chosen}]"
    if index in chosen:
        return _MismatchError(f"returned {index}, which is already chosen {where}")
    if not 0 <= index < log_probs.shape[0]:
        return _MismatchError(f"returned {index}, not a pool index 0..{log_probs.shape[0] - 1}")
    if abs(gains[index] - gains[expected]) <= 1e-10:
        return _MismatchError(
            f"candidates {expected} and {index} tie; return the lowest index "
            f"(torch.argmax returns the first maximum) {where}"
        )
    bald = information.mutual_information(log_probs)
    if chosen and index == _argmax_lowest({n: float(bald[n]) for n in gains}):
        return _MismatchError(
            f"returned {index}, the best individual BALD score: the next pick must "
            f"maximise the joint score I[y_chosen, y_n; w], which sees what the chosen "
            f"points already tell about w (expected {expected}) {where}"
        )
    if len(chosen) >= 2 and index == _argmax_lowest(_pairwise_scores(log_probs, chosen)):
        return _MismatchError(
            f"returned {index}, the pick of the pairwise approximation "
            f"I[y_n; w] - sum_c I[y_c; y_n]: once 2 or more points are chosen, the joint score is "
            f"not the single scores minus the pairwise overlaps. The gain is "
            f"I[y_n; w] - I[y_n; y_chosen], and I[y_n; y_chosen] != sum_c I[y_n; y_c] "
            f"(higher-order terms: what several chosen labels share with y_n is counted more "
            f"than once, what they tell only jointly is missed). Compute "
            f"I[y_chosen, y_n; w] = H[y_chosen, y_n] - sum_j E_w H[y_j|w] with the "
            f"joint entropy of all chosen points and n together (expected {expected}) {where}"
        )
    joint = {n: float(information.joint_entropy_exact(log_probs[[*chosen, n]])) for n in gains}
    if index == _argmax_lowest(joint):
        return _MismatchError(
            f"returned {index}, the largest joint entropy H[y_chosen, y_n]: subtract the "
            f"candidate's expected conditional entropy E_w H[y_n|w] (noise is not "
            f"information; expected {expected}) {where}"
        )
    return _MismatchError(
        f"returned {index} (score {_fmt(gains[index])} nats), expected {expected} "
        f"(score {_fmt(gains[expected])} nats) {where}"
    )


def check_batchbald_greedy_step(
    fn: Callable[[torch.Tensor, list[int]], int], *, strict: bool = False
) -> bool | None:
    """Check ``fn(log_probs_N_K_C, chosen) -> int``: the candidate n not in ``chosen`` that
    maximises ``I[y_chosen, y_n; w] = H[y_chosen, y_n] - sum_{j in chosen + [n]} E_w H[y_j|w]``
    (joint entropies exact; ties go to the lowest index), returned as its index in the pool.

    Known answers: every candidate's score computed with
    :func:`bbal_tutorial.information.joint_entropy_exact`, on a hand-made pool (a point, pure
    noise, a copy, an independent point), a tie, and random pools with 0 to 3 chosen points,
    among them pools where the pairwise approximation ``I[y_n; w] - sum_c I[y_c; y_n]`` picks
    another point. The function runs on every case before the first wrong pick is diagnosed, so
    that returning positions in the list of candidates (instead of pool indices) is recognised
    as such even where a position happens to coincide with another mistake's pick.
    """

    def run() -> str:
        picks = []
        for name, log_probs, chosen in _greedy_cases():
            got = _call(fn, log_probs.clone(), list(chosen), context=f"on the {name}")
            index = _pool_index(got)
            expected = _argmax_lowest(_greedy_gains(log_probs, chosen))
            picks.append((name, log_probs, list(chosen), index, expected))
        wrong = [pick for pick in picks if pick[3] != pick[4]]
        if not wrong:
            return (
                "the next pick matches on a pool with a copy and noise, a tie and random pools "
                "(where the pairwise approximation differs, too)"
            )
        name, log_probs, chosen, index, expected = wrong[0]
        if all(
            index_ == _candidates(log_probs_.shape[0], chosen_).index(expected_)
            for _, log_probs_, chosen_, index_, expected_ in picks
        ):
            candidates = _candidates(log_probs.shape[0], chosen)
            raise _MismatchError(
                f"returned {index}, a position in the list of candidates {candidates} (the points "
                f"not chosen), not a pool index: return the pool index of the best candidate, "
                f"candidates[{index}] = {expected} [{name}, chosen = {chosen}]"
            )
        raise _diagnose(index, expected, log_probs, chosen, name)

    return _report("BatchBALD greedy step", run, strict)
