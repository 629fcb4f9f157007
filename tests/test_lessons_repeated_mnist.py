"""Tests for bbal_tutorial.lessons.repeated_mnist (notebook 04): batch diversity counted by hand,
batches as images, and the figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import FillBetweenPolyCollection

from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.lessons import repeated_mnist
from bbal_tutorial.lessons.repeated_mnist import (
    accuracy_on_distinct_grid,
    batch_diversity,
    batch_images,
    distinct_labelled,
    diversity_summary,
    group_copies,
    plot_accuracy_vs_distinct,
    plot_batch_diversity,
)
from bbal_tutorial.loop import ExperimentData
from bbal_tutorial.plotting import METHOD_COLOURS


def _rounds(*batches, accuracies=None):
    """Records with ``acquired_original_indices`` = each batch, then a final empty round."""
    rounds = []
    n = 20
    for i, originals in enumerate([*batches, []]):
        rounds.append(
            {
                "n_labeled": n,
                "test_accuracy": accuracies[i] if accuracies else 0.5,
                "acquired_indices": list(range(len(originals))),
                "acquired_original_indices": list(originals),
            }
        )
        n += len(originals)
    return rounds


def _tiny_data():
    """Six 2x2 images, copies of three originals; image i shows 0.2 · i (clamped to 1)."""
    x = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 1, 2, 2).clone()
    return ActiveLearningData(
        name="repeated-mnist",
        train_x_N_1_H_W=x,
        train_y_N=torch.zeros(6, dtype=torch.long),
        test_x_M_1_H_W=x[:1],
        test_y_M=torch.zeros(1, dtype=torch.long),
        num_classes=1,
        class_names=["0"],
        source="test",
        original_index_N=torch.tensor([0, 1, 2, 0, 1, 2]),
        mean=0.0,
        std=0.2,
    )


def test_batch_diversity_counts_distinct_and_new_originals(run_record):
    run = run_record("bald", 4, 0, _rounds([1, 1, 2, 3], [4, 2, 2, 5]))
    assert batch_diversity(run) == [
        {"n_labeled": 20, "batch": 4, "distinct": 3, "new": 3},
        {"n_labeled": 24, "batch": 4, "distinct": 3, "new": 2},  # image 2 was acquired before
    ]
    other = run_record("bald", 4, 1, _rounds([1, 2, 3, 4]))
    (row,) = diversity_summary([run, other])
    assert (row["acquisition"], row["b"], row["seeds"]) == ("bald", 4, 2)
    assert row["distinct per batch"] == pytest.approx((3 + 3 + 4) / 3)
    assert row["labels acquired"] == 6  # 8 and 4
    assert row["spent on copies"] == 1.5  # 3 and 0
    assert (row["same batch"], row["earlier rounds"]) == (1.0, 0.5)  # (1 + 1, 1) and (0, 0)


def test_group_copies_puts_copies_side_by_side_and_batch_images_follows(run_record):
    assert group_copies([10, 11, 12, 13, 14], [7, 8, 7, 9, 8]) == [0, 2, 1, 4, 3]
    experiment = ExperimentData(_tiny_data(), list(range(6)), [], [], list(range(6)))
    bald = run_record(
        "bald",
        3,
        rounds=[
            {
                "acquired_indices": [0, 1, 3],
                "acquired_original_indices": [0, 1, 0],
                "scores": [0.3, 0.2, 0.1],
            }
        ],
    )
    batchbald = run_record(
        "batchbald",
        2,
        rounds=[
            {"acquired_indices": [2, 4], "acquired_original_indices": [2, 1], "scores": [0.5, 0.9]}
        ],
    )
    records = {"bald": bald.rounds[0], "batchbald": batchbald.rounds[0]}
    args = batch_images(experiment, records)
    assert args["batches"] == {"bald": [0, 1, 2], "batchbald": [3, 4]}
    assert args["original_N"].tolist() == [0, 0, 1, 2, 1]  # bald's copies of image 0 together
    assert args["scores"] == {"bald": [0.3, 0.1, 0.2], "batchbald": [0.5, 0.9]}
    assert args["images_N_H_W"][:, 0, 0].tolist() == pytest.approx([0.0, 0.6, 0.2, 0.4, 0.8])
    unsorted = batch_images(experiment, records, side_by_side=False)
    assert unsorted["original_N"].tolist() == [0, 1, 0, 2, 1]


def test_distinct_labelled_counts_each_original_once(run_record, monkeypatch):
    built = []

    def fake_run_data(run):
        built.append(run.seed)
        return ExperimentData(_tiny_data(), [3, 4], [], [], [0, 1, 2, 5])

    monkeypatch.setattr(repeated_mnist, "run_data", fake_run_data)
    # initial labels: images 3 and 4 (originals 0 and 1)
    first = run_record("bald", 2, 0, _rounds([0, 2], [1, 2]), initial_indices=[3, 4])
    second = run_record("batchbald", 2, 0, _rounds([2, 2]), initial_indices=[3, 4])
    assert distinct_labelled([first, second]) == [[2, 3, 3], [2, 3]]
    assert built == [0]  # the data are rebuilt once per data setting, not once per method


def test_batch_diversity_plots_the_median_distinct_originals_per_batch(run_record):
    runs = [
        run_record("bald", 3, seed, _rounds(originals))
        for seed, originals in enumerate([[1, 1, 2], [3, 3, 3], [4, 5, 5]])
    ]
    ax = plot_batch_diversity(runs)
    line = next(line for line in ax.get_lines() if line.get_label() == "BALD (b=3)")
    assert line.get_xdata().tolist() == [20] and line.get_ydata().tolist() == [2]
    assert ax.get_ylim() == (0, 4)  # up to b + 1, b dotted
    plt.close("all")


def test_accuracy_on_distinct_grid_interpolates_every_seed_on_the_common_range():
    curves = accuracy_on_distinct_grid(
        [[20, 24, 30], [20, 27, 27, 32]], [[0.5, 0.6, 0.9], [0.4, 0.7, 0.8, 1.0]]
    )
    # common range 20..30; grid: every count reached inside it
    assert [sorted(c) for c in curves] == [[20, 24, 27, 30]] * 2
    assert curves[0][27] == pytest.approx(0.6 + 0.3 * 3 / 6)
    assert curves[1][24] == pytest.approx(0.4 + 0.4 * 4 / 7)  # 27 keeps its last round: 0.8
    assert curves[1][30] == pytest.approx(0.8 + 0.2 * 3 / 5)
    assert accuracy_on_distinct_grid([[20, 22], [30, 40]], [[0.1, 0.2], [0.3, 0.4]]) == [{}, {}]


def test_accuracy_against_distinct_images_draws_one_line_per_method_not_per_seed(run_record):
    accuracies = {"bald": [[0.5, 0.6], [0.4, 0.7], [0.45, 0.65]], "batchbald": [[0.5, 0.8]] * 3}
    distinct = {"bald": [[20, 24], [20, 27], [20, 26]], "batchbald": [[20, 30]] * 3}
    runs, distinct_per_run = [], []
    for method in ["bald", "batchbald"]:
        for seed in range(3):
            rounds = [{"test_accuracy": a} for a in accuracies[method][seed]]
            runs.append(run_record(method, 10, seed, rounds))
            distinct_per_run.append(distinct[method][seed])
    ax = plot_accuracy_vs_distinct(runs, distinct_per_run)
    lines = ax.get_lines()
    assert len(lines) == 2  # one per method: the median over its 3 seeds
    assert [line.get_label() for line in lines] == [
        "BALD (b=10), 3 seeds",
        "BatchBALD (b=10), 3 seeds",
    ]
    assert lines[0].get_xdata().tolist() == [20, 24]  # the range every BALD seed covers
    # at 24 distinct images: 0.6, 0.4 + 0.3 · 4/7 and 0.45 + 0.2 · 4/6
    median = np.median([0.6, 0.4 + 0.3 * 4 / 7, 0.45 + 0.2 * 4 / 6])
    assert lines[0].get_ydata().tolist() == pytest.approx([0.45, median])
    assert lines[0].get_color() == METHOD_COLOURS["bald"]
    bands = [c for c in ax.collections if isinstance(c, FillBetweenPolyCollection)]
    assert len(bands) == 2  # the quartiles of each method
    dots = [c for c in ax.collections if c not in bands]
    assert len(dots) == 6 and all(d.get_alpha() < 0.5 for d in dots)  # each seed, faint
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["BALD (b=10), 3 seeds", "BatchBALD (b=10), 3 seeds"]
    assert ax.get_xlabel().startswith("distinct images") and ax.get_ylabel() == "test accuracy"
    plt.close("all")


def test_accuracy_against_distinct_images_with_one_seed_draws_its_line_without_a_band(
    run_record,
):
    runs = [run_record("bald", 10, 0, [{"test_accuracy": 0.5}, {"test_accuracy": 0.6}])]
    ax = plot_accuracy_vs_distinct(runs, [[20, 24]])
    (line,) = ax.get_lines()
    assert line.get_label() == "BALD (b=10)"
    assert line.get_xdata().tolist() == [20, 24] and line.get_ydata().tolist() == [0.5, 0.6]
    assert not any(isinstance(c, FillBetweenPolyCollection) for c in ax.collections)
    plt.close("all")
