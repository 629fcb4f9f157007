"""Exercise of notebook 07: EPIG of one pool point for one target point."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from bbal_tutorial import information
from bbal_tutorial.exercises._checks import (
    ATOL,
    FLOAT64_ATOL,
    _as_float,
    _call,
    _certain,
    _fmt,
    _h,
    _log_probs,
    _MismatchError,
    _random_log_probs,
    _report,
)


def _plain_epig(log_probs_K_C: torch.Tensor, target_log_probs_K_C: torch.Tensor) -> float:
    """``H[y] + H[y*] - H[y, y*]`` in float64, straight from the inputs (no renormalisation):
    what a correct float64 solution computes, to ~1e-15."""
    pair_2_K_C = torch.stack([log_probs_K_C, target_log_probs_K_C]).double()
    entropies = information.entropy(pair_2_K_C, check=False)
    return float(entropies.sum() - information.joint_entropy_exact(pair_2_K_C))


def _epig_variants(
    log_probs_K_C: torch.Tensor, target_log_probs_K_C: torch.Tensor
) -> dict[str, float]:
    """Common wrong versions of ``I[y; y*] = H[y] + H[y*] - H[y, y*]``, with their hints."""
    pair_2_K_C = torch.stack([log_probs_K_C, target_log_probs_K_C]).double()
    K = pair_2_K_C.shape[1]
    h_y, h_target = information.entropy(pair_2_K_C, check=False).tolist()
    joint = float(information.joint_entropy_exact(pair_2_K_C))
    bald_y, bald_target = information.mutual_information(pair_2_K_C, check=False).tolist()
    epig = h_y + h_target - joint
    return {
        "forgot H[y*]: I[y; y*] = H[y] + H[y*] - H[y, y*] (the target's entropy is part of the "
        "mutual information, although it is the same for every pool point)": h_y - joint,
        "forgot H[y]: I[y; y*] = H[y] + H[y*] - H[y, y*]": h_target - joint,
        "wrong sign: I[y; y*] = H[y] + H[y*] - H[y, y*], which is never negative": -epig,
        "this is BALD of the pool point, I[y; w]: EPIG asks what y tells about the target's "
        "label y*, not about w; use the joint p(y, y*)": bald_y,
        "this is 0, what the joint p(y) p(y*) of the two marginals gives: y and y* are coupled "
        "through w, so mix first, p(y, y*) = 1/K sum_k p(y|x,w_k) p(y*|x*,w_k), then take one "
        "entropy": 0.0,
        "this is I[y; w] + I[y*; w], what E_w H[y, y*|w] (the entropy inside the mean over the "
        "K samples) gives for the joint: mix the K samples' joint probabilities first, then take "
        "one entropy": bald_y + bald_target,
        "off by log K: log p(y, y*) is logsumexp over K minus log K (the mean, not the sum, of "
        "the K samples' products)": epig + math.log(K),
        "off by log K: every log p here is the log of a mean over the K samples, logsumexp over "
        "K minus log K (the marginals' and the joint's alike)": epig - math.log(K),
        "forgot the mean over K in the joint: p(y, y*) must sum to 1 over the C x C label pairs "
        "(divide the sum over the K samples by K)": h_y + h_target - K * (joint - math.log(K)),
        "these are bits: use the natural log (nats), not log2": epig / math.log(2),
    }


def _epig_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    """(description, log_probs_K_C of x, log_probs_K_C of x*, hand-derived EPIG)."""
    split = [0, 0, 1, 1]  # K = 4 certain samples: the first two say 0, the others 1
    return [
        (
            "x* splits the K = 4 certain samples like x (labels 0 0 1 1 for both)",
            _certain(split, 2),
            _certain(split, 2),
            math.log(2),
        ),
        (
            "x* splits them the opposite way (0 0 1 1 and 1 1 0 0)",
            _certain(split, 2),
            _certain([1, 1, 0, 0], 2),
            math.log(2),
        ),
        (
            "independent splits (0 0 1 1 and 0 1 0 1): BALD of x is log 2, EPIG 0",
            _certain(split, 2),
            _certain([0, 1, 0, 1], 2),
            0.0,
        ),
        (
            "K = 3 samples, all uniform over C = 3 classes",
            _log_probs([[1 / 3] * 3] * 3),
            _log_probs([[1 / 3] * 3] * 3),
            0.0,
        ),
        (
            "K = 1: p(y) = (0.9, 0.1), p(y*) = (0.5, 0.5)",
            _log_probs([[0.9, 0.1]]),
            _log_probs([[0.5, 0.5]]),
            0.0,
        ),
        (
            "x certain of its class under 2 of K = 3 samples, x* 0.9-sure like x",
            _log_probs([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
            _log_probs([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]),
            # y determines which group of samples; then y* is 0.9-sure: H[y*] - H[y*|y]
            _h(2 / 3 * 0.9 + 1 / 3 * 0.1, 2 / 3 * 0.1 + 1 / 3 * 0.9) - _h(0.9, 0.1),
        ),
    ]


def _answer(
    fn: Callable[[torch.Tensor, torch.Tensor], float | torch.Tensor],
    case: tuple[str, torch.Tensor, torch.Tensor, float],
) -> float:
    """The student's answer to one case, as a float (a hint if it cannot be one)."""
    name, log_probs_K_C, target_log_probs_K_C, _ = case
    got = _call(fn, log_probs_K_C.clone(), target_log_probs_K_C.clone(), context=f"on {name}")
    return _as_float(got, "the EPIG of one pool point for one target")


def check_epig_two_points(
    fn: Callable[[torch.Tensor, torch.Tensor], float | torch.Tensor], *, strict: bool = False
) -> bool | None:
    """Check ``fn(log_probs_K_C, target_log_probs_K_C) -> float``: the EPIG of one pool point x
    for one target x*, ``I[y; y*] = H[y] + H[y*] - H[y, y*]`` in nats, computed in float64, with
    ``p(y = c, y* = d) = 1/K sum_k p(y = c | x, w_k) p(y* = d | x*, w_k)`` and ``0 log 0 = 0``.

    Known answers: hand-derived (the same split of the samples: log 2; independent splits: 0,
    whatever BALD says; K = 1: 0; ...) and :func:`bbal_tutorial.information.epig` on random pairs,
    float32 (as models return them) and float64. A float64 solution agrees with those to
    :data:`~bbal_tutorial.exercises._checks.FLOAT64_ATOL`; one computed (partly) in float32 and
    cast at the end misses them by ~1e-8 and gets the float64 hint.
    """

    def run() -> str:
        cases = _epig_cases()
        for seed, dtype in ((6, torch.float32), (7, torch.float32), (8, torch.float64)):
            log_probs_2_K_C = _random_log_probs(2, 5, 4, seed).to(dtype)
            core = float(information.epig(log_probs_2_K_C[:1], log_probs_2_K_C[1:])[0])
            cases.append(
                (
                    f"a random pair ({str(dtype).removeprefix('torch.')}, K = 5, C = 4, "
                    f"seed {seed})",
                    log_probs_2_K_C[0],
                    log_probs_2_K_C[1],
                    core,
                )
            )
        answers = [_answer(fn, case) for case in cases]  # the student's answer to each case
        for (name, log_probs_K_C, target_log_probs_K_C, expected), got in zip(
            cases, answers, strict=True
        ):
            if math.isnan(got):
                raise _MismatchError(
                    f"NaN for {name}: label pairs with probability 0 must contribute "
                    "0 · log 0 = 0 (torch.special.entr, or skip p = 0)"
                )
            # information.epig renormalises float32 rows in float64; a float64 solution that
            # does not is right too (they differ by ~1e-8 on float32 inputs)
            plain = _plain_epig(log_probs_K_C, target_log_probs_K_C)
            error = min(abs(got - expected), abs(got - plain))
            if error <= FLOAT64_ATOL:
                continue
            if error <= ATOL:
                raise _MismatchError(
                    f"{name}: off by {error:.1e}, right to float32 precision, but float64 "
                    f"arithmetic agrees to {FLOAT64_ATOL:g}. Compute in float64 throughout: call "
                    ".double() on the log-probabilities before exp, log or mean (casting the "
                    "result at the end is too late), and add no epsilon inside the log"
                )
            # a wrong formula can agree with the right one on a hand-made case (a copy's split
            # makes several of them 0): name the one that explains every answer
            for hint in _epig_variants(cases[0][1], cases[0][2]):
                if all(
                    abs(answer - _epig_variants(case[1], case[2])[hint]) <= ATOL
                    for case, answer in zip(cases, answers, strict=True)
                ):
                    raise _MismatchError(f"{hint} [{name}]")
            raise _MismatchError(f"{name}: expected {_fmt(expected)} nats, got {_fmt(got)}")
        return (
            "I[y; y*] matches for the same, opposite and independent splits, K = 1, and random "
            "pairs (float32 and float64) against information.epig"
        )

    return _report("EPIG of two points", run, strict)
