"""Tests for bbal_tutorial.lessons.duplicate_pool: the pool of near-duplicates, which pool points
are copies of which, and the small trained model shared by notebooks 02, 03, 06 and 07."""

import pytest
import torch

from bbal_tutorial import information as info
from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.lessons import duplicate_pool

pytestmark = pytest.mark.usefixtures("one_thread")


def test_count_repeats_counts_picks_of_an_original_seen_earlier():
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    assert duplicate_pool.count_repeats([], original_N) == 0
    assert duplicate_pool.count_repeats([0, 1, 2], original_N) == 0
    assert duplicate_pool.count_repeats([0, 3, 4, 1, 5], original_N) == 2
    assert duplicate_pool.count_repeats([0, 3, 0], original_N) == 2


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


def test_tiny_pool_takes_copies_of_the_most_informative_originals(near_duplicate_log_probs):
    log_probs_N_K_C, original_N = near_duplicate_log_probs(num_originals=6, copies=3, seed=1)
    tiny = duplicate_pool.tiny_pool_indices(log_probs_N_K_C, original_N, num_originals=3, copies=2)
    assert len(tiny) == 6
    originals = original_N[tiny].tolist()
    assert originals[0::2] == originals[1::2]  # pairs of copies
    bald_N = info.mutual_information(log_probs_N_K_C)
    mean_bald = [float(bald_N[original_N == o].mean()) for o in range(6)]
    assert originals[0::2] == sorted(range(6), key=lambda o: -mean_bald[o])[:3]


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
