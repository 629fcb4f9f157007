"""Tests for bbal_tutorial.information against an independent numpy float64 brute force."""

import itertools
import math

import numpy as np
import pytest
import torch

from bbal_tutorial import information as info

# --------------------------------------------------------------------------------------------------
# independent reference (numpy, float64, explicit enumeration)


def xlogx(p):
    p = np.asarray(p, dtype=np.float64)
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def ref_entropy(p_N_K_C):
    return -xlogx(p_N_K_C.mean(axis=1)).sum(axis=1)


def ref_conditional_entropy(p_N_K_C):
    return -xlogx(p_N_K_C).sum(axis=2).mean(axis=1)


def ref_config_probs(p_n_K_C):
    """p(c) for every configuration c of the n points, in itertools.product order."""
    n, K, C = p_n_K_C.shape
    probs = []
    for config in itertools.product(range(C), repeat=n):
        per_k = np.ones(K)
        for j, c in enumerate(config):
            per_k = per_k * p_n_K_C[j, :, c]
        probs.append(per_k.mean())
    return np.array(probs)


def ref_joint_entropy(p_n_K_C):
    return -xlogx(ref_config_probs(p_n_K_C)).sum()


def with_zeros(log_probs_N_K_C):
    """Set some probabilities to exactly 0 (log-prob -inf) and renormalise."""
    lp = log_probs_N_K_C.clone()
    lp[0, :, 0] = -math.inf  # class 0 impossible for point 0 under every sample
    lp[1, 0, 1] = -math.inf  # one sample rules out class 1 for point 1
    return torch.log_softmax(lp, dim=-1)


def np_p(log_probs):
    return log_probs.double().exp().numpy()


# --------------------------------------------------------------------------------------------------
# input checking


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.zeros(3, 4), "3-D"),
        (torch.zeros(2, 3, 4, 5), "3-D"),
        (torch.full((2, 0, 3), -1.0), "K = 1"),
        (torch.zeros(2, 3, 0), "C = 1"),
        (torch.zeros(2, 3, 4, dtype=torch.int64), "floating point"),
        (torch.tensor([[[math.nan, 0.0]]]), "NaN"),
        (torch.tensor([[[math.inf, -math.inf]]]), r"\+inf"),
        (torch.randn(2, 3, 4), "not normalised"),  # logits
        (torch.softmax(torch.randn(2, 3, 4), -1), "not normalised"),  # probabilities
        (torch.full((1, 1, 3), -math.inf), "not normalised"),  # all classes impossible
    ],
)
def test_check_log_probs_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        info.check_log_probs(bad)
    with pytest.raises(ValueError, match=match):
        info.mutual_information(bad)


def test_check_log_probs_type_error():
    with pytest.raises(TypeError):
        info.check_log_probs(np.zeros((1, 1, 1)))


def test_check_log_probs_accepts_float32_log_softmax_and_zeros():
    log_probs = torch.log_softmax(torch.randn(50, 10, 47) * 5, dim=-1)
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        info.check_log_probs(log_probs.to(dtype))
    info.check_log_probs(torch.tensor([[[0.0, -math.inf]]]))
    info.check_log_probs(torch.zeros(0, 3, 4))


# --------------------------------------------------------------------------------------------------
# per-point quantities


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("C", [2, 5, 47])
def test_per_point_quantities_match_reference(dtype, C, dirichlet_log_probs):
    lp = with_zeros(dirichlet_log_probs(6, 7, C, seed=C)).to(dtype)
    p = np_p(lp)
    H, EH = info.entropy(lp), info.conditional_entropy(lp)
    assert H.dtype == EH.dtype == torch.float64
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(H.numpy(), ref_entropy(p), atol=tol)
    np.testing.assert_allclose(EH.numpy(), ref_conditional_entropy(p), atol=tol)
    mi = info.mutual_information(lp).numpy()
    np.testing.assert_allclose(mi, ref_entropy(p) - ref_conditional_entropy(p), atol=tol)
    assert np.all(np.isfinite(mi)) and np.all(mi >= -1e-12) and np.all(mi <= math.log(7) + 1e-9)
    np.testing.assert_allclose(
        info.predictive_log_probs(lp).exp().numpy(), p.mean(axis=1), atol=tol
    )


def test_zero_probability_class_is_ignored(dirichlet_log_probs):
    """A class with probability 0 everywhere contributes nothing: same as dropping it."""
    lp = dirichlet_log_probs(4, 5, 3, seed=1)
    padded = torch.cat([lp, torch.full((4, 5, 1), -math.inf, dtype=lp.dtype)], dim=2)
    for f in (info.entropy, info.conditional_entropy, info.mutual_information):
        assert torch.equal(f(padded), f(lp))
    assert torch.isclose(info.joint_entropy_exact(padded[:2]), info.joint_entropy_exact(lp[:2]))


def test_k1_bald_is_zero(dirichlet_log_probs):
    lp = dirichlet_log_probs(5, 1, 4, seed=2)
    assert torch.equal(info.mutual_information(lp), torch.zeros(5, dtype=torch.float64))
    assert torch.allclose(info.entropy(lp), info.conditional_entropy(lp))


# --------------------------------------------------------------------------------------------------
# joint entropy


@pytest.mark.parametrize("n, K, C", [(1, 3, 4), (2, 5, 3), (3, 4, 3), (4, 6, 2), (2, 3, 47)])
def test_joint_entropy_exact_matches_brute_force(n, K, C, dirichlet_log_probs):
    lp = with_zeros(dirichlet_log_probs(n + 1, K, C, seed=10 * n + C))[-n:]
    expected = ref_joint_entropy(np_p(lp))
    assert info.joint_entropy_exact(lp).item() == pytest.approx(expected, abs=1e-12)
    # enumeration order: row = configuration read as a base-C number
    log_joint = info.exact_configurations(lp)
    marginal = torch.logsumexp(log_joint, 1).exp() / K
    np.testing.assert_allclose(marginal.numpy(), ref_config_probs(np_p(lp)), atol=1e-15)


def test_joint_entropy_of_one_point_and_of_nothing(dirichlet_log_probs):
    lp = dirichlet_log_probs(3, 4, 5, seed=4)
    assert info.joint_entropy_exact(lp[:1]).item() == pytest.approx(info.entropy(lp)[0].item())
    assert info.joint_entropy_exact(lp[:0]).item() == 0.0
    assert info.joint_entropy_sampled(lp[:0], 10).item() == 0.0


def test_joint_entropy_exact_refuses_huge_enumeration(dirichlet_log_probs):
    lp = dirichlet_log_probs(7, 2, 10, seed=5)
    with pytest.raises(ValueError, match="joint_entropy_sampled"):
        info.joint_entropy_exact(lp)


def sampled_standard_error(p_n_K_C, M):
    """Exact standard error of the sampled estimator with M i.i.d. samples.

    The estimate is the mean of f(c) = -log q(c) + H[y_n | c] over configurations c of the first n-1
    points drawn from q; its variance is Var_q[f] / M (stratifying the posterior sample can only
    lower it). Var_q[f] is computed here by enumerating all c.
    """
    first, last = p_n_K_C[:-1], p_n_K_C[-1]
    n1, K, C = first.shape
    fs, qs = [], []
    for config in itertools.product(range(C), repeat=n1):
        per_k = np.ones(K)
        for j, c in enumerate(config):
            per_k = per_k * first[j, :, c]
        q = per_k.mean()
        if q == 0:
            continue
        cond = (per_k[:, None] * last).mean(axis=0) / q  # p(y_n | c)
        fs.append(-math.log(q) - xlogx(cond).sum())
        qs.append(q)
    fs, qs = np.array(fs), np.array(qs)
    mean = (qs * fs).sum()
    return math.sqrt((qs * (fs - mean) ** 2).sum() / M), mean


def test_joint_entropy_sampled_converges_to_exact(dirichlet_log_probs):
    """Error <= 4 standard errors at every budget (fixed seed), and the estimator is unbiased.

    4 SE: for a fixed seed the test is deterministic; a correct estimator exceeds 4 SE with
    probability < 1e-4 per budget, a biased one (e.g. wrong weights) fails at large M.
    """
    lp = dirichlet_log_probs(5, 8, 3, seed=6, alpha=1.0)
    p = np_p(lp)
    exact = ref_joint_entropy(p)
    errors = []
    for M in (100, 1_000, 10_000, 100_000):
        se, mean = sampled_standard_error(p, M)
        assert mean == pytest.approx(exact, abs=1e-12)  # E_q[f] is the joint entropy
        estimate = info.joint_entropy_sampled(lp, M, seed=0).item()
        assert abs(estimate - exact) <= 4 * se, (M, estimate, exact, se)
        errors.append(abs(estimate - exact))
    assert errors[-1] < 0.02
    # unbiased: the mean of 200 independent small-M estimates is within 4 SE / sqrt(200)
    se50, _ = sampled_standard_error(p, 50)
    estimates = [info.joint_entropy_sampled(lp, 50, seed=s).item() for s in range(200)]
    assert abs(np.mean(estimates) - exact) <= 4 * se50 / math.sqrt(200)


def test_joint_entropy_sampled_reproducible_and_rng_clean(dirichlet_log_probs):
    lp = dirichlet_log_probs(4, 6, 4, seed=7)
    state = torch.get_rng_state()
    a = info.joint_entropy_sampled(lp, 500, seed=3)
    b = info.joint_entropy_sampled(lp, 500, seed=3)
    assert torch.equal(a, b)
    assert torch.equal(state, torch.get_rng_state())


def test_joint_entropy_switches_from_exact_to_sampled(dirichlet_log_probs):
    lp = dirichlet_log_probs(3, 5, 4, seed=8)  # C^n = 64
    assert torch.equal(info.joint_entropy(lp, num_samples=64), info.joint_entropy_exact(lp))
    sampled = info.joint_entropy(lp, num_samples=63, seed=1)
    assert torch.equal(sampled, info.joint_entropy_sampled(lp, 63, seed=1))
    assert not torch.equal(sampled, info.joint_entropy_exact(lp))


def test_mutual_information_sampled_is_unbiased_and_tighter_than_the_entropy_route(
    dirichlet_log_probs,
):
    """``H[w] - H[w | y_S]`` from M configurations: unbiased (mean of 200 seeds within 4 SE of the
    exact value), every term in [0, log K] so each estimate is within 4 · log K / (2 sqrt M), and
    its spread is less than half that of ``joint_entropy_sampled - sum E_w H[y|w]``."""
    lp = dirichlet_log_probs(6, 8, 3, seed=21, alpha=0.5)
    exact = info.batch_mutual_information(lp)
    M = 100
    posterior_route = np.array(
        [info.mutual_information_sampled(lp, M, seed=s).item() for s in range(200)]
    )
    entropy_route = np.array(
        [
            (info.joint_entropy_sampled(lp, M, seed=s) - info.conditional_entropy(lp).sum()).item()
            for s in range(200)
        ]
    )
    assert np.all(np.abs(posterior_route - exact) <= 4 * math.log(8) / (2 * math.sqrt(M)))
    se = posterior_route.std(ddof=1) / math.sqrt(200)
    assert abs(posterior_route.mean() - exact) <= 4 * se
    assert posterior_route.std() < 0.5 * entropy_route.std()


def test_mutual_information_sampled_of_one_point_is_bald_and_of_none_is_zero(dirichlet_log_probs):
    lp = dirichlet_log_probs(3, 6, 4, seed=22)
    # one point: the only configuration of the 0 points before it is the empty one, so no sampling
    for n in range(3):
        assert info.mutual_information_sampled(lp[n : n + 1], 7, seed=0).item() == pytest.approx(
            info.mutual_information(lp[n : n + 1]).item(), abs=1e-12
        )
    assert info.mutual_information_sampled(lp[:0], 7, seed=0).item() == 0.0


def test_mutual_information_sampled_reproducible_rng_clean_and_handles_zeros(dirichlet_log_probs):
    lp = with_zeros(dirichlet_log_probs(5, 6, 3, seed=23))
    state = torch.get_rng_state()
    a = info.mutual_information_sampled(lp, 300, seed=4)
    assert torch.equal(a, info.mutual_information_sampled(lp, 300, seed=4))
    assert torch.equal(state, torch.get_rng_state())
    assert a.dtype == torch.float64 and 0.0 <= a.item() <= math.log(6)
    assert a.item() == pytest.approx(info.batch_mutual_information(lp), abs=0.1)
    with pytest.raises(ValueError, match="num_samples"):
        info.mutual_information_sampled(lp, 0)


def test_sampled_configurations_use_every_posterior_sample_equally(dirichlet_log_probs):
    lp = dirichlet_log_probs(2, 7, 3, seed=9)
    log_joint, components = info.sample_configurations(lp, 71, torch.Generator().manual_seed(0))
    counts = torch.bincount(components, minlength=7)
    assert counts.min() >= 10 and counts.max() <= 11
    assert log_joint.shape == (71, 7) and torch.isfinite(log_joint.logsumexp(1)).all()


# --------------------------------------------------------------------------------------------------
# H[y_n | Y_S] of every candidate (the tiled product)


def ref_conditional_given_configs(p_S, p_N):
    """H[y_n | Y_S] for every candidate n, by enumeration."""
    n, K, C = p_S.shape
    out = np.zeros(len(p_N))
    for config in itertools.product(range(C), repeat=n):
        per_k = np.ones(K)
        for j, c in enumerate(config):
            per_k = per_k * p_S[j, :, c]
        q = per_k.mean()
        if q == 0:
            continue
        joint_N_C = np.einsum("k,nkc->nc", per_k, p_N) / K
        out += -xlogx(joint_N_C).sum(1) + xlogx(q)  # p(c) H[y|c] = -sum p(c,y) log p(c,y) + p log p
    return out


@pytest.mark.parametrize("compute_dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_entropy_given_configurations_matches_brute_force_in_any_chunking(
    compute_dtype, tol, dirichlet_log_probs
):
    lp = with_zeros(dirichlet_log_probs(13, 5, 3, seed=11))
    S, pool = lp[:3], lp
    log_joint = info.exact_configurations(S)
    weights = (torch.logsumexp(log_joint, 1) - math.log(5)).exp()
    expected = ref_conditional_given_configs(np_p(S), np_p(pool))
    results = []
    for budget in (info.DEFAULT_MEMORY_BUDGET, 1, 700, 5_000):  # tiny budgets: many tiles
        got = info.entropy_given_configurations(
            log_joint, weights, pool, compute_dtype=compute_dtype, memory_budget=budget
        )
        np.testing.assert_allclose(got.numpy(), expected, atol=tol)
        results.append(got)
    for got in results[1:]:
        np.testing.assert_allclose(got.numpy(), results[0].numpy(), atol=tol)


@pytest.mark.parametrize("matmul_dtype", [torch.float64, torch.float32])
def test_chosen_configurations_give_the_joint_entropy_with_each_candidate(
    matmul_dtype, dirichlet_log_probs
):
    lp = with_zeros(dirichlet_log_probs(7, 5, 3, seed=16))
    chosen = info.ChosenConfigurations(
        lp, num_samples=9, generator=torch.Generator().manual_seed(0), matmul_dtype=matmul_dtype
    )
    tol = 1e-12 if matmul_dtype == torch.float64 else 1e-5
    for index in (4, 1):  # exact: C^2 = 9 configurations
        np.testing.assert_allclose(
            chosen.joint_entropy_with_each_candidate().numpy(),
            [ref_joint_entropy(np_p(lp[[*chosen.indices, x]])) for x in range(7)],
            atol=tol,
        )
        chosen.add(index)
    assert chosen.screens == (matmul_dtype == torch.float32)
    candidates = torch.tensor([0, 6])
    np.testing.assert_allclose(
        chosen.joint_entropy_with(candidates).numpy(),
        [ref_joint_entropy(np_p(lp[[4, 1, x]])) for x in (0, 6)],
        atol=1e-12,
    )
    chosen.add(0)  # 27 > 9 configurations: sampled, and finite
    assert torch.isfinite(chosen.joint_entropy_with_each_candidate()).all()


# --------------------------------------------------------------------------------------------------
# information diagrams


def test_two_variable_regions(dirichlet_log_probs):
    lp = dirichlet_log_probs(1, 6, 4, seed=12)[0]
    r = info.two_variable_regions(lp)
    assert r["H[w]"] == pytest.approx(math.log(6))
    assert r["I[y;w]"] == pytest.approx(info.mutual_information(lp[None]).item())
    assert r["H[y|w]"] == pytest.approx(info.conditional_entropy(lp[None]).item())
    assert r["H[y|w]"] + r["I[y;w]"] + r["H[w|y]"] == pytest.approx(r["H[y,w]"])
    assert r["H[y,w]"] == pytest.approx(math.log(6) + r["H[y|w]"])
    assert all(isinstance(v, float) for v in r.values())


def test_three_variable_regions_of_two_points(dirichlet_log_probs):
    lp = with_zeros(dirichlet_log_probs(2, 5, 3, seed=13))
    r = info.three_variable_regions(lp)
    regions = [
        "H[y1|y2,w]",
        "H[y2|y1,w]",
        "H[w|y1,y2]",
        "I[y1;y2|w]",
        "I[y1;w|y2]",
        "I[y2;w|y1]",
        "I[y1;y2;w]",
    ]
    assert sum(r[k] for k in regions) == pytest.approx(r["H[y1,y2,w]"], abs=1e-12)
    EH = info.conditional_entropy(lp).numpy()
    bald = info.mutual_information(lp).numpy()
    assert r["H[w]"] == pytest.approx(math.log(5))
    assert r["H[y1,y2,w]"] == pytest.approx(math.log(5) + EH.sum())
    assert r["I[y1;y2|w]"] == pytest.approx(0.0, abs=1e-12)  # independent given w
    joint_mi = info.joint_entropy_exact(lp).item() - EH.sum()
    assert r["I[y1;y2;w]"] == pytest.approx(bald.sum() - joint_mi, abs=1e-12)
    assert r["I[y1;y2;w]"] >= -1e-12  # = I[y1;y2] here, so never negative
    with pytest.raises(ValueError, match="2 points"):
        info.three_variable_regions(lp[:1])


def test_three_variable_regions_general_joint_and_negative_co_information():
    rng = np.random.default_rng(14)
    table = torch.from_numpy(rng.dirichlet(np.ones(60)).reshape(3, 4, 5))
    r = info.three_variable_regions_from_joint(table)
    regions = [k for k in r if k not in ("H[a,b,z]", "H[a]", "H[b]", "H[z]")]
    assert len(regions) == 7
    assert sum(r[k] for k in regions) == pytest.approx(r["H[a,b,z]"], abs=1e-12)
    # z = a XOR b: pairwise independent, jointly dependent -> co-information -log 2
    xor = torch.zeros(2, 2, 2, dtype=torch.float64)
    for a, b in itertools.product(range(2), repeat=2):
        xor[a, b, a ^ b] = 0.25
    r = info.three_variable_regions_from_joint(xor, names=("y1", "y2", "w"))
    assert r["I[y1;y2;w]"] == pytest.approx(-math.log(2))
    assert r["I[y1;y2|w]"] == pytest.approx(math.log(2))
    assert r["H[y1,y2,w]"] == pytest.approx(2 * math.log(2))
    two = info.two_variable_regions_from_joint(xor.sum(2))
    assert two["I[a;b]"] == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# EPIG: brute force, invariants, chunking, bad inputs


def ref_epig_terms(p_N_K_C, q_M_K_C):
    """``(H[y]_N, H[y*]_M, H[y, y*]_N_M)`` from the definitions, by explicit loops over k and the
    labels: ``p(c) = 1/K sum_k p(c|w_k)``, ``p(c, d) = 1/K sum_k p(c|x,w_k) p(d|x*,w_k)``."""
    N, K, C = p_N_K_C.shape
    M = q_M_K_C.shape[0]

    def entropy_of(probs):
        return -sum(p * math.log(p) for p in probs if p > 0)

    def predictive(p_K_C):
        return [sum(p_K_C[k, c] for k in range(K)) / K for c in range(C)]

    entropy_N = np.array([entropy_of(predictive(p_N_K_C[n])) for n in range(N)])
    entropy_M = np.array([entropy_of(predictive(q_M_K_C[m])) for m in range(M)])
    joint_N_M = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            joint = [
                sum(p_N_K_C[n, k, c] * q_M_K_C[m, k, d] for k in range(K)) / K
                for c in range(C)
                for d in range(C)
            ]
            joint_N_M[n, m] = entropy_of(joint)
    return entropy_N, entropy_M, joint_N_M


def ref_epig(p_N_K_C, q_M_K_C):
    entropy_N, entropy_M, joint_N_M = ref_epig_terms(p_N_K_C, q_M_K_C)
    return (entropy_N[:, None] + entropy_M[None, :] - joint_N_M).mean(axis=1)


@pytest.mark.parametrize(
    "N, M, K, C", [(3, 4, 5, 3), (4, 2, 6, 2), (2, 3, 1, 4), (2, 2, 3, 47), (5, 1, 4, 3)]
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_epig_matches_brute_force_term_by_term(N, M, K, C, dtype, dirichlet_log_probs):
    pool = with_zeros(dirichlet_log_probs(max(N, 2), K, C, seed=N + 10 * C))[:N].to(dtype)
    targets = with_zeros(dirichlet_log_probs(max(M, 2), K, C, seed=M + 7 * C + 1))[:M].to(dtype)
    p, q = np_p(pool), np_p(targets)
    entropy_N, entropy_M, joint_N_M = ref_epig_terms(p, q)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    # each term: H[y], H[y*] and the targets' mean of H[y, y*]
    np.testing.assert_allclose(info.entropy(pool).numpy(), entropy_N, atol=tol)
    np.testing.assert_allclose(info.entropy(targets).numpy(), entropy_M, atol=tol)
    mean_joint_N = info._mean_joint_entropy_with_targets(pool, targets, 2**20)
    np.testing.assert_allclose(mean_joint_N.numpy(), joint_N_M.mean(axis=1), atol=tol)
    # the joint's marginals are the single predictives: the brute force is consistent
    assert np.all(joint_N_M <= entropy_N[:, None] + entropy_M[None, :] + tol)
    scores_N = info.epig(pool, targets)
    assert scores_N.dtype == torch.float64 and scores_N.shape == (N,)
    assert torch.isfinite(scores_N).all()
    expected = (entropy_N[:, None] + entropy_M[None, :] - joint_N_M).mean(axis=1)
    np.testing.assert_allclose(scores_N.numpy(), expected, atol=tol)
    # one posterior sample: y and y* are independent (float32 rows are renormalised first)
    if K == 1:
        np.testing.assert_allclose(scores_N.numpy(), 0.0, atol=1e-12)


def test_epig_brute_force_of_a_hand_made_case():
    """Two equally likely networks, each certain: one says class 0 everywhere, the other class 1.
    Knowing y tells y* exactly, so I[y; y*] = H[y*] = log 2; a target that both networks predict
    alike gives 0."""
    certain = torch.tensor([[[0.0, -math.inf], [-math.inf, 0.0]]], dtype=torch.float64)
    alike = torch.log(torch.tensor([[[0.3, 0.7], [0.3, 0.7]]], dtype=torch.float64))
    assert info.epig(certain, certain).item() == pytest.approx(math.log(2), abs=1e-15)
    assert info.epig(certain, alike).item() == pytest.approx(0.0, abs=1e-15)
    both = torch.cat([certain, alike])
    assert info.epig(certain, both).item() == pytest.approx(math.log(2) / 2, abs=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_epig_invariants_on_random_inputs(seed, dirichlet_log_probs, softmax_log_probs):
    """0 <= EPIG(x) <= min(BALD(x), mean_m BALD(x*_m)): y -> w -> y* (data processing)."""
    K, C = 7, 4
    pool = torch.cat(
        [dirichlet_log_probs(10, K, C, seed=seed), softmax_log_probs(10, K, C, seed=seed)]
    )
    targets = torch.cat(
        [dirichlet_log_probs(6, K, C, seed=seed + 100), softmax_log_probs(6, K, C, seed=seed + 1)]
    )
    scores_N = info.epig(pool, targets)
    bald_N = info.mutual_information(pool)
    target_bald = info.mutual_information(targets).mean()
    assert torch.all(scores_N >= -1e-12)
    assert torch.all(scores_N <= bald_N + 1e-12)
    assert torch.all(scores_N <= target_bald + 1e-12)
    assert scores_N.max() > 1e-3  # not trivially 0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_epig_is_zero_for_a_point_whose_predictions_do_not_depend_on_w(dtype, dirichlet_log_probs):
    pool = dirichlet_log_probs(5, 6, 3, seed=3)
    pool[2] = pool[2, :1].expand(6, 3)  # point 2: the same prediction under every sample
    pool[4] = torch.tensor([0.0, -math.inf, 1.0], dtype=torch.float64).log_softmax(0)  # a zero
    pool, targets = pool.to(dtype), dirichlet_log_probs(8, 6, 3, seed=4).to(dtype)
    scores_N = info.epig(pool, targets)
    assert scores_N[2].item() == pytest.approx(0.0, abs=1e-12)
    assert scores_N[4].item() == pytest.approx(0.0, abs=1e-12)
    assert torch.all(scores_N[[0, 1, 3]] > 1e-4)
    # targets whose predictions do not depend on w carry no information either
    flat_targets = targets[:, :1].expand(8, 6, 3)
    np.testing.assert_allclose(info.epig(pool, flat_targets).numpy(), 0.0, atol=1e-12)


def test_epig_with_the_point_itself_as_target_is_the_information_between_two_draws(
    dirichlet_log_probs, softmax_log_probs
):
    """One x* = x: EPIG(x) = I[y; y'] for two labels y, y' of x drawn given the same w."""
    for pool in (dirichlet_log_probs(5, 6, 4, seed=5), softmax_log_probs(5, 6, 4, seed=6)):
        p = np_p(pool)
        for n in range(5):
            # I[y; y'] = sum p(c,c') log(p(c,c') / (p(c) p(c'))), p(c,c') = E_k p_k(c) p_k(c')
            joint = np.einsum("kc,kd->cd", p[n], p[n]) / p.shape[1]
            marginal = p[n].mean(axis=0)
            expected = np.sum(joint * np.log(joint / np.outer(marginal, marginal)))
            got = info.epig(pool[n : n + 1], pool[n : n + 1]).item()
            assert got == pytest.approx(expected, abs=1e-12)
            # only the target set changes the score of x, not the other pool points
            assert info.epig(pool, pool[n : n + 1])[n].item() == pytest.approx(got, abs=1e-12)


def spy_on_joint_tiles(monkeypatch) -> list[int]:
    """Record the entries of every tile of the joint: each is one ``torch.mm`` in :func:`epig`."""
    sizes = []
    real_mm = torch.mm

    def mm(a, b, *args, **kwargs):
        sizes.append(a.shape[0] * b.shape[1])
        return real_mm(a, b, *args, **kwargs)

    monkeypatch.setattr(torch, "mm", mm)
    return sizes


@pytest.mark.parametrize("budget", [1, 40 * 9 * 3, 40 * 9 * 7, 10**5])
def test_epig_memory_budget_chunks_without_changing_the_result(
    budget, monkeypatch, dirichlet_log_probs
):
    pool = with_zeros(dirichlet_log_probs(23, 5, 3, seed=7))
    targets = dirichlet_log_probs(11, 5, 3, seed=8)
    reference = info.epig(pool, targets)  # the default budget: a single tile here
    tiles = spy_on_joint_tiles(monkeypatch)
    chunked = info.epig(pool, targets, memory_budget=budget)
    monkeypatch.undo()
    torch.testing.assert_close(chunked, reference, rtol=0, atol=1e-13)
    pair = 3 * 3  # entries of one pair's C × C joint
    assert sum(tiles) == 23 * 11 * pair  # every pair once
    # the budget holds: every tile fits it (at least one pair)
    assert max(tiles) * info._EPIG_BYTES_PER_ENTRY <= max(budget, info._EPIG_BYTES_PER_ENTRY * pair)
    if budget < 10**5:
        assert len(tiles) > 1


def test_epig_tiles_stay_small_for_large_inputs(monkeypatch, softmax_log_probs):
    """N = 300, M = 50, C = 10: the default budget never holds N × M × C² entries at once."""
    pool = softmax_log_probs(300, 4, 10, seed=9)
    targets = softmax_log_probs(50, 4, 10, seed=10)
    tiles = spy_on_joint_tiles(monkeypatch)
    scores_N = info.epig(pool, targets)
    monkeypatch.undo()
    assert sum(tiles) == 300 * 50 * 100
    assert len(tiles) > 1 and max(tiles) <= info._EPIG_CPU_TILE_ENTRIES
    torch.testing.assert_close(
        scores_N, info.epig(pool, targets, memory_budget=1), rtol=0, atol=1e-13
    )


def test_epig_float32_inputs_agree_with_float64_and_an_empty_pool_gives_nothing(
    softmax_log_probs,
):
    pool, targets = softmax_log_probs(6, 5, 4, seed=11), softmax_log_probs(3, 5, 4, seed=12)
    torch.testing.assert_close(
        info.epig(pool.float(), targets.float()), info.epig(pool, targets), rtol=0, atol=1e-5
    )
    empty = info.epig(pool[:0], targets)
    assert empty.shape == (0,) and empty.dtype == torch.float64


GOOD_POOL = torch.log_softmax(torch.randn(4, 3, 5, dtype=torch.float64), dim=-1)
GOOD_TARGETS = torch.log_softmax(torch.randn(6, 3, 5, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize(
    "pool, targets, match",
    [
        (GOOD_POOL, GOOD_TARGETS[:, :2], r"share the K posterior samples.*K = 3 and K = 2"),
        (
            GOOD_POOL,
            torch.log_softmax(torch.randn(6, 3, 4), -1),
            r"same C classes.*C = 5 and C = 4",
        ),
        (GOOD_POOL, GOOD_TARGETS[:0], "empty target set"),
        (GOOD_POOL, GOOD_TARGETS.clone().index_fill_(0, torch.tensor([2]), math.nan), "NaN"),
        (GOOD_POOL.clone().index_fill_(0, torch.tensor([1]), math.nan), GOOD_TARGETS, "NaN"),
        (GOOD_POOL, GOOD_TARGETS[0], "log_probs_M_K_C must be 3-D"),
        (GOOD_POOL[0], GOOD_TARGETS, "log_probs_N_K_C must be 3-D"),
        (GOOD_POOL, GOOD_TARGETS[None], "log_probs_M_K_C must be 3-D"),
        (GOOD_POOL, GOOD_TARGETS.exp(), "log_probs_M_K_C rows are not normalised"),
    ],
)
def test_epig_rejects_bad_inputs_naming_the_problem(pool, targets, match):
    with pytest.raises(ValueError, match=match):
        info.epig(pool, targets)


def test_epig_nan_message_names_the_tensor():
    with pytest.raises(ValueError, match="log_probs_M_K_C contains NaN"):
        info.epig(GOOD_POOL, GOOD_TARGETS.clone().index_fill_(0, torch.tensor([2]), math.nan))
    with pytest.raises(ValueError, match="log_probs_N_K_C contains NaN"):
        info.epig(GOOD_POOL.clone().index_fill_(0, torch.tensor([1]), math.nan), GOOD_TARGETS)
    with pytest.raises(ValueError, match="memory_budget"):
        info.epig(GOOD_POOL, GOOD_TARGETS, memory_budget=0)
