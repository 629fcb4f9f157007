"""Tests for bbal_tutorial.lessons.class_diversity (notebook 05): the entropy of the acquired
labels by hand, the summary per method, choosing runs, the run-time estimate, and the figure."""

import math

import matplotlib.pyplot as plt
import pytest
import torch

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.lessons.class_diversity import (
    at_acquisition_size,
    estimate_run_seconds,
    in_blog_order,
    label_diversity_summary,
    label_entropy,
    label_entropy_by_round,
    measure_costs,
    num_classes,
    plot_label_entropy,
)
from bbal_tutorial.presets import experiment_config


def _acquiring(*batches):
    """Rounds acquiring each batch of labels, then a last round that acquires nothing."""
    return [{"acquired_labels": list(labels)} for labels in [*batches, []]]


def test_label_entropy_by_round_counts_acquired_labels_only(run_record):
    # the initial labels are not part of the measure
    run = run_record(
        "bald", 2, rounds=_acquiring([0, 0], [1, 1], [2, 3, 2, 3]), initial_indices=[1, 2, 3]
    )
    counts, entropies = label_entropy_by_round(run, 4)
    assert counts == [2, 4, 8]
    assert entropies == pytest.approx([0.0, math.log(2), math.log(4)])


def test_label_entropy_against_a_direct_sum_and_its_bounds():
    labels = [0, 0, 0, 1, 2, 2, 4]
    direct = -sum(p * math.log(p) for p in (3 / 7, 1 / 7, 2 / 7, 1 / 7))
    assert label_entropy(labels, 6) == pytest.approx(direct, abs=1e-15)
    assert label_entropy(torch.tensor(labels), 6) == label_entropy(labels, 6)
    assert label_entropy([3, 3, 3], 5) == 0.0  # one class only
    assert label_entropy(list(range(47)) * 2, 47) == pytest.approx(math.log(47), abs=1e-14)
    # unused classes (0 · log 0) neither add nor break anything
    assert label_entropy([0, 1], 2) == label_entropy([0, 1], 100)
    assert isinstance(label_entropy([0, 1], 2), float)


def test_label_entropy_refuses_bad_input():
    with pytest.raises(ValueError, match="empty"):
        label_entropy([], 10)
    with pytest.raises(ValueError, match="0..9"):
        label_entropy([0, 10], 10)
    with pytest.raises(ValueError, match="at least 1"):
        label_entropy([0], 0)


def test_label_diversity_summary_by_hand(run_record):
    def run(acquisition, seed, labels):
        return run_record(acquisition, 2, seed, _acquiring(labels[:2], labels[2:]))

    runs = [
        run("bald", 0, [0, 0, 0, 0]),  # entropy 0, 2 classes never acquired
        run("bald", 1, [0, 1, 0, 1]),  # log 2, 1 never
        run("bald", 2, [0, 1, 2, 2]),  # H(1/4, 1/4, 1/2), 0 never
        run("random", 0, [0, 1, 2, 0]),
    ]
    bald, random_ = label_diversity_summary(runs, 3)
    assert (bald["acquisition"], bald["b"], bald["seeds"]) == ("bald", 2, 3)
    assert bald["labels acquired"] == 4
    assert bald["entropy (nats)"] == pytest.approx(math.log(2))  # the median of the three
    assert bald["share of log C"] == pytest.approx(math.log(2) / math.log(3))
    assert bald["least acquired class"] == 0 and bald["most acquired class"] == 2
    assert bald["classes never acquired"] == 1
    assert random_["seeds"] == 1 and random_["classes never acquired"] == 0


def test_runs_at_one_acquisition_size_in_the_blogs_order(run_record):
    runs = [
        run_record("bald", 10),
        run_record("random", 10),
        run_record("batchbald", 40),
        run_record("bald", 40, seed=1),
        run_record("bald", 40, seed=2),
        run_record("power-bald", 40),
    ]
    chosen = at_acquisition_size(runs, 40)
    assert [(r.acquisition, r.b) for r in chosen] == [
        ("random", 10),  # random acquisition has one b, shown beside every b
        ("batchbald", 40),
        ("bald", 40),
        ("bald", 40),
        ("power-bald", 40),
    ]
    without_reference = at_acquisition_size(runs, 40, reference=None)
    assert [r.acquisition for r in without_reference] == ["batchbald", "bald", "bald", "power-bald"]
    ordered = in_blog_order(chosen)
    assert [(r.acquisition, r.seed) for r in ordered] == [
        ("batchbald", 0),
        ("random", 0),
        ("bald", 1),
        ("bald", 2),
        ("power-bald", 0),  # not in the blog's figure: last
    ]


def test_num_classes_per_dataset():
    assert [num_classes(d) for d in ("mnist", "repeated-mnist", "emnist")] == [10, 10, 47]
    with pytest.raises(ValueError, match="unknown dataset"):
        num_classes("cifar")


def test_estimate_run_seconds_adds_up_the_work_of_every_round():
    # EMNIST-like: no initial labels, 2 acquisitions of b = 5 -> rounds with 0, 5, 10 labels
    config = ExperimentConfig(
        dataset="emnist",
        acquisition="bald",
        initial_per_class=0,
        acquisition_size=5,
        label_budget=10,
        samples_per_epoch=640,
        train_batch_size=64,
        validation_size=100,
        validation_mc_samples=2,
        test_mc_samples=3,
        mc_samples=4,
    )
    costs = dict(forward_seconds=0.001, train_step_seconds=0.01, select_seconds=0.5, epochs=2)
    seconds = estimate_run_seconds(config, pool_size=1000, test_size=200, **costs)
    train = 2 * 10 * 0.01 + 2 * 100 * 2 * 0.001  # per round with labels: 0.6
    test = 200 * 3 * 0.001  # every round: 0.6
    score = (1000 * 4 + 995 * 4) * 0.001  # rounds 0 and 1 score the shrinking pool
    assert seconds == pytest.approx(2 * train + 3 * test + score + 2 * 0.5)
    # random acquisition never scores the pool
    config.acquisition = "random"
    assert estimate_run_seconds(config, pool_size=1000, test_size=200, **costs) == pytest.approx(
        2 * train + 3 * test + 2 * 0.5
    )
    with pytest.raises(ValueError, match="epochs"):
        estimate_run_seconds(config, pool_size=1, test_size=1, **{**costs, "epochs": 0})


def test_measure_costs_times_the_model_and_the_acquisition_on_random_inputs():
    config = experiment_config("emnist", "batchbald", 5, 0)
    config.mc_samples = 2
    config.num_samples = 100
    costs = measure_costs(
        config,
        pool_size=1000,
        acquisitions=["random", "batchbald"],
        measure_images=8,
        measure_pool=20,
        train_steps=1,
    )
    assert set(costs) == {"forward_seconds", "train_step_seconds", "select_seconds"}
    assert set(costs["select_seconds"]) == {"random", "batchbald"}
    assert 0 < costs["forward_seconds"] < 1 and 0 < costs["train_step_seconds"] < 60
    assert 0 < costs["select_seconds"]["random"] < costs["select_seconds"]["batchbald"] < 600
    select = costs["select_seconds"]["batchbald"]
    seconds = estimate_run_seconds(
        config,
        pool_size=1000,
        test_size=100,
        epochs=1,
        forward_seconds=costs["forward_seconds"],
        train_step_seconds=costs["train_step_seconds"],
        select_seconds=select,
    )
    assert seconds > 30 * select  # 30 acquisitions of b = 5 up to 150 labels


def test_label_entropy_figure_shows_the_median_curve_and_the_log_c_ceiling(run_record):
    # one label per round: rounds of b = 1
    runs = [
        run_record("bald", 1, 0, _acquiring([0], [0], [0])),
        run_record("bald", 1, 1, _acquiring([0], [1], [0])),
        run_record("bald", 1, 2, _acquiring([0], [1], [1])),
        run_record("batchbald", 1, 0, _acquiring([0], [1], [2])),
    ]
    ax = plot_label_entropy(runs, 4)
    lines = {line.get_label(): line for line in ax.get_lines()}
    bald = lines["BALD (b=1), 3 seeds"]
    assert list(bald.get_xdata()) == [1, 2, 3]
    # after 2 labels the seeds have entropies 0, log 2, log 2: median log 2
    assert bald.get_ydata()[1] == pytest.approx(math.log(2))
    batchbald = lines["BatchBALD (b=1)"]
    assert batchbald.get_ydata()[-1] == pytest.approx(math.log(3))
    ceiling = [line for name, line in lines.items() if name.startswith("log C")][0]
    assert ceiling.get_ydata()[0] == pytest.approx(math.log(4))
    assert len(ax.collections) == 1  # quartiles shaded for the method with several seeds
    with pytest.raises(ValueError, match="at least one"):
        plot_label_entropy([], 4)
    plt.close("all")
