"""Tests for bbal_tutorial.lessons.acquisition_size (notebook 06): the log K ceiling of recorded
scores, the coldness sweep of stochastic acquisition, the figures, and the panel of learning
curves by acquisition size."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from bbal_tutorial.lessons.acquisition_size import (
    acquisition_size_curves_panel,
    ceiling_summary,
    coldness_sweep,
    median_curve_comparison,
    paired_labels_to_reach,
    plot_acquisition_size,
    plot_coldness_sweep,
    plot_recorded_batch_scores,
)
from bbal_tutorial.plotting import REFERENCE_COLOUR


def test_ceiling_summary_counts_picks_to_the_log_k_ceiling(run_record):
    ceiling = math.log(10)
    run = run_record(
        "batchbald",
        4,
        rounds=[
            {"scores": [1.0, 2.0, 0.96 * ceiling, ceiling]},  # reaches 95% at pick 3
            {"scores": [1.0, 1.5, 2.0, 2.1]},  # never
            {"scores": []},
        ],
        config={"mc_samples": 10},
    )
    other = run_record("bald", 4, config={"mc_samples": 10})
    (row,) = ceiling_summary([run, other])
    assert row["b"] == 4 and row["batches"] == 2 and row["log K"] == pytest.approx(ceiling)
    assert row["picks to 95% of log K"] == 3 and row["batches reaching it"] == 1
    assert row["final score"] == pytest.approx((ceiling + 2.1) / 2)


def test_acquisition_size_figure_draws_medians_and_marks_never():
    def row(acquisition, b, labels, rounds):
        finite = sorted(x for x in labels if x is not None)
        return {
            "acquisition": acquisition,
            "b": b,
            "labels (per seed)": labels,
            "median labels": finite[0] if len(finite) == len(labels) else None,
            "rounds (per seed)": rounds,
            "median rounds": min(rounds) if None not in rounds else None,
            "seconds (per seed)": [None if x is None else 6.0 * x for x in rounds],
            "median seconds": min(rounds) * 6.0 if None not in rounds else None,
        }

    rows = [
        row("bald", 1, [40, 40], [21, 21]),
        row("bald", 10, [60, None], [5, None]),
        row("batchbald", 10, [50, 50], [4, 4]),
    ]
    left, middle, right = plot_acquisition_size(rows, 0.8)
    lines = {line.get_label(): line for line in left.get_lines()}
    assert lines["BALD"].get_xdata().tolist() == [1, 10]
    ys = lines["BALD"].get_ydata().tolist()
    assert ys[0] == 40 and np.isnan(ys[1])  # half the seeds never got there: no median
    assert lines["BatchBALD"].get_ydata().tolist() == [40, 50]  # b = 1 is BALD for both
    middle_lines = {line.get_label(): line for line in middle.get_lines()}
    assert middle_lines["BatchBALD"].get_ydata().tolist() == [21, 4]
    right_lines = {line.get_label(): line for line in right.get_lines()}
    assert right_lines["BatchBALD"].get_ydata().tolist() == [2.1, 0.4]  # minutes
    assert "80%" in left.get_ylabel() and "CPU minutes" in right.get_ylabel()
    # a seed that never got there: an open triangle just above the highest value shown
    (never,) = [c for c in left.collections if c.get_offsets()[0][1] > 60]
    assert never.get_offsets()[0][1] == pytest.approx(1.08 * 60)
    # without compute times (rows of older records) there are two panels
    older = [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]
    assert len(plot_acquisition_size(older, 0.8)) == 2
    plt.close("all")


def test_recorded_batch_scores_are_drawn_under_the_log_k_ceiling(run_record):
    run = run_record(
        "batchbald", 3, rounds=[{"scores": [0.9, 1.6, 2.0]}, {}], config={"mc_samples": 10}
    )
    bald = run_record("bald", 3, rounds=[{}], config={"mc_samples": 10})
    ax = plot_recorded_batch_scores([run, bald])
    data = [np.asarray(line.get_ydata(), dtype=float).tolist() for line in ax.get_lines()]
    assert [0.9, 1.6, 2.0] in data
    assert any(d == pytest.approx([np.log(10)] * 2) for d in data)  # the ceiling, K = 10
    assert ax.get_title().startswith("b = 3: 1 recorded batches")
    with pytest.raises(ValueError, match="BatchBALD"):
        plot_recorded_batch_scores([bald])
    plt.close("all")


def test_coldness_sweep_figure():
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
    plt.close("all")


@pytest.fixture
def cached_run(run_record):
    """``cached_run(acquisition, b, seed, accuracies)``: a finished run, one round per accuracy."""

    def make(acquisition, b, seed, accuracies):
        return run_record(
            acquisition,
            b,
            seed,
            [{"test_accuracy": a} for a in accuracies],
            config={"mc_samples": 10, "label_budget": 80},
            finished="2026-11-22T10:00:00+00:00",
        )

    return make


def test_acquisition_size_curves_panel_redraws_the_cached_curves_of_the_chosen_b(
    cached_run, capsys
):
    shown = []  # the figures the panel showed, which pyplot does not track
    runs = [
        cached_run("bald", 1, 0, [0.5, 0.6, 0.7, 0.8]),
        cached_run("bald", 5, 0, [0.5, 0.7, 0.75]),
        cached_run("batchbald", 5, 0, [0.5, 0.8, 0.9]),
        cached_run("bald", 10, 0, [0.5, 0.6]),
        cached_run("batchbald", 10, 0, [0.5, 0.85]),
        cached_run("random", 10, 0, [0.5, 0.55]),
    ]
    panel = acquisition_size_curves_panel(runs, acquisition_size=5, target=0.8)
    slider = panel.controls["acquisition_size"]
    assert list(slider.options) == [1, 5, 10] and not slider.continuous_update
    shown.append(panel.figure)
    labels = [t.get_text() for t in shown[-1].axes[0].get_legend().get_texts()]
    assert labels == ["BALD (b=1) (reference)", "BALD (b=5)", "BatchBALD (b=5)"]
    # one colour per line: the reference is grey and dashed, BALD at b keeps BALD's colour
    lines = shown[-1].axes[0].get_lines()[:3]
    assert len({line.get_color() for line in lines}) == 3
    assert lines[0].get_linestyle() == "--" and lines[0].get_color() == REFERENCE_COLOUR
    assert "batchbald (b=5) reaches 80% at [25] labels (median 25)" in capsys.readouterr().out

    slider.value = 10
    shown.append(panel.figure)
    assert shown[1] is not shown[0] and not plt.get_fignums()
    labels = [t.get_text() for t in shown[-1].axes[0].get_legend().get_texts()]
    assert labels == ["BALD (b=1) (reference)", "BALD (b=10)", "BatchBALD (b=10)"]  # no random
    assert "b = 10" in shown[-1].axes[0].get_title()
    out = capsys.readouterr().out
    assert "bald (b=10) reaches 80% at [None] labels (median never)" in out
    with pytest.raises(ValueError, match="no cached runs"):
        acquisition_size_curves_panel([cached_run("random", 10, 0, [0.5])])
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# stochastic batch acquisition


def test_coldness_interpolates_between_random_and_top_b_bald(near_duplicate_log_probs, one_thread):
    log_probs, original_N = near_duplicate_log_probs(num_originals=20, copies=3, K=10, C=4)
    sweep = coldness_sweep(
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
        coldness_sweep(log_probs, original_N, 6, [1.0], repeats=0)


def test_paired_labels_to_reach_compares_seed_by_seed(cached_run):
    # n_labeled = 20 + b * round: at b = 10 the accuracies reach 0.8 at 30, 40 or never
    runs = [
        cached_run("batchbald", 10, 0, [0.5, 0.8]),  # 30
        cached_run("bald", 10, 0, [0.5, 0.6, 0.8]),  # 40: BatchBALD fewer
        cached_run("batchbald", 10, 1, [0.5, 0.6]),  # never
        cached_run("bald", 10, 1, [0.5, 0.6]),  # never: the same
        cached_run("batchbald", 10, 2, [0.5, 0.6]),  # never
        cached_run("bald", 10, 2, [0.9]),  # 20: BatchBALD more
        cached_run("batchbald", 40, 0, [0.9]),  # no BALD run at b = 40: no row
        cached_run("bald", 1, 0, [0.9]),
    ]
    (row,) = paired_labels_to_reach(runs, 0.8)
    assert row["b"] == 10 and row["seeds"] == [0, 1, 2]
    assert row["batchbald labels"] == [30, None, None]
    assert row["bald labels"] == [40, None, 20]
    assert (row["fewer"], row["same"], row["more"]) == (1, 1, 1)


def test_median_curve_comparison_counts_where_the_first_median_is_above(cached_run):
    # labelled points 20, 30, 40, 50 at b = 10; the initial 20 labels are not compared
    runs = [
        cached_run("batchbald", 10, 0, [0.5, 0.7, 0.8, 0.8]),
        cached_run("batchbald", 10, 1, [0.5, 0.9, 0.6]),  # stops at 40: 50 is not shared
        cached_run("bald", 10, 0, [0.5, 0.6, 0.7, 0.9]),
        cached_run("bald", 10, 1, [0.5, 0.6, 0.9, 0.9]),
        cached_run("batchbald", 40, 0, [0.5, 0.7]),  # no BALD at b = 40: no row
    ]
    (row,) = median_curve_comparison(runs)
    # medians at 30: 0.8 vs 0.6 (above); at 40: 0.7 vs 0.8 (below)
    assert row["b"] == 10 and row["label counts"] == 2 and row["batchbald above"] == 1
    assert row["mean gap"] == pytest.approx((0.2 - 0.1) / 2)
