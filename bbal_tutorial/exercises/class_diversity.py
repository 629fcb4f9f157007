"""Exercise of notebook 05: the entropy of the acquired labels."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from bbal_tutorial.exercises._checks import (
    ATOL,
    _as_float,
    _call,
    _fmt,
    _h,
    _MismatchError,
    _report,
)


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
                    torch.special.entr(by_num_classes).sum()
                ),
                "wrong sign: entropy is -sum q log q": -expected,
            }
            for hint, value in variants.items():
                if abs(got - value) <= ATOL:
                    raise _MismatchError(f"{hint} ({where})")
            raise _MismatchError(f"expected {_fmt(expected)} nats, got {_fmt(got)} ({where})")
        return "the entropy of the class frequencies, in nats, with 0 log 0 = 0"

    return _report("acquired-label entropy", run, strict)
