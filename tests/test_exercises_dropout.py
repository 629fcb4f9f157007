"""Tests for bbal_tutorial.exercises.dropout (notebook 03): the consistent-masks check passes a
reference solution and fails, with the right hint, on realistic wrong ones."""

import pytest
import torch

from bbal_tutorial import exercises


def make_consistent_dropout(num_features, k, p, generator):
    keep_K_F = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep_K_F, generator=generator) / (1.0 - p)

    def dropout(h_B_F):
        return h_B_F[:, None, :] * masks_K_F.to(h_B_F.dtype)

    return dropout


def dropout_redrawn_per_call(num_features, k, p, generator):
    def dropout(h_B_F):
        keep = torch.full((k, num_features), 1.0 - p, dtype=h_B_F.dtype)
        return h_B_F[:, None, :] * torch.bernoulli(keep, generator=generator) / (1.0 - p)

    return dropout


def dropout_per_point(num_features, k, p, generator):
    def dropout(h_B_F):
        keep = torch.full((h_B_F.shape[0], k, num_features), 1.0 - p, dtype=h_B_F.dtype)
        return h_B_F[:, None, :] * torch.bernoulli(keep, generator=generator) / (1.0 - p)

    return dropout


def dropout_one_mask(num_features, k, p, generator):
    keep = torch.full((1, num_features), 1.0 - p, dtype=torch.float64)
    mask_1_F = torch.bernoulli(keep, generator=generator) / (1.0 - p)
    return lambda h_B_F: h_B_F[:, None, :] * mask_1_F.expand(k, num_features)


def dropout_unscaled(num_features, k, p, generator):
    keep = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep, generator=generator)
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_p_is_keep(num_features, k, p, generator):  # keeps with probability p
    keep = torch.full((k, num_features), p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep, generator=generator) / (1.0 - p) if p < 1 else keep
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_global_rng(num_features, k, p, generator):
    keep = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep) / (1.0 - p)
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_flat(num_features, k, p, generator):
    dropout = make_consistent_dropout(num_features, k, p, generator)
    return lambda h_B_F: dropout(h_B_F).flatten(0, 1)


MASK_WRONG = [
    (dropout_redrawn_per_call, "redrawn on every call"),
    (dropout_per_point, "different points got different masks"),
    (dropout_one_mask, "same mask"),
    (dropout_unscaled, "1/(1-p)"),
    (dropout_p_is_keep, "should be kept"),
    (dropout_global_rng, "generator"),
    (dropout_flat, "flattened"),
]


def test_reference_solution_passes(exercise_check):
    exercise_check.passes(exercises.check_consistent_masks, make_consistent_dropout)


@pytest.mark.parametrize("wrong, hint", MASK_WRONG, ids=[w.__name__ for w, _ in MASK_WRONG])
def test_wrong_solution_fails_with_its_hint(wrong, hint, exercise_check):
    exercise_check.fails_with_hint(exercises.check_consistent_masks, wrong, hint)
