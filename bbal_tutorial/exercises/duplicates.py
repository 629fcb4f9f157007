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
    for seed, chosen in [(6, []), (7, [2]), (8, [2, 4]), (9, [0, 3, 5]), (10, [5, 1])]:
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


def check_batchbald_greedy_step(
    fn: Callable[[torch.Tensor, list[int]], int], *, strict: bool = False
) -> bool | None:
    """Check ``fn(log_probs_N_K_C, chosen) -> int``: the candidate n not in ``chosen`` that
    maximises ``I[y_chosen, y_n; w] = H[y_chosen, y_n] - sum_{j in chosen + [n]} E_w H[y_j|w]``
    (joint entropies exact; ties go to the lowest index).

    Known answers: every candidate's score computed with
    :func:`bbal_tutorial.information.joint_entropy_exact`, on a hand-made pool (a point, pure
    noise, a copy, an independent point), a tie, and random pools with 0 to 3 chosen points.
    """

    def run() -> str:
        for name, log_probs, chosen in _greedy_cases():
            got = _call(fn, log_probs.clone(), list(chosen), context=f"on the {name}")
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = got.item()
            try:
                index = operator.index(got)
            except TypeError:
                raise _MismatchError(
                    f"returned a {type(got).__name__}; return one pool index, an int"
                ) from None
            gains = _greedy_gains(log_probs, chosen)
            expected = _argmax_lowest(gains)
            where = f"[{name}, chosen = {chosen}]"
            if index == expected:
                continue
            if index in chosen:
                raise _MismatchError(f"returned {index}, which is already chosen {where}")
            if not 0 <= index < log_probs.shape[0]:
                raise _MismatchError(
                    f"returned {index}, not a pool index 0..{log_probs.shape[0] - 1}"
                )
            bald = information.mutual_information(log_probs)
            by_bald = _argmax_lowest({n: float(bald[n]) for n in gains})
            joint = {
                n: float(information.joint_entropy_exact(log_probs[[*chosen, n]])) for n in gains
            }
            if abs(gains[index] - gains[expected]) <= 1e-10:
                raise _MismatchError(
                    f"candidates {expected} and {index} tie; return the lowest index "
                    f"(torch.argmax returns the first maximum) {where}"
                )
            if chosen and index == by_bald:
                raise _MismatchError(
                    f"returned {index}, the best individual BALD score: the next pick must "
                    f"maximise the joint score I[y_chosen, y_n; w], which sees what the chosen "
                    f"points already tell about w (expected {expected}) {where}"
                )
            if index == _argmax_lowest(joint):
                raise _MismatchError(
                    f"returned {index}, the largest joint entropy H[y_chosen, y_n]: subtract the "
                    f"candidate's expected conditional entropy E_w H[y_n|w] (noise is not "
                    f"information; expected {expected}) {where}"
                )
            raise _MismatchError(
                f"returned {index} (score {_fmt(gains[index])} nats), expected {expected} "
                f"(score {_fmt(gains[expected])} nats) {where}"
            )
        return "the next pick matches on a pool with a copy and noise, a tie and random pools"

    return _report("BatchBALD greedy step", run, strict)
