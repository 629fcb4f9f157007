"""Tests for bbal_tutorial.exercises._checks, the machinery every check shares: unfinished
exercises raise, other errors of the student's code become hints, inputs are not shared."""

import pytest

from bbal_tutorial import exercises, information

#: Every check of a student's function (check_choice takes an answer, not a function).
CHECKS = [
    getattr(exercises, name)
    for name in exercises.__all__
    if name.startswith("check_") and name != "check_choice"
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_not_implemented_propagates(check):
    def not_done(*args):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check(not_done)


def test_other_exceptions_become_hints(capsys):
    def broken(log_probs_N_K_C):
        raise IndexError("index 3 is out of bounds")

    assert exercises.check_bald(broken) is False
    assert "your function raised IndexError" in capsys.readouterr().out


def test_check_does_not_mutate_shared_inputs():
    """A student's in-place edit must not change the known answers of later calls."""

    def in_place(log_probs_N_K_C):
        result = information.mutual_information(log_probs_N_K_C)
        log_probs_N_K_C.zero_()
        return result

    assert exercises.check_bald(in_place) is True
