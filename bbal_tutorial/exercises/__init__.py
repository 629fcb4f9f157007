"""Checks for the notebook exercises: one module per notebook, shared machinery in ``_checks``.

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
:func:`check_choice`. A notebook registers its questions by appending lines to the end of
:mod:`bbal_tutorial.exercises.questions`::

    QUESTIONS["04-bald-below-random"] = Question(
        prompt="...", options={"a": "...", "b": "..."}, correct="b",
        hints={"a": "why a is wrong", "b": "why b is right"},
    )

Exercises and the checks they use (all importable from this package):

=================================== =========================================================
``check_predictive_entropy(fn)``    ``fn(log_probs_N_K_C) -> entropies_N`` (float64, nats)
``check_bald(fn)``                  ``fn(log_probs_N_K_C) -> scores_N`` (float64, nats)
``check_joint_entropy_two_points``  ``fn(log_probs_2_K_C) -> float``, exact ``H[y1, y2]``
``check_batchbald_greedy_step(fn)`` ``fn(log_probs_N_K_C, chosen) -> int``, BatchBALD's next pick
``check_consistent_masks(fn)``      ``fn(num_features, k, p, generator) -> dropout``, where
                                    ``dropout(h_B_F) -> h_B_K_F`` reuses the same k masks
``check_power_acquisition(fn)``     ``fn(scores_N, b, coldness, generator) -> list[int]``
``check_labels_to_reach(fn)``       ``fn(labels, accuracies, target) -> int | None``
``check_acquired_label_entropy``    ``fn(labels, num_classes) -> float`` (nats)
``check_epig_two_points(fn)``       ``fn(log_probs_K_C, target_log_probs_K_C) -> float``, EPIG
                                    ``I[y; y*]`` of one pool point for one target (nats)
``check_choice(question, answer)``  a multiple-choice answer, ``"a"``, ``"b"``, ...
=================================== =========================================================
"""

from bbal_tutorial.exercises.acquisition_size import check_power_acquisition
from bbal_tutorial.exercises.class_diversity import check_acquired_label_entropy
from bbal_tutorial.exercises.diagrams import (
    check_bald,
    check_joint_entropy_two_points,
    check_predictive_entropy,
)
from bbal_tutorial.exercises.dropout import check_consistent_masks
from bbal_tutorial.exercises.duplicates import check_batchbald_greedy_step
from bbal_tutorial.exercises.limitations import check_epig_two_points
from bbal_tutorial.exercises.questions import QUESTIONS, Question, check_choice
from bbal_tutorial.exercises.repeated_mnist import check_labels_to_reach

__all__ = [
    "QUESTIONS",
    "Question",
    "check_acquired_label_entropy",
    "check_bald",
    "check_batchbald_greedy_step",
    "check_choice",
    "check_consistent_masks",
    "check_epig_two_points",
    "check_joint_entropy_two_points",
    "check_labels_to_reach",
    "check_power_acquisition",
    "check_predictive_entropy",
]
