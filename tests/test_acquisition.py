"""Tests for bbal_tutorial.acquisition against an independent numpy float64 brute force."""

import itertools
import math

import numpy as np
import pytest
import torch

from bbal_tutorial import _kernels
from bbal_tutorial import acquisition as acq
from bbal_tutorial import information as info
from bbal_tutorial.acquisition import ACQUISITION_NAMES, CandidateBatch, acquire

# --------------------------------------------------------------------------------------------------
# independent reference (numpy, float64, explicit enumeration of label configurations)


def xlogx(p):
    p = np.asarray(p, dtype=np.float64)
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def ref_bald(p_N_K_C):
    entropy = -xlogx(p_N_K_C.mean(axis=1)).sum(axis=1)
    return entropy - ref_conditional_entropy(p_N_K_C)


def ref_conditional_entropy(p_N_K_C):
    return -xlogx(p_N_K_C).sum(axis=2).mean(axis=1)


def ref_joint_mi(p_N_K_C, subset):
    """I[y_subset; w] = H[y_subset] - sum E_w H[y|w], H by enumerating all C^n configurations."""
    subset = list(subset)
    _, K, C = p_N_K_C.shape
    joint_entropy = 0.0
    for config in itertools.product(range(C), repeat=len(subset)):
        per_k = np.ones(K)
        for j, c in zip(subset, config, strict=True):
            per_k = per_k * p_N_K_C[j, :, c]
        joint_entropy -= xlogx(per_k.mean())
    return joint_entropy - ref_conditional_entropy(p_N_K_C)[subset].sum()


def ref_greedy(p_N_K_C, acquisition_size, tie=1e-9):
    """Greedy maximisation of the joint MI; ties (within `tie`) to the lowest index."""
    chosen, scores = [], []
    for _ in range(acquisition_size):
        candidates = [x for x in range(len(p_N_K_C)) if x not in chosen]
        values = [ref_joint_mi(p_N_K_C, chosen + [x]) for x in candidates]
        best = max(values)
        x = next(x for x, v in zip(candidates, values, strict=True) if v >= best - tie)
        chosen.append(x)
        scores.append(ref_joint_mi(p_N_K_C, chosen))
    return chosen, scores


def realistic_log_probs(N, K, C, seed, d=8, duplicate_noise=0.01):
    """Correlated posterior samples like MC dropout: logits = mean + scale_n · A_n z_k, with z_k
    shared by all points; 10% near-duplicates of other points; float32 like a model's output."""
    rng = np.random.default_rng(seed)
    mean = np.log(rng.dirichlet(np.full(C, 0.3), size=N) + 1e-6)
    z_K_d = rng.standard_normal((K, d))
    A_N_d_C = rng.standard_normal((N, d, C)) / math.sqrt(d)
    logits = mean[:, None, :] + rng.gamma(1.0, 1.0, N)[:, None, None] * np.einsum(
        "kd,ndc->nkc", z_K_d, A_N_d_C
    )
    n_dup = N // 10
    dup, src = rng.choice(N, n_dup, replace=False), rng.choice(N, n_dup)
    logits[dup] = logits[src] + duplicate_noise * rng.standard_normal((n_dup, K, C))
    return torch.log_softmax(torch.from_numpy(logits), dim=-1).float()


def with_zeros(log_probs_N_K_C):
    lp = log_probs_N_K_C.clone()
    lp[0, :, 0] = -math.inf
    lp[2, :2, 1] = -math.inf
    return torch.log_softmax(lp, dim=-1)


def np_p(log_probs):
    return log_probs.double().exp().numpy()


# --------------------------------------------------------------------------------------------------
# BatchBALD against brute force


@pytest.mark.parametrize("matmul_dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed, N, K, C, b", [(0, 7, 5, 3, 4), (1, 8, 6, 2, 5), (2, 6, 4, 4, 3)])
def test_batchbald_equals_brute_force_greedy(matmul_dtype, seed, N, K, C, b, dirichlet_log_probs):
    lp = with_zeros(dirichlet_log_probs(N, K, C, seed))
    batch = acq.get_batchbald_batch(lp, b, num_samples=C ** (b - 1), matmul_dtype=matmul_dtype)
    indices, scores = ref_greedy(np_p(lp), b)
    assert batch.indices == indices
    np.testing.assert_allclose(batch.scores, scores, atol=1e-9)


def test_greedy_within_1_minus_1_over_e_of_exhaustive_optimum(dirichlet_log_probs):
    for seed in range(3):
        lp = dirichlet_log_probs(8, 6, 3, seed=100 + seed, alpha=1.0)
        p = np_p(lp)
        for b in (2, 3):
            batch = acq.get_batchbald_batch(lp, b, num_samples=3**b)
            optimum = max(ref_joint_mi(p, s) for s in itertools.combinations(range(8), b))
            assert batch.scores[-1] >= (1 - 1 / math.e) * optimum
            assert batch.scores[-1] <= optimum + 1e-9


def test_batch_of_one_is_bald_top_point():
    for seed in range(5):
        lp = realistic_log_probs(50, 10, 6, seed)
        batch = acq.get_batchbald_batch(lp, 1)
        bald = acq.get_bald_batch(lp, 1)
        assert batch.indices == bald.indices
        assert batch.scores == pytest.approx(bald.scores, abs=1e-12)


@pytest.mark.parametrize("matmul_dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-10)])
def test_cumulative_scores_invariants_in_exact_regime(matmul_dtype, tol):
    lp = realistic_log_probs(60, 8, 5, seed=3)
    b = 6
    batch = acq.get_batchbald_batch(lp, b, num_samples=5**5, matmul_dtype=matmul_dtype)
    s = np.array(batch.scores)
    bald = ref_bald(np_p(lp))
    assert len(set(batch.indices)) == b
    assert np.all(np.diff(s) >= -tol)  # I[y_S; w] can only grow as S grows
    assert np.all(s <= np.cumsum(bald[batch.indices]) + tol)  # BALD's sum double-counts
    assert np.all(s <= math.log(8) + tol)  # I[y_S; w] <= H[w] = log K
    np.testing.assert_allclose(
        s, [ref_joint_mi(np_p(lp), batch.indices[: i + 1]) for i in range(b)]
    )


def test_duplicates_bald_double_counts_batchbald_does_not():
    """Point 0 splits the K=4 samples {1,2} vs {3,4}; point 1 is its exact copy; point 2 splits
    them {1,3} vs {2,4} (a little less sharply). After point 0 its copy adds nothing, point 2 adds
    log 2."""
    eps = 0.05
    split_a = [[1, 0], [1, 0], [0, 1], [0, 1]]
    split_b = [[1 - eps, eps], [eps, 1 - eps], [1 - eps, eps], [eps, 1 - eps]]
    lp = torch.tensor([split_a, split_a, split_b], dtype=torch.float64).log()  # has -inf entries
    assert acq.get_bald_batch(lp, 2).indices == [0, 1]
    batch = acq.get_batchbald_batch(lp, 3)
    assert batch.indices == [0, 2, 1]
    np.testing.assert_allclose(batch.scores[0], math.log(2), atol=1e-12)
    assert batch.scores[2] == pytest.approx(batch.scores[1], abs=1e-12)  # the copy adds nothing
    np.testing.assert_allclose(
        batch.scores, [ref_joint_mi(np_p(lp), [0, 2, 1][: i + 1]) for i in range(3)]
    )


def test_duplicated_pool_ties_go_to_lowest_index(dirichlet_log_probs):
    lp = dirichlet_log_probs(5, 6, 3, seed=4)
    pool = torch.cat([lp, lp, lp])  # every point three times
    batch = acq.get_batchbald_batch(pool, 4)
    assert batch.indices[0] < 5
    # each pick is the lowest-index copy among equally good ones
    for i, index in enumerate(batch.indices):
        copies = [index % 5 + 5 * r for r in range(3) if index % 5 + 5 * r not in batch.indices[:i]]
        assert index == min(copies)
    assert acq.get_bald_batch(pool, 3).indices == [
        int(np.argmax(ref_bald(np_p(lp)))) + 5 * r for r in range(3)
    ]


def test_k1_everything_is_zero_and_in_index_order(dirichlet_log_probs):
    lp = dirichlet_log_probs(6, 1, 3, seed=5)
    batch = acq.get_batchbald_batch(lp, 4)
    assert batch.indices == [0, 1, 2, 3]
    np.testing.assert_allclose(batch.scores, 0.0, atol=1e-12)
    assert acq.get_bald_batch(lp, 2).indices == [0, 1]


def test_float32_and_float64_inputs_agree():
    lp = realistic_log_probs(80, 10, 4, seed=6)
    a = acq.get_batchbald_batch(lp, 5, seed=0)
    b = acq.get_batchbald_batch(lp.double(), 5, seed=0)
    assert a.indices == b.indices
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-12)
    assert all(isinstance(s, float) for s in a.scores)


def test_float32_products_pick_as_float64_on_realistic_inputs():
    """Near-duplicates give gaps of ~1e-6 nats; float32 screening + float64 re-scoring must agree.

    (Without the re-scoring, seed 2 with duplicate noise 1e-5 picked differently on the dev
    machine.)
    """
    for seed, noise in [(0, 0.01), (1, 0.01), (2, 1e-5), (3, 1e-5)]:
        lp = realistic_log_probs(300, 20, 10, seed=seed, duplicate_noise=noise)
        kwargs = dict(num_samples=1000, seed=seed)  # sampled from the 4th pick on
        a = acq.get_batchbald_batch(lp, 8, matmul_dtype=torch.float32, **kwargs)
        b = acq.get_batchbald_batch(lp, 8, matmul_dtype=torch.float64, **kwargs)
        assert a.indices == b.indices
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-9)


def test_memory_budget_does_not_change_the_result():
    lp = realistic_log_probs(40, 6, 3, seed=7)
    kwargs = dict(num_samples=30, seed=1)  # sampled from the 4th pick on
    a = acq.get_batchbald_batch(lp, 6, **kwargs)
    b = acq.get_batchbald_batch(lp, 6, memory_budget=1, **kwargs)
    c = acq.get_batchbald_batch(lp, 6, memory_budget=3000, **kwargs)
    assert a.indices == b.indices == c.indices
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-12)
    np.testing.assert_allclose(a.scores, c.scores, atol=1e-12)


@pytest.mark.parametrize("matmul_dtype", [torch.float32, torch.float64])
def test_precomputed_candidate_probs_change_no_bit(matmul_dtype):
    # Both budgets leave the tiles as they are at this size (at most 16 or 32 MB on a CPU), but
    # only the default one also has room for the candidates' probabilities of all steps.
    lp = realistic_log_probs(150, 10, 4, seed=21)
    lp[3, :, 0] = -math.inf  # exact zeros
    lp[3] = torch.log_softmax(lp[3], dim=-1)
    small = 8 * 2**20
    assert _kernels.precompute_candidate_probs(lp, matmul_dtype) is not None
    assert _kernels.precompute_candidate_probs(lp, matmul_dtype, small) is None
    kwargs = dict(num_samples=100, seed=3, matmul_dtype=matmul_dtype)  # exact, then sampled
    precomputed = acq.get_batchbald_batch(lp, 7, **kwargs)
    per_tile = acq.get_batchbald_batch(lp, 7, memory_budget=small, **kwargs)
    assert precomputed.indices == per_tile.indices
    assert precomputed.scores == per_tile.scores  # exactly: same tiles, same arithmetic


def test_merging_repeated_samples_changes_nothing(monkeypatch):
    lp = realistic_log_probs(120, 10, 4, seed=17)
    kwargs = dict(num_samples=200, seed=2)  # sampled from the 5th pick on, many repeats
    merged = acq.get_batchbald_batch(lp, 8, **kwargs)
    monkeypatch.setattr(_kernels, "merge_identical_configurations", lambda lj, w: (lj, w))
    unmerged = acq.get_batchbald_batch(lp, 8, **kwargs)
    assert merged.indices == unmerged.indices
    np.testing.assert_allclose(merged.scores, unmerged.scores, atol=1e-10)


def test_c47_sampled_scores_converge_to_exact(dirichlet_log_probs):
    """With C=47 the third pick's joint entropy needs 47^2 = 2209 configurations. Below that budget
    it is sampled: the score must be within 4 standard errors of the exact one, those of the
    entropy route (the mean of M terms f(c) = -log p(c) + H[y_x | c]; SE = std f / sqrt M,
    computed by enumeration); the reported score's estimator has a smaller spread still."""
    lp = with_zeros(dirichlet_log_probs(6, 8, 47, seed=8, alpha=0.3))
    exact = acq.get_batchbald_batch(lp, 3, num_samples=47**2)
    p = np_p(lp)
    np.testing.assert_allclose(
        exact.scores, [ref_joint_mi(p, exact.indices[: i + 1]) for i in range(3)]
    )
    # standard deviation of f over the configurations of the first two picks
    first, x = exact.indices[:2], exact.indices[2]
    f, q = [], []
    for c1, c2 in itertools.product(range(47), repeat=2):
        per_k = p[first[0], :, c1] * p[first[1], :, c2]
        if per_k.mean() > 0:
            cond = (per_k[:, None] * p[x]).mean(0) / per_k.mean()
            f.append(-math.log(per_k.mean()) - xlogx(cond).sum())
            q.append(per_k.mean())
    f, q = np.array(f), np.array(q)
    std = math.sqrt((q * (f - (q * f).sum()) ** 2).sum())
    for M in (200, 2000):
        sampled = acq.get_batchbald_batch(lp, 3, num_samples=M, seed=0)
        assert sampled.indices[:2] == exact.indices[:2]
        assert sampled.scores[:2] == pytest.approx(exact.scores[:2], abs=1e-12)  # still exact
        assert sampled.indices[2] == x  # a clear winner for this input
        assert abs(sampled.scores[2] - exact.scores[2]) <= 4 * std / math.sqrt(M)


def test_sampled_scores_are_fresh_unbiased_estimates_and_picks_are_unchanged(monkeypatch):
    """Sampled steps report ``I[y_S; w]`` of the chosen set estimated afresh after all picks.

    On a brute-forceable sampled problem (C^b = 3^7 > M = 60: steps 4-6 sample), over 40 seeds:
    picks and exact-regime scores are those of the greedy loop's own estimates (bit for bit), the
    fresh scores are unbiased (mean error within 4 SE) and have a smaller mean absolute error than
    the estimates that chose the points (which the winner's curse biases upwards)."""
    lp = realistic_log_probs(40, 10, 3, seed=31)
    fresh = [acq.get_batchbald_batch(lp, 7, num_samples=60, seed=s) for s in range(40)]
    monkeypatch.setattr(acq, "_score_sampled_steps", lambda lp, indices, scores, *_: scores)
    picking = [acq.get_batchbald_batch(lp, 7, num_samples=60, seed=s) for s in range(40)]
    fresh_errors, picking_errors = [], []
    for a, b in zip(fresh, picking, strict=True):
        assert a.indices == b.indices
        assert a.scores[:4] == b.scores[:4]  # 3^3 = 27 <= 60: exact, untouched
        p_exact = np_p(lp)
        for step in (4, 5, 6):
            exact = ref_joint_mi(p_exact, a.indices[: step + 1])
            fresh_errors.append(a.scores[step] - exact)
            picking_errors.append(b.scores[step] - exact)
    fresh_errors, picking_errors = np.array(fresh_errors), np.array(picking_errors)
    se = fresh_errors.std(ddof=1) / math.sqrt(len(fresh_errors))
    assert abs(fresh_errors.mean()) <= 4 * se
    assert np.abs(fresh_errors).mean() < np.abs(picking_errors).mean()


def test_exact_regime_scores_and_picks_do_not_depend_on_the_fresh_scoring(monkeypatch):
    lp = realistic_log_probs(80, 10, 4, seed=32)
    batch = acq.get_batchbald_batch(lp, 5, num_samples=4**4, seed=0)
    monkeypatch.setattr(acq, "_score_sampled_steps", lambda lp, indices, scores, *_: scores)
    assert acq.get_batchbald_batch(lp, 5, num_samples=4**4, seed=0) == batch


def test_c2_and_c47_run_and_stay_finite():
    for C in (2, 47):
        lp = with_zeros(realistic_log_probs(30, 5, C, seed=C).double())
        batch = acq.get_batchbald_batch(lp, 5, num_samples=100, seed=0)
        assert len(set(batch.indices)) == 5 and np.all(np.isfinite(batch.scores))


def test_batch_of_whole_pool_picks_each_point_once(dirichlet_log_probs):
    lp = dirichlet_log_probs(9, 4, 3, seed=9)
    batch = acq.get_batchbald_batch(lp, 9, num_samples=50, seed=0)
    assert sorted(batch.indices) == list(range(9))


def test_batchbald_reproducible_and_leaves_global_rng_alone():
    lp = realistic_log_probs(50, 8, 5, seed=10)
    state = torch.get_rng_state()
    a = acq.get_batchbald_batch(lp, 6, num_samples=40, seed=123)
    b = acq.get_batchbald_batch(lp, 6, num_samples=40, seed=123)
    assert a == b
    assert torch.equal(state, torch.get_rng_state())


# --------------------------------------------------------------------------------------------------
# baselines


def test_baselines_match_their_formulas():
    lp = with_zeros(realistic_log_probs(40, 7, 5, seed=11).double())
    p = np_p(lp)
    mean = p.mean(axis=1)
    expected = {
        "max-entropy": -xlogx(mean).sum(1),
        "variation-ratios": 1 - mean.max(1),
        "mean-std": p.std(axis=1).mean(1),
        "bald": ref_bald(p),
    }
    for name, scores in expected.items():
        batch = acquire(name, lp, 5)
        order = sorted(range(40), key=lambda i: (-scores[i], i))[:5]
        assert batch.indices == order, name
        np.testing.assert_allclose(batch.scores, scores[order], atol=1e-12)


def test_random_batch(dirichlet_log_probs):
    lp = dirichlet_log_probs(30, 2, 3, seed=12)
    a = acq.get_random_batch(lp, 10, seed=5)
    assert a == acq.get_random_batch(lp, 10, seed=5)
    assert len(set(a.indices)) == 10 and all(0 <= i < 30 for i in a.indices)
    assert a.indices != acq.get_random_batch(lp, 10, seed=6).indices
    assert a.scores == [0.0] * 10


# --------------------------------------------------------------------------------------------------
# stochastic batch acquisition


@pytest.mark.parametrize("mode", acq.STOCHASTIC_MODES)
def test_stochastic_high_coldness_is_top_b_and_reproducible(mode):
    lp = realistic_log_probs(60, 10, 5, seed=13)
    top = acq.get_bald_batch(lp, 8)
    cold = acq.get_stochastic_batch(lp, 8, mode=mode, coldness=1e8, seed=0)
    assert cold.indices == top.indices and cold.scores == top.scores
    a = acq.get_stochastic_batch(lp, 8, mode=mode, seed=1)
    assert a == acq.get_stochastic_batch(lp, 8, mode=mode, seed=1)
    assert len(set(a.indices)) == 8


@pytest.mark.parametrize("mode", acq.STOCHASTIC_MODES)
def test_stochastic_first_pick_follows_its_distribution(mode, dirichlet_log_probs):
    """Frequencies of the first pick over 2,000 seeds within 4.5 binomial SE of p ∝ weight."""
    lp = dirichlet_log_probs(4, 6, 3, seed=14, alpha=1.0)
    bald = ref_bald(np_p(lp))
    beta = 2.0
    ranks = np.empty(4)
    ranks[np.argsort(-bald, kind="stable")] = np.arange(1, 5)
    weights = {"power": bald**beta, "softmax": np.exp(beta * bald), "softrank": ranks**-beta}[mode]
    expected = weights / weights.sum()
    n = 2000
    picks = [
        acq.get_stochastic_batch(lp, 1, mode=mode, coldness=beta, seed=s).indices[0]
        for s in range(n)
    ]
    freq = np.bincount(picks, minlength=4) / n
    assert np.all(np.abs(freq - expected) <= 4.5 * np.sqrt(expected * (1 - expected) / n) + 1e-9)


def test_stochastic_zero_coldness_is_uniform():
    lp = realistic_log_probs(5, 6, 3, seed=15)
    n = 1500
    picks = [acq.get_stochastic_batch(lp, 1, coldness=0.0, seed=s).indices[0] for s in range(n)]
    freq = np.bincount(picks, minlength=5) / n
    assert np.all(np.abs(freq - 0.2) <= 4.5 * math.sqrt(0.2 * 0.8 / n))


# --------------------------------------------------------------------------------------------------
# by name, input checking


def test_acquire_every_name_gives_a_valid_batch():
    lp = realistic_log_probs(25, 6, 4, seed=16)
    targets = realistic_log_probs(7, 6, 4, seed=17)  # EPIG's; the other methods ignore them
    assert len(ACQUISITION_NAMES) == 11
    for name in ACQUISITION_NAMES:
        batch = acquire(
            name, lp, 4, seed=0, num_samples=20, coldness=1.0, target_log_probs_M_K_C=targets
        )
        assert isinstance(batch, CandidateBatch)
        assert len(batch.indices) == len(set(batch.indices)) == len(batch.scores) == 4
        assert all(isinstance(i, int) and 0 <= i < 25 for i in batch.indices)
        empty = acquire(name, lp, 0, seed=0, target_log_probs_M_K_C=targets)
        assert empty == CandidateBatch([], [])
    assert acquire("batchbald", lp, 4, seed=0, num_samples=20) == acq.get_batchbald_batch(
        lp, 4, num_samples=20, seed=0
    )
    assert acquire("softrank-bald", lp, 4, seed=3, coldness=2.0) == acq.get_stochastic_batch(
        lp, 4, mode="softrank", coldness=2.0, seed=3
    )


GOOD = torch.log_softmax(torch.randn(5, 3, 4), dim=-1)


@pytest.mark.parametrize("name", ACQUISITION_NAMES)
@pytest.mark.parametrize(
    "log_probs, acquisition_size, match",
    [
        (GOOD[0], 1, "3-D"),
        (GOOD.clone().index_put_((torch.tensor([1]),), torch.tensor(math.nan)), 1, "NaN"),
        (GOOD.clone().index_put_((torch.tensor([1]),), torch.tensor(math.inf)), 1, r"\+inf"),
        (GOOD + 1.0, 1, "not normalised"),
        (GOOD.exp(), 1, "not normalised"),
        (GOOD[:, :0], 1, "K = 1"),
        (GOOD, -1, "acquisition_size"),
        (GOOD, 6, "acquisition_size"),
    ],
)
def test_invalid_inputs_raise_value_error(name, log_probs, acquisition_size, match):
    with pytest.raises(ValueError, match=match):
        acquire(name, log_probs, acquisition_size, seed=0, target_log_probs_M_K_C=GOOD)


def test_other_invalid_arguments():
    with pytest.raises(ValueError, match="valid names"):
        acquire("bald-ish", GOOD, 1)
    with pytest.raises(ValueError, match="num_samples"):
        acq.get_batchbald_batch(GOOD, 2, num_samples=0)
    with pytest.raises(ValueError, match="matmul_dtype"):
        acq.get_batchbald_batch(GOOD, 2, matmul_dtype=torch.float16)
    with pytest.raises(ValueError, match="mode"):
        acq.get_stochastic_batch(GOOD, 2, mode="greedy")
    with pytest.raises(ValueError, match="coldness"):
        acq.get_stochastic_batch(GOOD, 2, coldness=-1.0)
    with pytest.raises(TypeError):
        acq.get_bald_batch(GOOD, 1.5)


# --------------------------------------------------------------------------------------------------
# EPIG: top-b and power sampling from EPIG scores


def epig_problem(seed=18):
    """A realistic pool and 9 targets scored by the same K = 8 posterior samples (one draw)."""
    both = realistic_log_probs(49, 8, 5, seed=seed)
    return both[:40], both[40:]


def test_epig_acquisition_is_top_b_of_the_epig_scores():
    lp, targets = epig_problem()
    scores = info.epig(lp, targets).numpy()
    batch = acquire("epig", lp, 1, target_log_probs_M_K_C=targets)
    assert batch.indices == [int(np.argmax(scores))]
    batch = acquire("epig", lp, 6, seed=3, target_log_probs_M_K_C=targets)
    order = np.argsort(-scores, kind="stable")[:6]
    assert batch.indices == order.tolist()
    np.testing.assert_allclose(batch.scores, scores[order], rtol=0, atol=0)
    assert batch == acq.get_epig_batch(lp, 6, target_log_probs_M_K_C=targets)
    # EPIG is not BALD: it ranks by information about the targets' labels
    assert batch.indices != acq.get_bald_batch(lp, 6).indices


def test_power_epig_is_reproducible_and_top_b_when_cold():
    lp, targets = epig_problem()
    top = acq.get_epig_batch(lp, 6, target_log_probs_M_K_C=targets)
    cold = acquire("power-epig", lp, 6, seed=0, coldness=1e8, target_log_probs_M_K_C=targets)
    assert cold.indices == top.indices and cold.scores == top.scores
    a = acquire("power-epig", lp, 6, seed=1, target_log_probs_M_K_C=targets)
    assert a == acquire("power-epig", lp, 6, seed=1, target_log_probs_M_K_C=targets)
    assert a == acq.get_stochastic_batch(
        lp, 6, mode="power", coldness=1.0, seed=1, target_log_probs_M_K_C=targets
    )
    assert len(set(a.indices)) == 6
    others = [acquire("power-epig", lp, 6, seed=s, target_log_probs_M_K_C=targets) for s in (2, 3)]
    assert any(o.indices != a.indices for o in others)  # warm: a sample, not the top-b
    scores = info.epig(lp, targets).numpy()
    np.testing.assert_allclose(a.scores, scores[a.indices], rtol=0, atol=0)


def test_power_epig_first_pick_follows_epig_to_the_power(dirichlet_log_probs):
    """Frequencies of the first pick over 2,000 seeds within 4.5 binomial SE of p ∝ EPIG^β."""
    lp = dirichlet_log_probs(4, 6, 3, seed=19, alpha=1.0)
    targets = dirichlet_log_probs(5, 6, 3, seed=20, alpha=1.0)
    beta = 2.0
    weights = info.epig(lp, targets).numpy() ** beta
    expected = weights / weights.sum()
    n = 2000
    picks = [
        acquire("power-epig", lp, 1, seed=s, coldness=beta, target_log_probs_M_K_C=targets).indices[
            0
        ]
        for s in range(n)
    ]
    freq = np.bincount(picks, minlength=4) / n
    assert np.all(np.abs(freq - expected) <= 4.5 * np.sqrt(expected * (1 - expected) / n) + 1e-9)


@pytest.mark.parametrize("name", acq.EPIG_ACQUISITIONS)
def test_epig_without_targets_is_a_clear_error(name):
    with pytest.raises(ValueError, match=f"'{name}' needs target_log_probs_M_K_C"):
        acquire(name, GOOD, 1, seed=0)


@pytest.mark.parametrize("name", acq.EPIG_ACQUISITIONS)
@pytest.mark.parametrize(
    "targets, match",
    [
        (GOOD[:, :2], "share the K posterior samples"),
        (torch.log_softmax(torch.randn(3, 3, 5), dim=-1), "same C classes"),
        (GOOD[:0], "empty target set"),
        (GOOD.clone().index_put_((torch.tensor([1]),), torch.tensor(math.nan)), "NaN"),
    ],
)
def test_epig_bad_targets_are_named(name, targets, match):
    with pytest.raises(ValueError, match=match):
        acquire(name, GOOD, 1, seed=0, target_log_probs_M_K_C=targets)


def test_other_methods_ignore_targets():
    lp, targets = epig_problem()
    for name in ("bald", "batchbald", "power-bald", "random"):
        assert acquire(name, lp, 3, seed=2, num_samples=50, target_log_probs_M_K_C=targets) == (
            acquire(name, lp, 3, seed=2, num_samples=50)
        )
