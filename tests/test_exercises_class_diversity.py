"""Tests for bbal_tutorial.exercises.class_diversity (notebook 05): the acquired-label entropy
check passes a reference solution and fails, with the right hint, on realistic wrong ones."""

import math

import pytest
import torch

from bbal_tutorial import exercises


def acquired_label_entropy(labels, num_classes):
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()
    return float(torch.special.entr(counts / counts.sum()).sum())


def label_entropy_nan(labels, num_classes):
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()
    q = counts / counts.sum()
    return float(-(q * q.log()).sum())


LABEL_ENTROPY_WRONG = [
    (label_entropy_nan, "NaN"),
    (lambda labels, c: acquired_label_entropy(labels, c) / math.log(2), "bits"),
    (lambda labels, c: acquired_label_entropy(labels, c) / math.log(c), "normalised by log C"),
    (
        lambda labels, c: float(
            torch.special.entr(torch.bincount(torch.tensor(labels), minlength=c) / c).sum()
        ),
        "not by the number of classes",
    ),
    (lambda labels, c: torch.tensor([acquired_label_entropy(labels, c)] * 2), "one number"),
]


def test_reference_solution_passes(exercise_check):
    exercise_check.passes(exercises.check_acquired_label_entropy, acquired_label_entropy)


@pytest.mark.parametrize(
    "wrong, hint", LABEL_ENTROPY_WRONG, ids=[w.__name__ for w, _ in LABEL_ENTROPY_WRONG]
)
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_acquired_label_entropy, wrong, hint)
