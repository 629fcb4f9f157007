"""Tests for bbal_tutorial.demos: the computations behind notebooks 02 and 03 do what the
notebooks say they do."""

import itertools
import math

import numpy as np
import pytest
import torch

from bbal_tutorial import information
from bbal_tutorial import information as info
from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.lessons import acquisition_size, diagrams, dropout, duplicate_pool, duplicates
from bbal_tutorial.models import BayesianMNISTCNN


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tests run many tiny tensor operations; on a shared, loaded CI machine two threads
    contend for the cores and make them several times slower than one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_log_probs(N, K, C, seed, scale=2.0):
    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(N, K, C, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1)


def duplicate_log_probs(num_originals=6, copies=3, K=20, C=4, noise=0.05, seed=0):
    """Predictions for a pool of near-duplicates: each original's logits plus a little noise per
    copy (copy r of original o is row r·O + o, as in Repeated MNIST)."""
    generator = torch.Generator().manual_seed(seed)
    logits_O_K_C = 2.0 * torch.randn(num_originals, K, C, generator=generator, dtype=torch.float64)
    copies_R = [
        logits_O_K_C + noise * torch.randn(logits_O_K_C.shape, generator=generator).double()
        for _ in range(copies)
    ]
    return torch.log_softmax(torch.cat(copies_R), dim=-1), torch.arange(num_originals).repeat(
        copies
    )


def bernoulli_log_probs(p_K):
    p_K = torch.tensor(p_K, dtype=torch.float64)
    return torch.stack([1 - p_K, p_K], dim=-1).log()


# --------------------------------------------------------------------------------------------------
# duplicates


def test_count_repeats_counts_picks_of_an_original_seen_earlier():
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    assert duplicate_pool.count_repeats([], original_N) == 0
    assert duplicate_pool.count_repeats([0, 1, 2], original_N) == 0
    assert duplicate_pool.count_repeats([0, 3, 4, 1, 5], original_N) == 2
    assert duplicate_pool.count_repeats([0, 3, 0], original_N) == 2


@pytest.mark.parametrize("seed", range(3))
def test_bald_picks_duplicates_and_batchbald_does_not(seed):
    log_probs_N_K_C, original_N = duplicate_log_probs(seed=seed)
    bald = get_bald_batch(log_probs_N_K_C, 4)
    batchbald = get_batchbald_batch(log_probs_N_K_C, 4, seed=0)
    assert duplicate_pool.count_repeats(bald.indices, original_N) >= 2
    assert duplicate_pool.count_repeats(batchbald.indices, original_N) == 0


def fake_data(n=30):
    generator = torch.Generator().manual_seed(0)
    return ActiveLearningData(
        name="mnist",
        train_x_N_1_H_W=torch.randn(n, 1, 28, 28, generator=generator),
        train_y_N=torch.arange(n) % 10,
        test_x_M_1_H_W=torch.randn(4, 1, 28, 28, generator=generator),
        test_y_M=torch.arange(4),
        num_classes=10,
        class_names=[str(i) for i in range(10)],
        source="fake",
        original_index_N=torch.arange(n),
    )


def test_make_duplicate_pool_repeats_each_original_with_its_own_noise():
    data = fake_data()
    pool = duplicate_pool.make_duplicate_pool(
        data, range(10, 30), num_originals=5, num_copies=3, seed=1
    )
    assert len(pool) == 15
    assert pool.original_N.tolist() == [0, 1, 2, 3, 4] * 3
    assert all(10 <= int(i) < 30 for i in pool.source_indices_O)
    assert len(set(pool.source_indices_O.tolist())) == 5
    for o in range(5):
        copies = pool.x_N_1_H_W[pool.original_N == o]
        source = data.train_x_N_1_H_W[pool.source_indices_O[o]]
        assert pool.y_N[o] == data.train_y_N[pool.source_indices_O[o]]
        noise = copies - source
        assert 0.05 < float(noise.std()) < 0.15  # noise std 0.1 on normalised pixels
        assert not torch.equal(copies[0], copies[1])
    images = pool.images()
    assert images.shape == (15, 28, 28) and float(images.min()) >= 0 and float(images.max()) <= 1
    with pytest.raises(ValueError, match="num_originals"):
        duplicate_pool.make_duplicate_pool(data, range(3), num_originals=4)


def test_copies_of_and_copies_of_chosen():
    original_N = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    assert duplicate_pool.copies_of(4, original_N) == [1, 7]
    flagged_N = duplicate_pool.copies_of_chosen([0, 4], original_N)
    assert torch.nonzero(flagged_N).flatten().tolist() == [1, 3, 6, 7]


def test_tiny_pool_takes_copies_of_the_most_informative_originals():
    log_probs_N_K_C, original_N = duplicate_log_probs(num_originals=6, copies=3, seed=1)
    tiny = duplicate_pool.tiny_pool_indices(log_probs_N_K_C, original_N, num_originals=3, copies=2)
    assert len(tiny) == 6
    originals = original_N[tiny].tolist()
    assert originals[0::2] == originals[1::2]  # pairs of copies
    bald_N = info.mutual_information(log_probs_N_K_C)
    mean_bald = [float(bald_N[original_N == o].mean()) for o in range(6)]
    assert originals[0::2] == sorted(range(6), key=lambda o: -mean_bald[o])[:3]


# --------------------------------------------------------------------------------------------------
# joint mutual information, exhaustive search, greedy, submodularity


def test_batch_mutual_information_matches_bald_and_the_two_point_example():
    log_probs_N_K_C = random_log_probs(3, 6, 3, seed=0)
    assert information.batch_mutual_information(log_probs_N_K_C[:0]) == 0.0
    assert information.batch_mutual_information(log_probs_N_K_C[:1]) == pytest.approx(
        float(info.mutual_information(log_probs_N_K_C[:1])[0]), abs=1e-12
    )
    pair = diagrams.batch_information(log_probs_N_K_C[:2])["I[y1,y2;w]"]
    assert information.batch_mutual_information(log_probs_N_K_C[:2]) == pytest.approx(
        pair, abs=1e-12
    )
    # I[y_1..y_n; w] <= H[w] = log K
    assert information.batch_mutual_information(log_probs_N_K_C) <= math.log(6) + 1e-12


def test_all_batch_scores_enumerates_every_subset_once():
    log_probs_N_K_C = random_log_probs(6, 4, 3, seed=1)
    subsets, scores_S = duplicates.all_batch_scores(log_probs_N_K_C, 3)
    assert subsets == list(itertools.combinations(range(6), 3))
    for subset, score in zip(subsets[::5], scores_S[::5].tolist(), strict=True):
        assert score == pytest.approx(
            information.batch_mutual_information(log_probs_N_K_C[list(subset)])
        )
    best, best_score = duplicates.exhaustive_best_batch(log_probs_N_K_C, 3)
    assert best_score == pytest.approx(float(scores_S.max())) and best in subsets
    with pytest.raises(ValueError, match="exhaustive search is limited"):
        duplicates.all_batch_scores(random_log_probs(40, 2, 2, seed=0), 10)
    with pytest.raises(ValueError, match="acquisition_size"):
        duplicates.all_batch_scores(log_probs_N_K_C, 7)


@pytest.mark.parametrize("seed", range(8))
def test_best_beats_greedy_which_beats_the_submodular_guarantee(seed):
    log_probs_N_K_C = random_log_probs(7, 5, 3, seed=seed)
    for c in duplicates.compare_greedy_to_exhaustive(log_probs_N_K_C, [1, 2, 3]):
        assert c.best_score == pytest.approx(float(c.subset_scores.max()), abs=1e-12)
        assert c.best_score + 1e-9 >= c.greedy_score >= duplicates.GREEDY_GUARANTEE * c.best_score
        assert c.best_score + 1e-9 >= c.bald_score
        assert len(set(c.greedy_indices)) == c.acquisition_size
        if c.acquisition_size == 1:  # the first greedy step is exact: the best single point
            assert c.greedy_score == pytest.approx(c.best_score, abs=1e-12)


def test_greedy_is_not_always_the_best():
    """Seed 4 is a pool where greedy's b = 3 batch scores ~2.6% below the exhaustive best: the
    comparison is not vacuous."""
    log_probs_N_K_C = random_log_probs(7, 5, 3, seed=4)
    (c,) = duplicates.compare_greedy_to_exhaustive(log_probs_N_K_C, [3])
    assert c.ratio < 0.99
    assert tuple(sorted(c.greedy_indices)) != c.best_indices


def test_submodularity_gaps_are_never_positive():
    gaps = duplicates.submodularity_gaps(random_log_probs(6, 5, 3, seed=2), max_set_size=2)
    # |A| = 0, 1, 2 with a pair outside A: C(6,2) + 6·C(5,2) + C(6,2)·C(4,2) cases
    assert len(gaps) == 15 + 60 + 90
    assert float(gaps.max()) <= 1e-10
    assert float(gaps.min()) < -1e-3  # strictly diminishing returns somewhere


def test_submodularity_gap_of_two_points_is_minus_their_overlap():
    """With A = {}: gap = I[y1,y2;w] - I[y1;w] - I[y2;w] = -I[y1;y2] (what BALD double-counts)."""
    log_probs_2_K_C = diagrams.two_points_log_probs(0, num_samples=8)
    (gap,) = duplicates.submodularity_gaps(log_probs_2_K_C, max_set_size=0).tolist()
    double = diagrams.batch_information(log_probs_2_K_C)["double-counted"]
    assert double > 0.1
    assert gap == pytest.approx(-double, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# sampled joint entropy


def test_sampled_estimates_scatter_around_the_exact_entropy_and_tighten_with_m():
    log_probs_n_K_C = random_log_probs(4, 10, 4, seed=3, scale=1.0)
    exact = float(info.joint_entropy_exact(log_probs_n_K_C))
    estimates_S_R = duplicates.sampled_entropy_estimates(log_probs_n_K_C, [10, 1000], 40, seed=0)
    assert estimates_S_R.shape == (2, 40)
    small, large = estimates_S_R
    assert float(small.std()) > 0
    # the spread shrinks like 1/sqrt(M): 10x here; allow sampling slack
    assert float(large.std()) < float(small.std()) / 4
    assert float(large.mean()) == pytest.approx(exact, abs=4 * float(large.std()) / math.sqrt(40))
    again = duplicates.sampled_entropy_estimates(log_probs_n_K_C, [10, 1000], 40, seed=0)
    assert torch.equal(again, estimates_S_R)


# --------------------------------------------------------------------------------------------------
# the duplicate-pick surprise


def test_shrink_disagreement_keeps_the_predictive_and_scales_bald_down():
    log_probs_N_K_C = random_log_probs(5, 6, 3, seed=4)
    assert torch.allclose(duplicates.shrink_disagreement(log_probs_N_K_C, 1.0), log_probs_N_K_C)
    bald = [
        info.mutual_information(duplicates.shrink_disagreement(log_probs_N_K_C, s))
        for s in (0.0, 0.1, 0.5, 1.0)
    ]
    assert torch.allclose(bald[0], torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert all(bool((a < b).all()) for a, b in itertools.pairwise(bald))
    # BALD ~ scale^2 for small scales
    small = info.mutual_information(duplicates.shrink_disagreement(log_probs_N_K_C, 0.01))
    tiny = info.mutual_information(duplicates.shrink_disagreement(log_probs_N_K_C, 0.005))
    assert torch.allclose(small / tiny, torch.full_like(small, 4.0), rtol=0.02)
    predictive = info.predictive_log_probs(log_probs_N_K_C)
    shrunk = info.predictive_log_probs(duplicates.shrink_disagreement(log_probs_N_K_C, 0.3))
    assert torch.allclose(shrunk, predictive)
    with pytest.raises(ValueError, match="scale"):
        duplicates.shrink_disagreement(log_probs_N_K_C, 1.5)


def test_the_issue_example_batchbald_prefers_the_duplicate_pair():
    """The open issue's numbers: two identical points and a slightly less informative third."""
    log_probs_3_K_C = duplicates.issue_example_log_probs()
    assert torch.equal(log_probs_3_K_C[0], log_probs_3_K_C[1])
    bald_3 = info.mutual_information(log_probs_3_K_C)
    assert bald_3[0] > bald_3[2] > 0
    copy = information.batch_mutual_information(log_probs_3_K_C[[0, 1]])
    other = information.batch_mutual_information(log_probs_3_K_C[[0, 2]])
    assert copy > other > 0
    assert get_batchbald_batch(log_probs_3_K_C, 2, seed=0).indices == [0, 1]


def test_duplicates_win_only_once_the_disagreement_is_small():
    # x: the samples split 2-2 and are fairly sure; z: an independent split, a little less sure
    x_K_C = bernoulli_log_probs([0.9, 0.9, 0.1, 0.1])
    z_K_C = bernoulli_log_probs([0.8, 0.2, 0.8, 0.2])
    log_probs_3_K_C = torch.stack([x_K_C, x_K_C, z_K_C])
    scores = duplicates.pair_scores_by_disagreement(
        log_probs_3_K_C, {"copy": (0, 1), "other": (0, 2)}, [0.05, 1.0]
    )
    copy, other = scores["copy"], scores["other"]
    assert other["joint"][1] > copy["joint"][1]  # the trained model: the new image wins
    assert copy["joint"][0] > other["joint"][0]  # near-zero information: the copy wins
    for pair in (copy, other):
        assert torch.allclose(pair["overlap"], pair["bald sum"] - pair["joint"])
        assert bool((pair["overlap"] >= -1e-12).all())
    # the double-counted share vanishes as the disagreement shrinks
    share = copy["overlap"] / copy["bald sum"]
    assert share[1] > 0.25 and share[0] < 0.01


# --------------------------------------------------------------------------------------------------
# BatchBALD scores given a chosen set


def test_batchbald_scores_given_match_the_greedy_step_and_brute_force():
    log_probs_N_K_C = random_log_probs(8, 6, 3, seed=5)
    assert torch.allclose(
        duplicates.batchbald_scores_given(log_probs_N_K_C, []),
        info.mutual_information(log_probs_N_K_C),
    )
    greedy = get_batchbald_batch(log_probs_N_K_C, 3, matmul_dtype=torch.float64)
    chosen = greedy.indices[:2]
    scores_N = duplicates.batchbald_scores_given(log_probs_N_K_C, chosen)
    for x in range(8):
        if x not in chosen:
            expected = information.batch_mutual_information(log_probs_N_K_C[chosen + [x]])
            assert float(scores_N[x]) == pytest.approx(expected, abs=1e-10)
    available = [x for x in range(8) if x not in chosen]
    assert available[int(scores_N[available].argmax())] == greedy.indices[2]
    assert float(scores_N[available].max()) == pytest.approx(greedy.scores[2], abs=1e-9)


# --------------------------------------------------------------------------------------------------
# consistent against independent masks


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return BayesianMNISTCNN().eval()


@pytest.fixture(scope="module")
def x_N():
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    return torch.cat([x, x[:1]])  # point 5 is an exact copy of point 0


def test_fixed_masks_give_identical_repetitions(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 8, 3, masks="fixed", seed=0)
    assert log_probs_R_N_K_C.shape == (3, 6, 8, 10)
    assert torch.equal(log_probs_R_N_K_C[0], log_probs_R_N_K_C[1])
    assert torch.equal(log_probs_R_N_K_C[0], log_probs_R_N_K_C[2])
    scores = dropout.repeated_candidate_scores(log_probs_R_N_K_C, [1])
    for scores_R_N in scores.values():
        assert dropout.spread_summary(scores_R_N)["spread"] == 0.0


def test_redrawn_masks_differ_between_repetitions_but_are_shared_by_all_points(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 8, 3, masks="redrawn", seed=0)
    assert not torch.allclose(log_probs_R_N_K_C[0], log_probs_R_N_K_C[1])
    # the copy sees the same K networks as its original in every repetition
    assert torch.allclose(log_probs_R_N_K_C[:, 5], log_probs_R_N_K_C[:, 0], atol=1e-5)


def test_independent_masks_break_the_link_between_a_point_and_its_copy(model, x_N):
    log_probs_R_N_K_C = dropout.repeated_log_probs(model, x_N, 16, 4, masks="independent", seed=0)
    assert not torch.allclose(log_probs_R_N_K_C[:, 5], log_probs_R_N_K_C[:, 0], atol=1e-3)
    consistent = dropout.repeated_log_probs(model, x_N, 16, 4, masks="redrawn", seed=0)
    assert dropout.prediction_correlation(consistent[0, [0, 5]]) == pytest.approx(1.0, abs=1e-4)
    assert abs(dropout.prediction_correlation(log_probs_R_N_K_C[0, [0, 5]])) < 0.9


def test_independent_scores_spread_more_than_fixed_ones(model, x_N):
    fixed = dropout.repeated_log_probs(model, x_N, 8, 4, masks="fixed", seed=0)
    independent = dropout.repeated_log_probs(model, x_N, 8, 4, masks="independent", seed=0)
    for quantity in ("bald", "batchbald"):
        spread_fixed = dropout.spread_summary(
            dropout.repeated_candidate_scores(fixed, [0])[quantity][:, 1:]
        )["spread"]
        spread_independent = dropout.spread_summary(
            dropout.repeated_candidate_scores(independent, [0])[quantity][:, 1:]
        )["spread"]
        assert spread_fixed == 0.0
        assert spread_independent > 1e-4


def test_repeated_log_probs_restores_the_model_and_the_global_rng(model, x_N):
    state = torch.get_rng_state()
    dropout.repeated_log_probs(model, x_N, 4, 2, masks="independent", seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(layer.consistent for layer in model.mc_dropout_layers())
    a = dropout.repeated_log_probs(model, x_N, 4, 2, masks="redrawn", seed=3)
    b = dropout.repeated_log_probs(model, x_N, 4, 2, masks="redrawn", seed=3)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="masks"):
        dropout.repeated_log_probs(model, x_N, 4, 2, masks="sometimes")


def test_spread_summary_by_hand():
    scores_R_N = torch.tensor([[1.0, 2.0, 0.0], [2.0, 3.0, 4.0]])
    s = dropout.spread_summary(scores_R_N, flagged_N=torch.tensor([False, False, True]))
    assert s["spread"] == pytest.approx((0.5 + 0.5 + 2.0) / 3)
    # relative to each repetition's mean (1 and 3): [0, 1, -1] and [-1, 0, 1]; stds 0.5, 0.5, 1
    assert s["relative spread"] == pytest.approx(2 / 3)
    assert s["differences"] == pytest.approx(float(np.std([1.5, 2.5, 2.0])))
    assert s["top pick agreement"] == 0.5 and s["distinct top picks"] == 2
    assert s["flagged top picks"] == 0.5
    grouped = dropout.spread_summary(scores_R_N, groups_N=torch.tensor([0, 1, 1]))
    assert grouped["top pick agreement"] == 1.0 and grouped["distinct top picks"] == 1
    single = dropout.spread_summary(scores_R_N[:1])
    assert single["spread"] == 0.0 and single["top pick agreement"] == 1.0


def test_prediction_correlation():
    a_K_C = bernoulli_log_probs([0.9, 0.2, 0.6, 0.4])
    assert dropout.prediction_correlation(torch.stack([a_K_C, a_K_C])) == pytest.approx(1.0)
    flipped_K_C = bernoulli_log_probs([0.1, 0.8, 0.4, 0.6])
    assert dropout.prediction_correlation(torch.stack([a_K_C, flipped_K_C])) == pytest.approx(-1.0)
    constant_K_C = bernoulli_log_probs([0.5] * 4)
    assert dropout.prediction_correlation(torch.stack([a_K_C, constant_K_C])) == 0.0
    with pytest.raises(ValueError, match="2 points"):
        dropout.prediction_correlation(torch.stack([a_K_C] * 3))


# --------------------------------------------------------------------------------------------------
# the whole setup, tiny


def test_setup_duplicate_demo_trains_and_builds_a_pool():
    setup = duplicate_pool.setup_duplicate_demo(
        num_originals=4, num_copies=2, epochs=1, samples_per_epoch=64, test_size=20, test_k=2
    )
    assert len(setup.labelled_indices) == 20
    assert len(setup.pool) == 8 and setup.pool.original_N.tolist() == [0, 1, 2, 3] * 2
    assert not set(setup.pool.source_indices_O.tolist()) & set(setup.labelled_indices)
    assert 0.0 <= setup.test_accuracy <= 1.0
    assert "20 labelled images" in setup.describe()
    assert not setup.model.training


# --------------------------------------------------------------------------------------------------
# notebook 06: stochastic batch acquisition


def test_coldness_interpolates_between_random_and_top_b_bald():
    log_probs, original_N = duplicate_log_probs(num_originals=20, copies=3, K=10, C=4)
    sweep = acquisition_size.coldness_sweep(
        log_probs, original_N, 6, [0.0, 1.0, 1000.0], repeats=30, seed=0, num_samples=1000
    )
    assert sweep["top_b"]["top_b_share"] == 1.0
    assert sweep["top_b"]["repeats"] > sweep["batchbald"]["repeats"]  # BALD takes copies
    for mode in ("power", "softmax", "softrank"):
        share = sweep["modes"][mode]["top_b_share"]
        # beta = 0 samples uniformly: about b/N of the batch is in top-b, like random acquisition
        assert share[0] == pytest.approx(sweep["random"]["top_b_share"], abs=0.1)
        assert share[0] < 0.3
    # very cold power and soft-rank sampling is top-b BALD
    assert sweep["modes"]["power"]["top_b_share"][-1] == 1.0
    assert sweep["modes"]["softrank"]["top_b_share"][-1] == 1.0
    assert sweep["modes"]["power"]["repeats"][-1] == sweep["top_b"]["repeats"]
    for mode in ("power", "softmax", "softrank"):
        share = sweep["modes"][mode]["top_b_share"]
        assert share[0] <= share[1] <= share[2]
    with pytest.raises(ValueError, match="repeats"):
        acquisition_size.coldness_sweep(log_probs, original_N, 6, [1.0], repeats=0)
