"""Tests for bbal_tutorial.exercises.repeated_mnist (notebook 04): the labels-to-reach check passes
a reference solution and fails, with the right hint, on realistic wrong ones."""

import pytest

from bbal_tutorial import exercises


def labels_to_reach(labels, accuracies, target):
    for n, accuracy in zip(labels, accuracies, strict=True):
        if accuracy >= target:
            return n
    return None


LABELS_WRONG = [
    (
        lambda labels, acc, t: next((i for i, a in enumerate(acc) if a >= t), None),
        "position in the list",
    ),
    (
        lambda labels, acc, t: next((n for n, a in zip(labels, acc, strict=True) if a > t), None),
        "use >=",
    ),
    (
        lambda labels, acc, t: ([n for n, a in zip(labels, acc, strict=True) if a >= t] or [None])[
            -1
        ],
        "last round",
    ),
    (
        lambda labels, acc, t: next((n for n, a in zip(labels, acc, strict=True) if a >= t), -1),
        "None",
    ),
    (
        lambda labels, acc, t: next((a for n, a in zip(labels, acc, strict=True) if a >= t), None),
        "accuracy",
    ),
]


def test_reference_solution_passes(exercise_check):
    exercise_check.passes(exercises.check_labels_to_reach, labels_to_reach)


@pytest.mark.parametrize("wrong, hint", LABELS_WRONG, ids=[w.__name__ for w, _ in LABELS_WRONG])
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_labels_to_reach, wrong, hint)
