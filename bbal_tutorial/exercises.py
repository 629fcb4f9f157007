"""Checks for the notebook exercises.

Every ``check_*`` function runs the student's function (or answer) on cases whose answers are known
independently of it -- worked out by hand, or computed by this package's own tested functions
(:mod:`bbal_tutorial.information`) -- and prints one line: ``✓ ...`` when everything matches, or
``✗ ...`` with a hint that names what is off (wrong shape, not float64, NaN where a probability
is 0, off by log K, the mean over K forgotten, ...). It returns ``True`` or ``False``.

**Plain-assert form** (nbgrader grade cells, hidden tests): every check takes ``strict=True``, and
then a failure raises ``AssertionError`` carrying the hint instead of returning ``False``, and a
success returns ``None`` (after the ``✓`` line)::

    check_bald(bald, strict=True)          # prints the ✓ line, or raises AssertionError

Returning None matters in a grade cell: nbgrader reads a value the cell's last line displays as
partial credit (and warns that it cannot read ``True`` as a score), while a cell that displays
nothing and raises nothing gets full points.

**Unfinished exercises.** A ``NotImplementedError`` raised by the student's function (nbgrader's
student version raises it until the exercise is done) is not caught: it propagates, so the check
cell fails with it. A multiple-choice answer that is still ``None`` raises it too. Any other
exception raised by the student's function is reported as a hint with its type and message.

**Multiple-choice questions** ("interpret this figure") live in the registry :data:`QUESTIONS`,
keyed ``"<notebook>-<topic>"`` (e.g. ``"02-log-k-ceiling"``), and are checked with
:func:`check_choice`. A notebook registers its questions by appending lines to the end of this
module::

    QUESTIONS["04-bald-below-random"] = Question(
        prompt="...", options={"a": "...", "b": "..."}, correct="b",
        hints={"a": "why a is wrong", "b": "why b is right"},
    )

Exercises and the checks they use:

=================================== =========================================================
``check_predictive_entropy(fn)``    ``fn(log_probs_N_K_C) -> entropies_N`` (float64, nats)
``check_bald(fn)``                  ``fn(log_probs_N_K_C) -> scores_N`` (float64, nats)
``check_joint_entropy_two_points``  ``fn(log_probs_2_K_C) -> float``, exact ``H[y1, y2]``
``check_batchbald_greedy_step(fn)`` ``fn(log_probs_N_K_C, chosen) -> int``, BatchBALD's next pick
``check_consistent_masks(fn)``      ``fn(num_features, k, p, generator) -> dropout``, where
                                    ``dropout(h_B_F) -> h_B_K_F`` reuses the same k masks
``check_power_acquisition(fn)``     ``fn(scores_N, batch_size, coldness, generator) -> list[int]``
``check_labels_to_reach(fn)``       ``fn(labels, accuracies, target) -> int | None``
``check_acquired_label_entropy``    ``fn(labels, num_classes) -> float`` (nats)
``check_choice(question, answer)``  a multiple-choice answer, ``"a"``, ``"b"``, ...
=================================== =========================================================
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from bbal_tutorial import information

__all__ = [
    "QUESTIONS",
    "Question",
    "check_acquired_label_entropy",
    "check_bald",
    "check_batchbald_greedy_step",
    "check_choice",
    "check_consistent_masks",
    "check_joint_entropy_two_points",
    "check_labels_to_reach",
    "check_power_acquisition",
    "check_predictive_entropy",
]

#: Absolute tolerance (nats) when comparing entropies and scores with the known answers: float64
#: arithmetic on float32 inputs agrees to ~1e-12; a float32 computation to ~1e-7.
ATOL = 1e-6

#: :func:`check_power_acquisition` draws this many batches per coldness and compares the
#: frequency of each first pick with its probability.
POWER_DRAWS = 2_000

#: ... and accepts a frequency within this many standard errors, ``sqrt(p (1 - p) / draws)``, of
#: the probability ``p`` (a correct sampler fails one of the 18 comparisons with probability
#: about 1e-5; the wrong samplers the check names are off by more than 10 standard errors).
POWER_Z = 5.0


# --------------------------------------------------------------------------------------------------
# reporting


class _MismatchError(Exception):
    """The student's answer differs from the known one; the message is the hint."""


def _report(name: str, run: Callable[[], str], strict: bool) -> bool | None:
    """Run the cases of one check and print ``✓ name: ...`` or ``✗ name: hint``.

    Returns True or False; with ``strict``, None on success (see the module docstring) and
    ``AssertionError`` on failure.
    """
    try:
        success = run()
    except _MismatchError as mismatch:
        message = f"✗ {name}: {mismatch}"
        if strict:
            raise AssertionError(message) from None
        print(message)
        return False
    print(f"✓ {name}: {success}")
    return None if strict else True


def _call(fn: Callable[..., Any], *args: Any, context: str = "") -> Any:
    """Call the student's function; its exceptions become hints (NotImplementedError propagates)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # the student's code failed: say how, as a hint
        where = f" {context}" if context else ""
        raise _MismatchError(
            f"your function raised {type(error).__name__}{where}: {error} "
            "(call it yourself on the same input to see the traceback)"
        ) from error


def _fmt(value: float) -> str:
    return f"{value:.6g}"


# --------------------------------------------------------------------------------------------------
# small hand-made inputs and independent reference variants


def _log_probs(probs: Sequence) -> torch.Tensor:
    """log of a nested list of probabilities, float64; ``log 0 = -inf``."""
    return torch.tensor(probs, dtype=torch.float64).log()


def _certain(labels_K: Sequence[int], num_classes: int) -> torch.Tensor:
    """``log_probs_K_C`` of K samples, each certain of its own label (``-inf`` elsewhere)."""
    probs_K_C = torch.zeros(len(labels_K), num_classes, dtype=torch.float64)
    probs_K_C[torch.arange(len(labels_K)), torch.tensor(labels_K)] = 1.0
    return probs_K_C.log()


def _h(*probs: float) -> float:
    """Entropy (nats) of a hand-written distribution, ``0 log 0 = 0``."""
    return -sum(p * math.log(p) for p in probs if p > 0)


def _random_log_probs(N: int, K: int, C: int, seed: int, sharpness: float = 3.0) -> torch.Tensor:
    """Random, varied predictions (float32, as ``predict_log_probs`` returns them)."""
    generator = torch.Generator().manual_seed(seed)
    logits = sharpness * torch.randn(N, K, C, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1).float()


def _entr(log_p: torch.Tensor) -> torch.Tensor:
    """``-p log p`` from ``log p`` with ``0 log 0 = 0``."""
    return torch.where(torch.isneginf(log_p), 0.0, -log_p.exp() * log_p)


def _summed_over_k(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """``log sum_k p(y|w_k)``: the predictive distribution without dividing by K."""
    return torch.logsumexp(log_probs_N_K_C.double(), dim=1)


def _entropy_variants(log_probs_N_K_C: torch.Tensor) -> dict[str, torch.Tensor]:
    """Common wrong versions of ``H[y]``, each with the hint that explains it."""
    lp = log_probs_N_K_C.double()
    K = lp.shape[1]
    entropy_N = information.entropy(lp)
    conditional_N = information.conditional_entropy(lp)
    summed_N_C = _summed_over_k(lp)
    return {
        "this is the mean of the K samples' entropies, E_w H[y|w]: average the probabilities "
        "over the K samples first, p(y|x) = 1/K sum_k p(y|x,w_k), then take one entropy": (
            conditional_N
        ),
        "off by log K: the log-probabilities of the mean need logsumexp over K minus log K "
        "(logsumexp alone is the log of the sum, not of the mean)": entropy_N - math.log(K),
        "forgot the mean over K: summing the K probabilities gives a 'distribution' that sums to "
        "K; divide by K (subtract log K after logsumexp, or use .mean(dim=1) on probabilities)": (
            _entr(summed_N_C).sum(dim=1)
        ),
        "these are bits: use the natural log (nats), not log2": entropy_N / math.log(2),
        "wrong sign: entropy is -sum p log p, which is never negative": -entropy_N,
        "this is the entropy of the first sample only: average over all K samples": (
            _entr(lp[:, 0]).sum(dim=1)
        ),
    }


def _bald_variants(log_probs_N_K_C: torch.Tensor) -> dict[str, torch.Tensor]:
    """Common wrong versions of BALD, ``I[y;w] = H[y] - E_w H[y|w]``, with their hints."""
    lp = log_probs_N_K_C.double()
    K = lp.shape[1]
    entropy_N = information.entropy(lp)
    conditional_N = information.conditional_entropy(lp)
    summed_entropy_N = _entr(_summed_over_k(lp)).sum(dim=1)
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
        "of the K samples' probabilities": summed_entropy_N - conditional_N,
        "these are bits: use the natural log (nats), not log2": (entropy_N - conditional_N)
        / math.log(2),
    }


def _joint_variants(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """Common wrong versions of the exact ``H[y1, y2]``, with their hints."""
    lp = log_probs_2_K_C.double()
    K = lp.shape[1]
    joint = float(information.joint_entropy_exact(lp))
    log_joint_M_K = information.exact_configurations(lp)
    summed_M = torch.logsumexp(log_joint_M_K, dim=1)
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
        "configurations (divide the sum over the K samples by K)": float(_entr(summed_M).sum()),
        "these are bits: use the natural log (nats), not log2": joint / math.log(2),
    }


# --------------------------------------------------------------------------------------------------
# comparing results


def _check_vector(
    got: Any,
    expected_N: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    descriptions: Sequence[str],
    variants: dict[str, torch.Tensor],
    what: str,
) -> None:
    """Raise a :class:`_MismatchError` naming what is off in a per-point result ``got``."""
    N = expected_N.shape[0]
    if not isinstance(got, torch.Tensor):
        raise _MismatchError(
            f"returned a {type(got).__name__}; return a torch.Tensor of shape ({N},), one {what} "
            "per pool point"
        )
    if tuple(got.shape) != (N,):
        raise _MismatchError(
            f"returned shape {tuple(got.shape)} for log_probs_N_K_C of shape "
            f"{tuple(log_probs_N_K_C.shape)}; expected ({N},), one {what} per point: reduce over "
            "K (dim 1) and C (dim 2), keep N (dim 0)"
        )
    if got.dtype != torch.float64:
        raise _MismatchError(
            f"returned {got.dtype}; return float64 (start with log_probs_N_K_C.double()): model "
            "outputs are float32, and differences of entropies lose most of their digits in float32"
        )
    got = got.detach().cpu()
    nan = torch.isnan(got)
    if nan.any():
        n = int(nan.nonzero()[0, 0])
        if torch.isneginf(log_probs_N_K_C[n]).any():
            raise _MismatchError(
                f"NaN for point {n}, which has probabilities of exactly 0 (log p = -inf): "
                "0 · log 0 must count as 0; exp(-inf) · -inf is NaN in floating point, so use "
                "torch.special.entr(p) or torch.where(p > 0, ...)"
            )
        raise _MismatchError(f"NaN for point {n} ({descriptions[n]})")
    if torch.allclose(got, expected_N, rtol=0, atol=ATOL):
        return
    for hint, variant_N in variants.items():
        if torch.allclose(got, variant_N.double(), rtol=0, atol=ATOL, equal_nan=True):
            raise _MismatchError(hint)
    n = int((got - expected_N).abs().argmax())
    raise _MismatchError(
        f"point {n} ({descriptions[n]}): expected {_fmt(expected_N[n])}, got {_fmt(got[n])}"
    )


def _as_float(got: Any, what: str) -> float:
    """A Python float from a number or a one-element tensor; a hint otherwise."""
    if isinstance(got, torch.Tensor):
        if got.numel() != 1:
            raise _MismatchError(
                f"returned a tensor of shape {tuple(got.shape)}; {what} is one number "
                "(sum over everything, then return float(...))"
            )
        return float(got)
    try:
        return float(got)
    except (TypeError, ValueError):
        raise _MismatchError(f"returned a {type(got).__name__}; return a float ({what})") from None


# --------------------------------------------------------------------------------------------------
# 01: predictive entropy, BALD, joint entropy of two points


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


# --------------------------------------------------------------------------------------------------
# 02: a greedy step of BatchBALD


def _greedy_gains(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> dict[int, float]:
    """``I[y_chosen, y_n; w]`` for every candidate n not in ``chosen``, exactly (float64)."""
    lp = log_probs_N_K_C.double()
    conditional_N = information.conditional_entropy(lp)
    gains = {}
    for n in range(lp.shape[0]):
        if n in chosen:
            continue
        batch = [*chosen, n]
        gains[n] = float(information.joint_entropy_exact(lp[batch]) - conditional_N[batch].sum())
    return gains


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


# --------------------------------------------------------------------------------------------------
# 03: consistent MC-dropout masks


def check_consistent_masks(
    fn: Callable[[int, int, float, torch.Generator], Callable[[torch.Tensor], torch.Tensor]],
    *,
    strict: bool = False,
) -> bool | None:
    """Check ``fn(num_features, k, p, generator) -> dropout``, where ``dropout(h_B_F) -> h_B_K_F``
    applies k MC-dropout masks that are drawn once (with ``generator``) and then reused.

    ``dropout`` must multiply every point's features by the same k masks, on every call and for
    any batch: ``h_B_K_F[b, j] = h_B_F[b] * mask_j`` with ``mask_j`` entries 0 (probability p) or
    ``1 / (1 - p)`` (inverted dropout, as ``torch.nn.Dropout``). Checks: the shape, the values,
    one mask per sample shared by all points, the same masks on a second call and for a split
    batch, different masks for different samples, the kept fraction ``1 - p`` (50 x 200 draws,
    within 0.03, six standard errors), p = 0, and reproducibility from the generator's seed.
    """

    def make(num_features: int, k: int, p: float, seed: int) -> Callable:
        generator = torch.Generator().manual_seed(seed)
        dropout = _call(fn, num_features, k, p, generator, context=f"for k = {k}, p = {p}")
        if not callable(dropout):
            raise _MismatchError(
                f"returned a {type(dropout).__name__}; return a function dropout(h_B_F) that "
                "applies the k masks"
            )
        return dropout

    def apply(dropout: Callable, h_B_F: torch.Tensor, k: int, what: str) -> torch.Tensor:
        out = _call(dropout, h_B_F.clone(), context=f"when dropout was applied to {what}")
        B, F = h_B_F.shape
        if not isinstance(out, torch.Tensor):
            raise _MismatchError(f"dropout returned a {type(out).__name__}; return a torch.Tensor")
        if tuple(out.shape) != (B, k, F):
            hint = ""
            if tuple(out.shape) == (B * k, F):
                hint = " (the k samples flattened into the batch: unflatten them into dim 1)"
            raise _MismatchError(
                f"dropout returned shape {tuple(out.shape)} for h_B_F of shape {(B, F)}; "
                f"expected (B, k, F) = {(B, k, F)}{hint}"
            )
        return out.detach()

    def run() -> str:
        B, F, k, p = 5, 40, 6, 0.5
        h_B_F = torch.rand(B, F, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
        h_B_F = h_B_F + 0.5  # no zero features: a 0 in the output then always means "dropped"
        dropout = make(F, k, p, seed=0)
        out = apply(dropout, h_B_F, k, "a batch of 5 points")
        ratio = out / h_B_F[:, None, :]
        if torch.isclose(ratio, torch.ones_like(ratio)).all():
            raise _MismatchError("nothing was dropped: multiply by masks of 0s and 1/(1-p)s")
        values = ratio.unique()
        scale = 1.0 / (1.0 - p)
        ok = torch.isclose(
            values, torch.tensor(0.0, dtype=values.dtype), atol=1e-6
        ) | torch.isclose(values, torch.tensor(scale, dtype=values.dtype))
        if not ok.all():
            if torch.isclose(values, torch.tensor(1.0, dtype=values.dtype)).any():
                raise _MismatchError(
                    f"kept features must be scaled by 1/(1-p) = {scale:g} (inverted dropout, as "
                    "nn.Dropout does), so that the expected activation stays the same"
                )
            raise _MismatchError(
                f"each output must be the input times 0 or 1/(1-p) = {scale:g}; found factors "
                f"{values[:5].tolist()}"
            )
        kept_B_K_F = out != 0
        if not (kept_B_K_F == kept_B_K_F[:1]).all():
            raise _MismatchError(
                "different points got different masks: sample j must be the same network "
                "(the same mask_j) for every point of the pool"
            )
        kept_K_F = kept_B_K_F[0]
        if (kept_K_F == kept_K_F[:1]).all():
            raise _MismatchError(
                "all k samples use the same mask, so the k networks are identical (and BALD is "
                "0): draw k different masks"
            )
        again = apply(dropout, h_B_F, k, "the same batch a second time")
        if not torch.equal(again, out):
            raise _MismatchError(
                "a second call gave different outputs: the masks are redrawn on every call. Draw "
                "the k masks once (when the dropout function is made) and reuse them"
            )
        halves = torch.cat(
            [apply(dropout, h_B_F[:2], k, "points 0-1"), apply(dropout, h_B_F[2:], k, "points 2-4")]
        )
        if not torch.equal(halves, out):
            raise _MismatchError(
                "scoring the pool in two batches gave different outputs than in one: every "
                "batch must see the same k masks"
            )
        if not torch.equal(
            apply(make(F, k, p, seed=0), h_B_F, k, "a batch, with a new generator seeded alike"),
            out,
        ):
            raise _MismatchError(
                "two dropout functions made from generators with the same seed differ: draw "
                "the masks with the generator argument (torch.bernoulli(..., generator=generator))"
            )
        if torch.equal(apply(make(F, k, p, seed=1), h_B_F, k, "a batch (seed 1)"), out):
            raise _MismatchError("a generator with a different seed gave the same masks")
        for p_kept in (0.5, 0.2):
            big = apply(make(200, 50, p_kept, seed=2), torch.ones(1, 200), 50, "ones(1, 200)")
            kept = float((big != 0).double().mean())
            if abs(kept - (1 - p_kept)) > 0.03:
                raise _MismatchError(
                    f"with p = {p_kept}, {kept:.1%} of the features were kept; dropout drops each "
                    f"feature with probability p, so about {1 - p_kept:.0%} should be kept"
                )
        none_dropped = apply(make(F, k, 0.0, seed=3), h_B_F, k, "a batch with p = 0")
        if not torch.allclose(none_dropped, h_B_F[:, None, :].expand(B, k, F)):
            raise _MismatchError(
                "with p = 0 nothing may be dropped: the output is h repeated k times"
            )
        return (
            "the same k masks for every point and every batch, scaled by 1/(1-p), kept fraction "
            "1 - p, reproducible from the generator"
        )

    return _report("consistent masks", run, strict)


# --------------------------------------------------------------------------------------------------
# stochastic (power) acquisition


def check_power_acquisition(
    fn: Callable[[torch.Tensor, int, float, torch.Generator], list[int]], *, strict: bool = False
) -> bool | None:
    """Check ``fn(scores_N, batch_size, coldness, generator) -> list[int]``: ``batch_size``
    distinct indices drawn without replacement with ``p(n) ∝ score_n^coldness`` (e.g. Gumbel-top-k
    on ``coldness · log score``).

    Checks the length, distinctness and range; that ``batch_size = N`` is a permutation; that
    coldness 10,000 gives the top-b scores; that the generator makes it reproducible; and that
    over :data:`POWER_DRAWS` draws each index's first-pick frequency lies within
    :data:`POWER_Z` standard errors of its probability, for coldness 0 (uniform), 1 and 3.
    """
    scores_N = torch.tensor([0.2, 0.05, 0.9, 0.4, 0.7, 0.1], dtype=torch.float64)
    N = scores_N.shape[0]

    def draw(batch_size: int, coldness: float, generator: torch.Generator, what: str) -> list:
        got = _call(
            fn,
            scores_N.clone(),
            batch_size,
            coldness,
            generator,
            context=f"for batch_size = {batch_size}, coldness = {coldness:g} {what}",
        )
        if isinstance(got, torch.Tensor):
            got = got.tolist()
        try:
            indices = [operator.index(i) for i in got]
        except TypeError:
            raise _MismatchError(f"returned {got!r}; return a list of int pool indices") from None
        if len(indices) != batch_size:
            raise _MismatchError(
                f"returned {len(indices)} indices for batch_size = {batch_size} {what}"
            )
        if len(set(indices)) != len(indices):
            raise _MismatchError(
                f"returned repeated indices {indices} {what}: sample without replacement "
                "(Gumbel-top-k: the top-b of coldness·log(score) + Gumbel noise)"
            )
        if not all(0 <= i < N for i in indices):
            raise _MismatchError(f"returned {indices}: indices must lie in 0..{N - 1}")
        return indices

    def first_pick_frequencies(coldness: float) -> torch.Tensor:
        generator = torch.Generator().manual_seed(100 + int(coldness))
        counts_N = torch.zeros(N, dtype=torch.float64)
        for _ in range(POWER_DRAWS):
            counts_N[draw(2, coldness, generator, f"(coldness {coldness})")[0]] += 1
        return counts_N / POWER_DRAWS

    def matches(frequencies_N: torch.Tensor, probs_N: torch.Tensor) -> bool | None:
        standard_error_N = (probs_N * (1 - probs_N) / POWER_DRAWS).sqrt()
        return bool(((frequencies_N - probs_N).abs() <= POWER_Z * standard_error_N + 1e-12).all())

    def run() -> str:
        generator = torch.Generator().manual_seed(0)
        draw(3, 1.0, generator, "")
        permutation = draw(N, 1.0, generator, "(batch_size = N)")
        if sorted(permutation) != list(range(N)):
            raise _MismatchError(f"batch_size = N must return every index once, got {permutation}")
        first = draw(3, 1.0, torch.Generator().manual_seed(7), "")
        if draw(3, 1.0, torch.Generator().manual_seed(7), "") != first:
            raise _MismatchError(
                "two generators with the same seed gave different batches: draw all randomness "
                "from the generator argument (e.g. torch.rand(..., generator=generator))"
            )
        for coldness in (0.0, 1.0, 3.0):
            probs_N = scores_N**coldness / (scores_N**coldness).sum()
            frequencies_N = first_pick_frequencies(coldness)
            if matches(frequencies_N, probs_N):
                continue
            shown = ", ".join(f"{f:.3f}" for f in frequencies_N.tolist())
            wanted = ", ".join(f"{p:.3f}" for p in probs_N.tolist())
            diagnosis = ""
            softmax_N = torch.softmax(coldness * scores_N, dim=0)
            linear_N = scores_N / scores_N.sum()
            if coldness > 0 and matches(frequencies_N, softmax_N):
                diagnosis = " -- this is softmax, p ∝ exp(coldness·score), not score^coldness"
            elif coldness != 1 and matches(frequencies_N, linear_N):
                diagnosis = " -- this is p ∝ score: the coldness is ignored"
            elif coldness > 0 and matches(frequencies_N, torch.full_like(probs_N, 1 / N)):
                diagnosis = " -- uniform: the scores are ignored"
            elif float(frequencies_N.max()) == 1.0:
                diagnosis = " -- always the same first pick: add the random (Gumbel) noise"
            raise _MismatchError(
                f"coldness {coldness:g}: the first picks of {POWER_DRAWS} batches had "
                f"frequencies ({shown}), but p ∝ score^coldness is ({wanted}){diagnosis}"
            )
        top = sorted(torch.argsort(scores_N, descending=True)[:3].tolist())
        for seed in range(5):
            got = draw(
                3,
                10_000.0,
                torch.Generator().manual_seed(seed),
                "(coldness 10,000: compute with coldness·log(score); score**coldness underflows)",
            )
            if sorted(got) != top:
                raise _MismatchError(
                    f"with coldness 10,000 the batch must be the top-3 scores {top}, got "
                    f"{sorted(got)}: work with log-weights coldness·log(score), since "
                    "score**coldness underflows to 0"
                )
        return (
            f"distinct indices, top-b at coldness 10,000, and first-pick frequencies within "
            f"{POWER_Z:g} standard errors of p ∝ score^coldness ({POWER_DRAWS} draws each)"
        )

    return _report("power acquisition", run, strict)


# --------------------------------------------------------------------------------------------------
# reading learning curves and acquired labels


def check_labels_to_reach(
    fn: Callable[[Sequence[int], Sequence[float], float], int | None], *, strict: bool = False
) -> bool | None:
    """Check ``fn(labels, accuracies, target) -> int | None``: the first label count whose
    accuracy is at least ``target`` (``>=``), ``None`` if no round reaches it.

    Known answers are hand-written: exact equality counts, curves that dip back below the target
    after reaching it, a target reached at the first round, never reached, and empty curves.
    """
    labels = [20, 30, 40, 50, 60]
    accuracies = [0.62, 0.81, 0.78, 0.9, 0.93]
    cases = [
        (labels, accuracies, 0.8, 30, "accuracy first reaches 0.8 at 30 labels (0.81)"),
        (labels, accuracies, 0.9, 50, "0.9 is reached exactly at 50 labels (>= counts)"),
        (labels, accuracies, 0.79, 30, "the curve dips below 0.79 at 40 labels after 30"),
        (labels, accuracies, 0.5, 20, "the first round already reaches 0.5"),
        (labels, accuracies, 0.95, None, "0.95 is never reached"),
        ([], [], 0.5, None, "an empty curve"),
        ([10, 15], [0.99, 0.2], 0.9, 10, "a curve that falls after its first round"),
    ]

    def run() -> str:
        for labels_, accuracies_, target, expected, what in cases:
            got = _call(
                fn, list(labels_), list(accuracies_), target, context=f"for target {target}"
            )
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = got.item()
            if got == expected and (got is None) == (expected is None):
                continue
            where = f"labels {labels_}, accuracies {accuracies_}, target {target}: {what}"
            if expected is None:
                raise _MismatchError(f"expected None, got {got!r} ({where}); return None if never")
            if got is None:
                raise _MismatchError(f"expected {expected}, got None ({where})")
            if got == labels_.index(expected):
                raise _MismatchError(
                    f"returned {got}, the position in the list: return the label count "
                    f"labels[i] = {expected} ({where})"
                )
            if isinstance(got, float) and got in accuracies_:
                raise _MismatchError(
                    f"returned an accuracy ({got}); return the label count ({where})"
                )
            strict_above = [n for n, a in zip(labels_, accuracies_, strict=True) if a > target]
            if strict_above and got == strict_above[0]:
                raise _MismatchError(
                    f"an accuracy equal to the target counts: use >=, not > ({where})"
                )
            reached = [n for n, a in zip(labels_, accuracies_, strict=True) if a >= target]
            if reached and got == reached[-1]:
                raise _MismatchError(
                    f"returned the last round that reaches it; return the first ({where})"
                )
            raise _MismatchError(f"expected {expected}, got {got!r} ({where})")
        return "the first label count reaching the target, >= inclusive, None when never reached"

    return _report("labels to reach", run, strict)


def check_acquired_label_entropy(
    fn: Callable[[Sequence[int], int], float], *, strict: bool = False
) -> bool | None:
    """Check ``fn(labels, num_classes) -> float``: the entropy (nats) of the acquired labels'
    class frequencies, ``-sum_c q_c log q_c`` with ``q_c = count_c / len(labels)``, ``0 log 0 = 0``.

    Known answers are hand-derived: one class only (0), two classes equally (log 2, also when the
    other classes never occur), all C classes equally (log C), and counts 3 : 1 (H(3/4, 1/4)).
    """
    cases = [
        ([3, 3, 3], 10, 0.0, "every label is class 3"),
        ([4, 7, 7, 4], 10, math.log(2), "two of 10 classes, twice each (8 classes never occur)"),
        ([0, 1], 2, math.log(2), "one label each of 2 classes"),
        ([0, 1, 2, 3] * 3, 4, math.log(4), "all 4 classes, 3 times each"),
        ([5, 5, 5, 2], 6, _h(0.75, 0.25), "counts 3 : 1 over 6 classes"),
    ]

    def run() -> str:
        for labels, num_classes, expected, what in cases:
            got = _as_float(
                _call(fn, list(labels), num_classes, context=f"for labels {labels}"), "the entropy"
            )
            where = f"labels {labels}, num_classes {num_classes}: {what}"
            if abs(got - expected) <= ATOL:
                continue
            if math.isnan(got):
                raise _MismatchError(
                    f"NaN ({where}): classes that never occur have q_c = 0 and contribute "
                    "0 · log 0 = 0 (skip them, or use torch.special.entr)"
                )
            counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()
            by_num_classes = counts / num_classes
            variants = {
                "these are bits: use the natural log (nats)": expected / math.log(2),
                "normalised by log C: return the entropy itself, in nats": expected
                / math.log(num_classes),
                "divide the counts by the number of labels, not by the number of classes": float(
                    _entr(by_num_classes.log()).sum()
                ),
                "wrong sign: entropy is -sum q log q": -expected,
            }
            for hint, value in variants.items():
                if abs(got - value) <= ATOL:
                    raise _MismatchError(f"{hint} ({where})")
            raise _MismatchError(f"expected {_fmt(expected)} nats, got {_fmt(got)} ({where})")
        return "the entropy of the class frequencies, in nats, with 0 log 0 = 0"

    return _report("acquired-label entropy", run, strict)


# --------------------------------------------------------------------------------------------------
# multiple-choice questions


@dataclass
class Question:
    """A multiple-choice question about a figure or result.

    ``options`` maps a short label (``"a"``, ``"b"``, ...) to its text; ``correct`` is the label
    of the right option; ``hints`` maps labels to what is printed when that option is chosen
    (for the correct one: the explanation; for the others: why not, without giving the answer).
    """

    prompt: str
    options: dict[str, str]
    correct: str
    hints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.correct not in self.options:
            raise ValueError(f"correct = {self.correct!r} is not one of {list(self.options)}")
        unknown = set(self.hints) - set(self.options)
        if unknown:
            raise ValueError(f"hints for options {sorted(unknown)} that do not exist")

    def text(self) -> str:
        """The prompt and its options, one per line."""
        lines = [self.prompt] + [f"  ({label}) {text}" for label, text in self.options.items()]
        return "\n".join(lines)


def _normalise_choice(answer: str) -> str:
    return answer.strip().strip("()[].").strip().lower()


def check_choice(question: str, answer: str | None, *, strict: bool = False) -> bool | None:
    """Check a multiple-choice ``answer`` (e.g. ``"b"``) to ``QUESTIONS[question]``.

    Prints the explanation when right, the hint for the chosen option when wrong. An answer of
    ``None`` (not answered yet) raises ``NotImplementedError``.
    """
    if question not in QUESTIONS:
        raise KeyError(f"no question {question!r}; registered: {sorted(QUESTIONS)}")
    q = QUESTIONS[question]
    labels = ", ".join(repr(label) for label in q.options)
    if answer is None:
        raise NotImplementedError(f"no answer yet: set it to one of {labels}")

    def run() -> str:
        if not isinstance(answer, str) or _normalise_choice(answer) not in q.options:
            raise _MismatchError(f"answer with one of {labels}, got {answer!r}")
        choice = _normalise_choice(answer)
        if choice != q.correct:
            raise _MismatchError(
                f"not ({choice}). {q.hints.get(choice, 'Look at the figure again.')}"
            )
        return f"({choice}) is right. {q.hints.get(choice, '')}".strip()

    return _report(f"question {question}", run, strict)


#: Every multiple-choice question of the course, keyed ``"<notebook>-<topic>"``. Notebooks
#: append their own entries at the end of this module.
QUESTIONS: dict[str, Question] = {}


QUESTIONS["00-one-sample"] = Question(
    prompt=(
        "Set the slider to K = 1: the line reads H[w] = log K = 0.00 nats. What does that mean "
        "for active learning with a model that has a single posterior sample?"
    ),
    options={
        "a": "Every label is very informative, because the single sample is certain of its "
        "predictions.",
        "b": "No label can tell us anything about the parameters: BALD is 0 for every pool "
        "point, whatever the model predicts.",
        "c": "BALD equals the entropy of the prediction, so the most uncertain points are the "
        "best ones.",
        "d": "Nothing: the number of samples K only changes how fast the scores are computed.",
    },
    correct="b",
    hints={
        "a": "H[w] is not about how confident the predictions are: it measures how uncertain we "
        "are about which network is the true one. What is left to find out with one network?",
        "b": "Any label gives at most H[w] = log K nats about w, and log 1 = 0. (With K = 1 the "
        "prediction is that one network's, so H[y] = E_w H[y|w] and their difference, BALD, "
        "is 0.)",
        "c": "With K = 1, H[y] and E_w H[y|w] are the same number, the single sample's entropy: "
        "what is their difference?",
        "d": "K is how many networks the model considers possible; H[w] = log K caps what any "
        "label can teach about them.",
    },
)

QUESTIONS["02-log-k-ceiling"] = Question(
    prompt=(
        "In the log K ceiling panel, the K = 3 curve stops rising at about 1.1 nats after a few "
        "picks, while the curves for larger K keep climbing. Why does the K = 3 curve flatten?"
    ),
    options={
        "a": "The pool has run out of informative digits after a few picks.",
        "b": "With K samples the posterior is uniform over K networks, so no batch can tell more "
        "than H[w] = log 3 ≈ 1.10 nats about w; once the labels would identify the network, "
        "further picks gain nothing.",
        "c": "The sampled joint-entropy estimator is biased downwards for large batches.",
        "d": "Submodularity: every greedy curve flattens at the same height, whatever K.",
    },
    correct="b",
    hints={
        "a": "The pool is the same for every K, and with more samples the curves keep finding "
        "informative points in it. Where does the limit come from, then?",
        "b": "I[y_1..y_b; w] <= H[w] = log K: the dashed line. Past it, picks are decided by "
        "ties and estimator noise, which is why so many repeat a digit; more samples raise the "
        "ceiling.",
        "c": "The estimator is unbiased (section 4), and while C^i is within the sample budget "
        "the score is exact -- yet the exact part of the curve flattens too.",
        "d": "Submodularity means diminishing gains, not a common height: look at where each "
        "curve flattens, and compare with its dashed line.",
    },
)

QUESTIONS["03-independent-masks"] = Question(
    prompt=(
        "With independent masks (bottom right of the score-spread figure), BatchBALD can pick a "
        "red candidate -- a copy of a digit already in the batch -- which it avoids with "
        "consistent masks. Why?"
    ),
    options={
        "a": "The copies really are the most informative next points; consistent masks hide that.",
        "b": "Each point met its own K networks, so the predictions for a digit and its copy are "
        "no longer correlated, and the joint entropy cannot see that the copy's label is "
        "redundant.",
        "c": "Independent masks make every BALD score larger, and BatchBALD adds them up.",
        "d": "The copies carry extra pixel noise (std 0.1), which makes them look uncertain.",
    },
    correct="b",
    hints={
        "a": "With consistent masks the copies sit below the best candidates in every "
        "repetition. What would a second label of the same digit tell about w?",
        "b": "BatchBALD sees redundancy only through the product prod_i p(y_i|x_i, w_k) under "
        "the same w_k. With unrelated masks the index k pairs random networks, the correlation "
        "in the scatter plot vanishes, and a copy looks like a brand-new digit.",
        "c": "Compare the two BALD panels (top row): they look alike. And BatchBALD does not add "
        "BALD scores; it scores the batch jointly.",
        "d": "The pool, noise included, is the same in both columns; only the masks differ.",
    },
)

QUESTIONS["07-unbalanced-pool"] = Question(
    prompt=(
        "In section 1 of notebook 07 (default run), BALD and BatchBALD gave the rare digits a "
        "clearly larger share of their acquired points than those digits have in the pool, while "
        "random acquisition followed the pool. Why?"
    ),
    options={
        "a": "Both acquisition functions up-weight rare classes on purpose, to balance the "
        "training set.",
        "b": "Their scores measure how much a point's label would tell about the model "
        "parameters; the model is most unsure about digits it has seen little of, and nothing in "
        "the score depends on how many pool points are like the candidate (the density p(x)).",
        "c": "It is chance: with 40 acquired points, random acquisition would show the same "
        "over-sampling on average.",
        "d": "BatchBALD's joint score counts how often each class occurs in the pool and prefers "
        "the rare ones.",
    },
    correct="b",
    hints={
        "a": "Neither score knows the class labels of the pool, let alone which classes are rare. "
        "What do the scores measure?",
        "b": "I(y; w | x) is a property of the single point x under the model; a digit the model "
        "is unsure about scores the same whether the pool holds one image like it or a thousand. "
        "The acquisition decides the class mix without consulting the data density.",
        "c": "Random acquisition's share of the rare digits stayed close to the pool's. Random "
        "follows the density on average by construction; the informed methods did not.",
        "d": "BatchBALD looks at the other points of the *batch* (to avoid redundant labels), "
        "not at the pool's class frequencies, which it never sees.",
    },
)
