"""Tests for bbal_tutorial.lessons.class_diversity (notebook 05): the entropy of the acquired
labels by hand, the summary per method, the most and least acquired classes, accuracy at a number
of labels beside the paper's, and the figures."""

import math
import statistics

import matplotlib.pyplot as plt
import pytest
import torch

from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.lessons.class_diversity import (
    accuracy_at,
    class_names,
    extreme_classes,
    in_blog_order,
    label_diversity_summary,
    label_entropy,
    label_entropy_at,
    label_entropy_by_round,
    mean_class_counts,
    num_classes,
    plot_class_examples,
    plot_class_histograms,
    plot_label_entropy,
    training_at_cap,
)


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


def test_runs_in_the_blogs_order(run_record):
    runs = [
        run_record("bald", 40, seed=1),
        run_record("power-bald", 40),
        run_record("random", 10),
        run_record("bald", 40, seed=2),
        run_record("batchbald", 40),
    ]
    ordered = in_blog_order(runs)
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


def test_class_names_are_emnists_official_mapping():
    names = class_names("emnist")
    assert "".join(names) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"
    assert class_names("mnist") == list("0123456789")
    with pytest.raises(ValueError, match="unknown dataset"):
        class_names("cifar")


def _three_class_runs(run_record):
    """BALD piles onto class 0 and never takes class 2; random spreads evenly (2 seeds each)."""
    return [
        run_record("bald", 2, 0, _acquiring([0, 0], [0, 1])),
        run_record("bald", 2, 1, _acquiring([0, 0], [1, 1])),
        run_record("random", 2, 0, _acquiring([0, 1], [2, 0])),
        run_record("random", 2, 1, _acquiring([1, 2], [2, 0])),
    ]


def test_mean_class_counts_and_extreme_classes_by_hand(run_record):
    runs = _three_class_runs(run_record)
    bald = [r for r in runs if r.acquisition == "bald"]
    assert mean_class_counts(bald, 3).tolist() == [2.5, 1.5, 0.0]
    extremes = extreme_classes(runs, ["x", "y", "z"], k=2)
    assert extremes["bald", 2] == {
        "most": [("x", 2.5), ("y", 1.5)],
        "least": [("z", 0.0), ("y", 1.5)],
    }
    # random: counts 1.5, 1, 1.5 -> ties keep label order
    assert extremes["random", 2]["most"] == [("x", 1.5), ("z", 1.5)]
    assert extremes["random", 2]["least"][0] == ("y", 1.0)
    with pytest.raises(ValueError, match="at least one"):
        mean_class_counts([], 3)


def test_label_entropy_at_takes_the_first_labels_of_seeds_that_got_there(run_record):
    runs = _three_class_runs(run_record)
    at2 = label_entropy_at(runs, 3, 2)
    assert at2["bald", 2] == 0.0  # both seeds start with [0, 0]
    assert at2["random", 2] == pytest.approx(math.log(2))
    at4 = label_entropy_at(runs, 3, 4)
    expected = statistics.median([label_entropy([0, 0, 0, 1], 3), label_entropy([0, 0, 1, 1], 3)])
    assert at4["bald", 2] == pytest.approx(expected)
    assert label_entropy_at(runs, 3, 5) == {}  # no seed acquired 5 labels


def test_accuracy_at_a_number_of_acquired_labels_beside_the_papers(run_record):
    def run(acquisition, seed, accuracies):
        rounds = [{"test_accuracy": a, "n_labeled": 145 * i} for i, a in enumerate(accuracies)]
        return run_record(acquisition, 145, seed, rounds)

    runs = [
        run("batchbald", 0, [0.1, 0.3, 0.52]),
        run("batchbald", 1, [0.1, 0.3, 0.48]),
        run("bald", 0, [0.1, 0.3]),  # never got to 290
        run("power-bald", 0, [0.1, 0.2, 0.4]),
    ]
    rows = {row["acquisition"]: row for row in accuracy_at(runs, 290)}
    assert rows["batchbald"]["accuracy (per seed)"] == [0.52, 0.48]
    assert rows["batchbald"]["mean accuracy"] == pytest.approx(0.5)
    assert rows["batchbald"]["paper mean accuracy"] == 0.50
    assert rows["bald"]["seeds"] == 0 and rows["bald"]["mean accuracy"] is None
    assert rows["bald"]["paper mean accuracy"] == 0.46
    assert rows["power-bald"]["paper mean accuracy"] is None  # not in the paper's figure
    assert accuracy_at(runs, 145)[0]["paper mean accuracy"] is None  # the paper's is at 290


def test_training_at_cap_counts_rounds_that_ran_all_epochs(run_record):
    config = {"max_epochs": 20, "samples_per_epoch": 1024}

    def run(acquisition, seed, epochs):
        rounds = [{"train_epochs": e, "n_labeled": 5 * i} for i, e in enumerate(epochs)]
        return run_record(acquisition, 5, seed, rounds, config=config)

    runs = [
        run("bald", 0, [0, 8, 20, 20]),  # round 0 has no labels: nothing trained
        run("bald", 1, [0, 20, 12, 19]),
        run("random", 0, [0, 3, 4, 5]),
    ]
    rows = {row["acquisition"]: row for row in training_at_cap(runs)}
    assert rows["bald"]["rounds trained"] == 6 and rows["bald"]["stopped at the cap"] == 3
    assert rows["bald"]["share at the cap"] == pytest.approx(0.5)
    assert rows["random"]["share at the cap"] == 0
    assert rows["bald"]["draws per round (at most)"] == 20 * 1024


def test_class_histograms_label_each_bar_with_its_character_sorted_by_count(run_record):
    runs = _three_class_runs(run_record)
    fig = plot_class_histograms(runs, ["x", "y", "z"])
    random_ax, bald_ax = fig.axes  # the blog's order: random before BALD
    assert [t.get_text() for t in bald_ax.get_xticklabels()] == ["x", "y", "z"]
    assert [p.get_height() for p in bald_ax.patches] == [2.5, 1.5, 0.0]
    assert [t.get_text() for t in random_ax.get_xticklabels()] == ["x", "z", "y"]
    assert bald_ax.get_title().startswith("BALD (b=2), 2 seeds: 4 labels")
    even = [line for line in bald_ax.get_lines() if line.get_linestyle() == "--"]
    assert even[0].get_ydata()[0] == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="at least one"):
        plot_class_histograms([], ["x"])
    plt.close("all")


def test_class_examples_show_acquired_and_left_out_images_of_the_extreme_classes(run_record):
    # six 28x28 images, each filled with its own index, labels 0, 0, 1, 1, 2, 2
    x = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 1, 28, 28) / 10
    data = ActiveLearningData(
        name="test",
        train_x_N_1_H_W=x.clone(),
        train_y_N=torch.tensor([0, 0, 1, 1, 2, 2]),
        test_x_M_1_H_W=x[:1].clone(),
        test_y_M=torch.tensor([0]),
        num_classes=3,
        class_names=["x", "y", "z"],
        source="test",
        original_index_N=torch.arange(6),
        mean=0.0,
        std=1.0,
    )
    run = run_record("bald", 2, 0, [{"acquired_indices": [0, 1], "acquired_labels": [0, 0]}, {}])
    fig = plot_class_examples(data, [run], ["x", "y", "z"], k=1, per_class=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["x ↑", "x ↑", "y ↓", "y ↓"]  # most: x (acquired); least: y before z
    shown = [float(ax.get_images()[0].get_array().mean()) for ax in fig.axes]
    assert shown == pytest.approx([0.0, 0.1, 0.2, 0.3])  # images 0, 1 acquired; 2, 3 left out
    plt.close("all")


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
