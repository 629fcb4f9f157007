"""Tests for bbal_tutorial._kernels: tiles, budgets and shortcuts change no result."""

import math

import numpy as np
import pytest
import torch

from bbal_tutorial import _kernels
from bbal_tutorial import information as info


def test_per_point_chunking(monkeypatch, dirichlet_log_probs):
    lp = dirichlet_log_probs(23, 4, 3, seed=3)
    whole = info.mutual_information(lp)
    monkeypatch.setattr(_kernels, "PER_POINT_CHUNK_ELEMENTS", 5 * 4 * 3)
    assert torch.equal(info.mutual_information(lp), whole)


@pytest.mark.parametrize("compute_dtype", [torch.float32, torch.float64])
def test_precomputed_candidate_probs_give_bit_identical_results(compute_dtype, dirichlet_log_probs):
    lp = dirichlet_log_probs(37, 6, 47, seed=19)  # C = 47: columns at odd offsets
    lp[0, :, 0] = -math.inf  # exact zeros
    lp[1, 0, 1] = -math.inf
    lp = torch.log_softmax(lp, dim=-1)
    log_joint, _ = info.sample_configurations(lp[:2], 300, torch.Generator().manual_seed(4))
    weights = torch.full((300,), 1 / 300, dtype=torch.float64)
    posterior, _ = info.configuration_posterior(log_joint)
    probs_K_W = _kernels.precompute_candidate_probs(lp, compute_dtype)
    assert probs_K_W.shape == (6, 37 * 47)
    for budget in (_kernels.DEFAULT_MEMORY_BUDGET, 1, 20_000):  # one tile; one candidate; several
        kwargs = dict(compute_dtype=compute_dtype, memory_budget=budget)
        per_tile = _kernels.entropy_given_posterior(posterior, weights, lp, **kwargs)
        precomputed = _kernels.entropy_given_posterior(
            posterior, weights, lp, probs_K_W=probs_K_W, **kwargs
        )
        assert torch.equal(per_tile, precomputed)


def test_precompute_candidate_probs_only_within_budget(dirichlet_log_probs):
    lp = dirichlet_log_probs(100, 10, 10, seed=3)  # 40 kB in float32
    assert _kernels.precompute_candidate_probs(lp, torch.float32, 30_000) is None
    # room next to the largest tiles the budget allows (at most 16 MB on a CPU)
    assert _kernels.precompute_candidate_probs(lp, torch.float32, 2**24 + 40_000) is not None
    assert _kernels.precompute_candidate_probs(lp, torch.float32, 2**24 + 39_999) is None
    with pytest.raises(ValueError, match="probs_K_W"):
        _kernels.entropy_given_posterior(
            torch.ones(1, 10) / 10,
            torch.ones(1),
            lp,
            probs_K_W=_kernels.candidate_probs(lp[:50], torch.float64),
        )


def test_merging_identical_configurations_changes_nothing(dirichlet_log_probs):
    lp = dirichlet_log_probs(9, 4, 2, seed=15)
    log_joint, _ = info.sample_configurations(lp[:3], 400, torch.Generator().manual_seed(1))
    weights = torch.full((400,), 1 / 400, dtype=torch.float64)
    merged, merged_weights = _kernels.merge_identical_configurations(log_joint, weights)
    assert merged.shape[0] <= 2**3 and merged_weights.sum().item() == pytest.approx(1.0)
    np.testing.assert_allclose(
        info.entropy_given_configurations(merged, merged_weights, lp).numpy(),
        info.entropy_given_configurations(log_joint, weights, lp).numpy(),
        atol=1e-12,
    )


def test_tile_shape_respects_budget():
    for budget in (1, 10_000, 10**6, 10**9):
        rows, cands = _kernels.tile_shape(10_000, 5_000, 100, 10, 4, budget, on_cpu=False)
        assert rows >= 1 and cands >= 1
        if budget >= 4 * 10 * (2 + 100):  # room for at least one row and one candidate
            assert 4 * 10 * cands * (2 * rows + 100) <= budget
