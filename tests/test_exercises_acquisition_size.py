"""Tests for bbal_tutorial.exercises.acquisition_size (notebook 06): the power-acquisition check
passes reference solutions and fails, with the right hint, on realistic wrong ones."""

import pytest
import torch

from bbal_tutorial import exercises


def power_acquisition(scores_N, acquisition_size, coldness, generator):
    uniform_N = torch.rand(scores_N.shape, generator=generator, dtype=torch.float64)
    gumbel_N = -torch.log(-torch.log(uniform_N))
    keys_N = coldness * scores_N.double().log() + gumbel_N
    return torch.topk(keys_N, acquisition_size).indices.tolist()


def power_acquisition_multinomial(scores_N, acquisition_size, coldness, generator):
    """Sequential sampling without replacement: also correct (for moderate coldness it works)."""
    weights_N = (coldness * scores_N.double().log()).softmax(dim=0)
    return torch.multinomial(weights_N, acquisition_size, generator=generator).tolist()


def power_top_b(scores_N, acquisition_size, coldness, generator):
    return torch.topk(scores_N, acquisition_size).indices.tolist()


def power_softmax(scores_N, acquisition_size, coldness, generator):
    return _gumbel(coldness * scores_N, acquisition_size, generator)


def _gumbel(log_weights_N, acquisition_size, generator):
    uniform_N = torch.rand(log_weights_N.shape, generator=generator, dtype=torch.float64)
    return torch.topk(
        log_weights_N - torch.log(-torch.log(uniform_N)), acquisition_size
    ).indices.tolist()


def power_ignores_coldness(scores_N, acquisition_size, coldness, generator):
    return _gumbel(scores_N.log(), acquisition_size, generator)


def power_with_replacement(scores_N, acquisition_size, coldness, generator):
    weights_N = scores_N**coldness
    return torch.multinomial(
        weights_N, acquisition_size, replacement=True, generator=generator
    ).tolist()


def power_underflows(scores_N, acquisition_size, coldness, generator):
    weights_N = scores_N.float() ** coldness
    return torch.multinomial(weights_N, acquisition_size, generator=generator).tolist()


def power_global_rng(scores_N, acquisition_size, coldness, generator):
    return _gumbel(coldness * scores_N.log(), acquisition_size, None)


def power_uniform(scores_N, acquisition_size, coldness, generator):
    return torch.randperm(len(scores_N), generator=generator)[:acquisition_size].tolist()


POWER_WRONG = [
    (power_top_b, "frequencies"),
    (power_softmax, "softmax"),
    (power_ignores_coldness, "coldness is ignored"),
    (power_with_replacement, "without replacement"),
    (power_underflows, "underflow"),
    (power_global_rng, "generator"),
    (power_uniform, "frequencies"),
]


def test_reference_solution_passes(exercise_check):
    exercise_check.passes(exercises.check_power_acquisition, power_acquisition)


@pytest.mark.parametrize("wrong, hint", POWER_WRONG, ids=[w.__name__ for w, _ in POWER_WRONG])
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_power_acquisition, wrong, hint)


def test_sequential_sampling_without_replacement_also_passes(capsys):
    """torch.multinomial without replacement draws the same distribution as Gumbel-top-k."""
    assert exercises.check_power_acquisition(power_acquisition_multinomial) is True
