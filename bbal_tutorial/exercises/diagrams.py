"""Exercises of notebook 01: predictive entropy, BALD, the joint entropy of two points."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from bbal_tutorial import information
from bbal_tutorial.exercises._checks import (
    ATOL,
    _as_float,
    _call,
    _certain,
    _check_vector,
    _fmt,
    _h,
    _log_probs,
    _MismatchError,
    _random_log_probs,
    _report,
)


def _entropy_of_sum(entropy: torch.Tensor | float, K: int) -> torch.Tensor | float:
    """``-sum_c K p_c log(K p_c)``, the "entropy" of the K samples' probabilities summed instead of
    averaged: ``K · (H - log K)``, from the entropy H of the mean (``sum_c p_c = 1``)."""
    return K * (entropy - math.log(K))


def _entropy_variants(log_probs_N_K_C: torch.Tensor) -> dict[str, torch.Tensor]:
    """Common wrong versions of ``H[y]``, each with the hint that explains it."""
    lp = log_probs_N_K_C.double()
    K = lp.shape[1]
    entropy_N = information.entropy(lp)
    conditional_N = information.conditional_entropy(lp)
    return {
        "this is the mean of the K samples' entropies, E_w H[y|w]: average the probabilities "
        "over the K samples first, p(y|x) = 1/K sum_k p(y|x,w_k), then take one entropy": (
            conditional_N
        ),
        "off by log K: the log-probabilities of the mean need logsumexp over K minus log K "
        "(logsumexp alone is the log of the sum, not of the mean)": entropy_N - math.log(K),
        "forgot the mean over K: summing the K probabilities gives a 'distribution' that sums to "
        "K; divide by K (subtract log K after logsumexp, or use .mean(dim=1) on probabilities)": (
            _entropy_of_sum(entropy_N, K)
        ),
        "these are bits: use the natural log (nats), not log2": entropy_N / math.log(2),
        "wrong sign: entropy is -sum p log p, which is never negative": -entropy_N,
        "this is the entropy of the first sample only: average over all K samples": (
            information.entropy(lp[:, :1])
        ),
    }


def _bald_variants(log_probs_N_K_C: torch.Tensor) -> dict[str, torch.Tensor]:
    """Common wrong versions of BALD, ``I[y;w] = H[y] - E_w H[y|w]``, with their hints."""
    lp = log_probs_N_K_C.double()
    K = lp.shape[1]
    entropy_N = information.entropy(lp)
    conditional_N = information.conditional_entropy(lp)
    return {
        "wrong sign: BALD is H[y] - E_w H[y|w] (entropy of the mean minus mean of the "
        "entropies), which is never negative": conditional_N - entropy_N,
        "this is the predictive entropy H[y] alone (max-entropy acquisition): subtract the "
        "expected conditional entropy E_w H[y|w]": entropy_N,
        "this is the expected conditional entropy E_w H[y|w] alone: BALD is "
        "H[y] - E_w H[y|w]": conditional_N,
        "the second term sums the K samples' entropies: E_w H[y|w] is their mean "
        "(divide by K)": entropy_N - K * conditional_N,
        "off by log K: H[y] needs the log of the mean probability, logsumexp over K "
        "minus log K": entropy_N - math.log(K) - conditional_N,
        "forgot the mean over K in H[y]: the predictive distribution is the mean, not the sum, "
        "of the K samples' probabilities": _entropy_of_sum(entropy_N, K) - conditional_N,
        "these are bits: use the natural log (nats), not log2": (entropy_N - conditional_N)
        / math.log(2),
    }


def _joint_variants(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """Common wrong versions of the exact ``H[y1, y2]``, with their hints."""
    lp = log_probs_2_K_C.double()
    K = lp.shape[1]
    joint = float(information.joint_entropy_exact(lp))
    return {
        "this is H[y1] + H[y2]: adding the entropies treats the two labels as independent, but "
        "they are coupled through w; use p(y1, y2) = 1/K sum_k p(y1|w_k) p(y2|w_k)": float(
            information.entropy(lp).sum()
        ),
        "this is E_w H[y1, y2 | w] (the entropy inside the mean over the K samples): mix the K "
        "samples' joint probabilities first, then take one entropy": float(
            information.conditional_entropy(lp).sum()
        ),
        "off by log K: log p(y1, y2) is logsumexp over K minus log K": joint - math.log(K),
        "forgot the mean over K: the joint probabilities must sum to 1 over the C x C "
        "configurations (divide the sum over the K samples by K)": _entropy_of_sum(joint, K),
        "these are bits: use the natural log (nats), not log2": joint / math.log(2),
    }


def _per_point_cases() -> list[tuple[str, torch.Tensor, list[str]]]:
    """(name, log_probs_N_K_C, a description of every point): hand-made pools, then random ones."""
    return [
        (
            "hand-made pool, K = 2 samples, C = 2 classes",
            _log_probs(
                [
                    [[1.0, 0.0], [0.0, 1.0]],
                    [[0.9, 0.1], [0.5, 0.5]],
                    [[1.0, 0.0], [1.0, 0.0]],
                    [[0.5, 0.5], [0.5, 0.5]],
                ]
            ),
            [
                "samples certain of different classes, p = (1, 0) and (0, 1)",
                "p = (0.9, 0.1) and (0.5, 0.5)",
                "both samples certain of class 0",
                "both samples uniform, p = (0.5, 0.5)",
            ],
        ),
        (
            "hand-made pool, K = 3 samples, C = 4 classes",
            _log_probs(
                [
                    [[0.25] * 4] * 3,
                    [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]],
                ]
            ),
            ["all three samples uniform over 4 classes", "each sample certain of its own class"],
        ),
        (
            "one sample only, K = 1, C = 3",
            _log_probs([[[0.2, 0.3, 0.5]], [[1.0, 0.0, 0.0]]]),
            ["p = (0.2, 0.3, 0.5)", "p = (1, 0, 0)"],
        ),
    ]


def _random_case(seed: int) -> tuple[str, torch.Tensor, list[str]]:
    log_probs = _random_log_probs(6, 5, 3, seed)
    name = "random pool (float32 like predict_log_probs' output), N = 6, K = 5, C = 3"
    return name, log_probs, [f"random point {n}" for n in range(6)]


def check_predictive_entropy(
    fn: Callable[[torch.Tensor], torch.Tensor], *, strict: bool = False
) -> bool | None:
    """Check ``fn(log_probs_N_K_C) -> entropies_N``: ``H[y] = -sum_c p(c|x) log p(c|x)`` with
    ``p(c|x) = 1/K sum_k p(c|x,w_k)``, float64, nats.

    Known answers: hand-derived (log 2, H(0.7, 0.3), 0, log 2; log 4, log 3; H(0.2, 0.3, 0.5), 0)
    and :func:`bbal_tutorial.information.entropy` on random pools.
    """
    hand = [
        [math.log(2), _h(0.7, 0.3), 0.0, math.log(2)],
        [math.log(4), math.log(3)],
        [_h(0.2, 0.3, 0.5), 0.0],
    ]

    def run() -> str:
        cases = _per_point_cases()
        expected = [torch.tensor(values, dtype=torch.float64) for values in hand]
        for seed in (0, 1):
            case = _random_case(seed)
            cases.append(case)
            expected.append(information.entropy(case[1]))
        for (name, log_probs, descriptions), expected_N in zip(cases, expected, strict=True):
            got = _call(fn, log_probs.clone(), context=f"on the {name}")
            try:
                _check_vector(
                    got,
                    expected_N,
                    log_probs,
                    descriptions,
                    _entropy_variants(log_probs),
                    "entropy",
                )
            except _MismatchError as mismatch:
                raise _MismatchError(f"{mismatch} [{name}]") from None
        return "H[y] matches on hand-made pools (zero probabilities, K = 1) and random ones"

    return _report("predictive entropy", run, strict)


def check_bald(fn: Callable[[torch.Tensor], torch.Tensor], *, strict: bool = False) -> bool | None:
    """Check ``fn(log_probs_N_K_C) -> scores_N``: BALD ``I[y;w] = H[y] - E_w H[y|w]``, float64.

    Known answers: hand-derived (log 2 for certain, disagreeing samples; 0 for agreeing samples,
    however uncertain; 0 for K = 1; ...) and
    :func:`bbal_tutorial.information.mutual_information` on random pools.
    """
    hand = [
        [math.log(2), _h(0.7, 0.3) - (_h(0.9, 0.1) + math.log(2)) / 2, 0.0, 0.0],
        [0.0, math.log(3)],
        [0.0, 0.0],
    ]

    def run() -> str:
        cases = _per_point_cases()
        expected = [torch.tensor(values, dtype=torch.float64) for values in hand]
        for seed in (2, 3):
            case = _random_case(seed)
            cases.append(case)
            expected.append(information.mutual_information(case[1]))
        for (name, log_probs, descriptions), expected_N in zip(cases, expected, strict=True):
            got = _call(fn, log_probs.clone(), context=f"on the {name}")
            try:
                _check_vector(
                    got, expected_N, log_probs, descriptions, _bald_variants(log_probs), "score"
                )
            except _MismatchError as mismatch:
                raise _MismatchError(f"{mismatch} [{name}]") from None
        return "BALD matches on hand-made pools (zero probabilities, K = 1) and random ones"

    return _report("BALD", run, strict)


def _joint_cases() -> list[tuple[str, torch.Tensor, float]]:
    """(description, log_probs_2_K_C, hand-derived H[y1, y2])."""
    split = [0, 0, 1, 1]  # x1: the first two of K = 4 certain samples say 0, the others 1
    return [
        (
            "a point and its copy (K = 4 certain samples, labels 0 0 1 1 for both)",
            torch.stack([_certain(split, 2), _certain(split, 2)]),
            math.log(2),
        ),
        (
            "opposite labels (0 0 1 1 and 1 1 0 0)",
            torch.stack([_certain(split, 2), _certain([1, 1, 0, 0], 2)]),
            math.log(2),
        ),
        (
            "independent splits (0 0 1 1 and 0 1 0 1)",
            torch.stack([_certain(split, 2), _certain([0, 1, 0, 1], 2)]),
            math.log(4),
        ),
        (
            "K = 3 samples, all uniform over C = 3 classes",
            _log_probs([[[1 / 3] * 3] * 3] * 2),
            2 * math.log(3),
        ),
        (
            "K = 1: p(y1) = (0.9, 0.1), p(y2) = (0.5, 0.5)",
            _log_probs([[[0.9, 0.1]], [[0.5, 0.5]]]),
            _h(0.9, 0.1) + math.log(2),
        ),
    ]


def check_joint_entropy_two_points(
    fn: Callable[[torch.Tensor], float | torch.Tensor], *, strict: bool = False
) -> bool | None:
    """Check ``fn(log_probs_2_K_C) -> float``: the exact joint entropy of two points' labels,
    ``H[y1, y2] = -sum_{a,b} p(a, b) log p(a, b)`` with
    ``p(y1=a, y2=b) = 1/K sum_k p(y1=a|w_k) p(y2=b|w_k)``.

    Known answers: hand-derived (a copy pair: log 2; independent splits: log 4; uniform samples:
    2 log C; K = 1: the sum of the two entropies) and
    :func:`bbal_tutorial.information.joint_entropy_exact` on random pairs.
    """

    def run() -> str:
        cases = _joint_cases()
        for seed in (4, 5):
            log_probs = _random_log_probs(2, 5, 4, seed)
            cases.append(
                (
                    f"a random pair (float32, K = 5, C = 4, seed {seed})",
                    log_probs,
                    float(information.joint_entropy_exact(log_probs)),
                )
            )
        for name, log_probs, expected in cases:
            got = _as_float(_call(fn, log_probs.clone(), context=f"on {name}"), "H[y1, y2]")
            if math.isnan(got):
                raise _MismatchError(
                    f"NaN for {name}: configurations with probability 0 must contribute "
                    "0 · log 0 = 0 (torch.special.entr, or skip p = 0)"
                )
            if abs(got - expected) <= ATOL:
                continue
            for hint, variant in _joint_variants(log_probs).items():
                if abs(got - variant) <= ATOL:
                    raise _MismatchError(f"{hint} [{name}]")
            raise _MismatchError(f"{name}: expected {_fmt(expected)} nats, got {_fmt(got)}")
        return "H[y1, y2] matches for copies, opposite and independent labels, and random pairs"

    return _report("joint entropy of two points", run, strict)
