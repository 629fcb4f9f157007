"""Exercise of notebook 04: labels needed to reach a target accuracy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from bbal_tutorial.exercises._checks import _call, _MismatchError, _report


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
