"""Tests for bbal_tutorial.lessons.limitations (notebook 07): by-hand values, independent
recomputations and the figures."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex

from bbal_tutorial.acquisition import acquire
from bbal_tutorial.data import load_dataset, make_splits
from bbal_tutorial.information import batch_mutual_information, epig, mutual_information
from bbal_tutorial.lessons.double_counting import two_points_log_probs
from bbal_tutorial.lessons.limitations import (
    INITIAL_ROW,
    UnbalancedPoolRun,
    batch_information_by_k,
    class_shares,
    confident_pseudo_labels,
    epig_regions,
    format_summary,
    oversampling_ratios,
    per_class_accuracy,
    plot_bald_and_epig_diagrams,
    plot_class_shares,
    plot_information_by_k,
    plot_oversampling_ratios,
    pseudo_label_round,
    reweighted_accuracy,
    subsample_by_class,
    summarise_runs,
    train_and_test,
    unbalanced_pool_run,
)
from bbal_tutorial.models import predict_log_probs
from bbal_tutorial.plotting import METHOD_COLOURS, REFERENCE_COLOUR

# --------------------------------------------------------------------------------------------------
# an unbalanced pool


def test_subsample_by_class_takes_exactly_the_asked_counts_from_the_candidates():
    labels = torch.arange(100) % 4  # 25 of each class
    candidates = list(range(0, 100, 2))  # classes 0 and 2 only
    chosen = subsample_by_class(labels, {0: 10, 2: 3}, candidates=candidates, seed=1)
    assert len(chosen) == len(set(chosen)) == 13
    assert set(chosen) <= set(candidates)
    assert torch.bincount(labels[chosen], minlength=4).tolist() == [10, 0, 3, 0]
    assert subsample_by_class(labels, {0: 10, 2: 3}, candidates=candidates, seed=1) == chosen
    assert subsample_by_class(labels, {0: 10, 2: 3}, candidates=candidates, seed=2) != chosen


def test_subsample_by_class_mixes_the_classes_and_refuses_too_many():
    labels = torch.arange(1000) % 2
    chosen = subsample_by_class(labels, {0: 300, 1: 300})
    # a random order: the first 100 are not all of one class
    assert 20 < int(labels[chosen[:100]].sum()) < 80
    with pytest.raises(ValueError, match="fewer than"):
        subsample_by_class(labels, {0: 501})


def test_class_shares_and_their_errors():
    shares = class_shares([0, 0, 1, 3], 4)
    assert shares.dtype == torch.float64
    assert shares.tolist() == [0.5, 0.25, 0.0, 0.25]
    with pytest.raises(ValueError, match="empty"):
        class_shares([], 3)
    with pytest.raises(ValueError, match="num_classes"):
        class_shares([0, 5], 3)


def test_oversampling_ratios_by_hand():
    pool = [0] * 6 + [1] * 3 + [2] * 1  # shares 0.6, 0.3, 0.1, 0 for class 3
    acquired = [0, 1, 2, 2]  # shares 0.25, 0.25, 0.5, 0
    ratios = oversampling_ratios(acquired, pool, 4)
    assert ratios[:3].tolist() == pytest.approx([0.25 / 0.6, 0.25 / 0.3, 0.5 / 0.1])
    assert math.isnan(ratios[3])


def test_per_class_accuracy_by_hand():
    labels = [0, 0, 0, 1, 1, 2]
    predictions = [0, 1, 0, 1, 1, 0]
    accuracy = per_class_accuracy(predictions, labels, 4)
    assert accuracy[:3].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert math.isnan(accuracy[3])
    with pytest.raises(ValueError, match="must match"):
        per_class_accuracy([0], labels, 4)


def test_reweighted_accuracy_equals_the_accuracy_of_a_test_set_with_those_frequencies():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 4  # balanced: 100 per class
    predictions = torch.where(torch.rand(400, generator=generator) < 0.7, labels, (labels + 1) % 4)
    # balanced weights: the plain accuracy of the balanced test set
    accuracy_C = per_class_accuracy(predictions, labels, 4)
    plain = float((predictions == labels).double().mean())
    assert reweighted_accuracy(accuracy_C, [1, 1, 1, 1]) == pytest.approx(plain)
    assert reweighted_accuracy(accuracy_C, [0, 0, 1, 0]) == pytest.approx(float(accuracy_C[2]))
    # an unbalanced test set: keep 100, 50, 20 and 10 test points of the four classes
    counts = [100, 50, 20, 10]
    keep = torch.cat([torch.nonzero(labels == c).flatten()[:n] for c, n in enumerate(counts)])
    kept_accuracy = float((predictions[keep] == labels[keep]).double().mean())
    kept_accuracy_C = per_class_accuracy(predictions[keep], labels[keep], 4)
    assert reweighted_accuracy(kept_accuracy_C, counts) == pytest.approx(kept_accuracy)
    assert reweighted_accuracy(kept_accuracy_C, [c / 180 for c in counts]) == pytest.approx(
        kept_accuracy
    )


def test_reweighted_accuracy_refuses_bad_weights():
    accuracy = torch.tensor([0.5, float("nan")])
    with pytest.raises(ValueError, match="no test points"):
        reweighted_accuracy(accuracy, [1, 1])
    assert reweighted_accuracy(accuracy, [1, 0]) == 0.5  # the empty class has no weight
    with pytest.raises(ValueError, match=">= 0"):
        reweighted_accuracy(accuracy, [-1, 2])
    with pytest.raises(ValueError, match="class weights"):
        reweighted_accuracy(accuracy, [1, 1, 1])


# --------------------------------------------------------------------------------------------------
# pseudo-labels


def _log_probs_from_predictive(probs_N_C):
    """K = 2 samples that both predict exactly ``probs_N_C``."""
    probs = torch.tensor(probs_N_C, dtype=torch.float64)
    return probs.log()[:, None, :].expand(-1, 2, -1).contiguous()


def test_pseudo_labels_keep_confident_points_most_confident_first():
    log_probs = _log_probs_from_predictive(
        [
            [0.90, 0.05, 0.05],  # 0: class 0, confident
            [0.50, 0.30, 0.20],  # 1: class 0, unsure
            [0.05, 0.95, 0.00],  # 2: class 1, most confident
            [0.97, 0.02, 0.01],  # 3: class 0, most confident
            [0.10, 0.10, 0.80],  # 4: class 2
        ]
    )
    everything = confident_pseudo_labels(log_probs)
    assert everything.indices == [3, 0, 1, 2, 4]
    assert everything.labels == [0, 0, 0, 1, 2]
    assert everything.confidence == pytest.approx([0.97, 0.90, 0.50, 0.95, 0.80])
    confident = confident_pseudo_labels(log_probs, threshold=0.85)
    assert confident.indices == [3, 0, 2] and confident.labels == [0, 0, 1]
    capped = confident_pseudo_labels(log_probs, per_class=1)
    assert capped.indices == [3, 2, 4] and len(capped) == 3
    assert capped.accuracy([0, 0, 1, 2, 2]) == pytest.approx(2 / 3)


def test_pseudo_labels_use_the_mean_over_samples_not_one_sample():
    # each sample is sure, but they disagree: the predictive is 50/50
    probs = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    assert len(confident_pseudo_labels(probs.log(), threshold=0.6)) == 0
    assert confident_pseudo_labels(probs.log()).confidence == pytest.approx([0.5])


def test_pseudo_labels_refuse_bad_settings(softmax_log_probs):
    log_probs = softmax_log_probs(4, 3, 2)
    with pytest.raises(ValueError, match="threshold"):
        confident_pseudo_labels(log_probs, threshold=1.5)
    with pytest.raises(ValueError, match="per_class"):
        confident_pseudo_labels(log_probs, per_class=-1)
    nothing = confident_pseudo_labels(log_probs, threshold=1.0)
    assert len(nothing) == 0 and math.isnan(nothing.accuracy([0, 0, 0, 0]))


# --------------------------------------------------------------------------------------------------
# the noisy estimator


def test_batch_information_by_k_matches_the_exact_score_and_respects_log_k(softmax_log_probs):
    log_probs_R_n_K_C = softmax_log_probs(5, 3, 20, 4, seed=3)
    ks = [1, 2, 5, 20]
    values = batch_information_by_k(log_probs_R_n_K_C, ks)
    assert values.shape == (4, 5) and values.dtype == torch.float64
    assert values[0].abs().max() < 1e-12  # one sample: nothing to learn about w
    for i, k in enumerate(ks):
        assert values[i, 2] == pytest.approx(batch_mutual_information(log_probs_R_n_K_C[2, :, :k]))
        assert bool((values[i] <= math.log(k) + 1e-5).all())
    # draws differ, so the score spreads over them
    assert float(values[-1].std()) > 0


def test_batch_information_by_k_refuses_bad_input(softmax_log_probs):
    with pytest.raises(ValueError, match="4-D"):
        batch_information_by_k(softmax_log_probs(3, 5, 2), [2])
    with pytest.raises(ValueError, match="1..5"):
        batch_information_by_k(softmax_log_probs(2, 3, 5, 2), [2, 6])


# --------------------------------------------------------------------------------------------------
# training on the offline MNIST sample


def test_train_and_test_learns_and_is_deterministic():
    data = load_dataset("mnist", source="sample")
    split = make_splits(data.train_y_N, num_classes=10, initial_per_class=2, validation_size=0)
    labelled = torch.tensor(split.initial_indices)
    x_L, y_L = data.train_x_N_1_H_W[labelled], data.train_y_N[labelled]
    test_x, test_y = data.test_x_M_1_H_W[::5], data.test_y_M[::5]  # sorted by class: every 5th
    _, accuracy_C = train_and_test(x_L, y_L, test_x, test_y, epochs=4, k=3, seed=0)
    _, again_C = train_and_test(x_L, y_L, test_x, test_y, epochs=4, k=3, seed=0)
    assert accuracy_C.shape == (10,) and accuracy_C.dtype == torch.float64
    assert torch.equal(accuracy_C, again_C)
    assert float(accuracy_C.mean()) > 0.3  # 20 labels: far above chance (0.1)


def test_pseudo_label_round_retrains_with_the_models_own_confident_labels():
    data = load_dataset("mnist", source="sample")
    split = make_splits(data.train_y_N, num_classes=10, initial_per_class=2, validation_size=0)
    labelled = torch.tensor(split.initial_indices)
    unlabelled = torch.tensor(split.pool_indices[::40])  # 100 images
    args = (
        data.train_x_N_1_H_W[labelled],
        data.train_y_N[labelled],
        data.train_x_N_1_H_W[unlabelled],
        data.test_x_M_1_H_W[::10],
        data.test_y_M[::10],
    )
    result = pseudo_label_round(*args, epochs=2, k=3, per_class=2, seed=0)
    assert 0 < len(result.pseudo) <= 20
    assert max(torch.bincount(torch.tensor(result.pseudo.labels), minlength=10).tolist()) <= 2
    assert set(result.pseudo.indices) <= set(range(100))
    assert result.accuracy_before_C.shape == result.accuracy_after_C.shape == (10,)
    again = pseudo_label_round(*args, epochs=2, k=3, per_class=2, seed=0)
    assert again.pseudo.indices == result.pseudo.indices
    assert torch.equal(again.accuracy_after_C, result.accuracy_after_C)


# --------------------------------------------------------------------------------------------------
# the unbalanced pool with EPIG

TINY_COUNTS = {c: 2 if c >= 5 else 12 for c in range(10)}  # 70 images, digits 5-9 rare
TINY_RUN = {
    "counts": TINY_COUNTS,
    "initial_labels": 20,
    "acquisition_size": 6,
    "targets_per_class": 2,
    "k": 4,
    "test_k": 2,
    "epochs": 1,
    "num_samples": 100,
}


@pytest.fixture(scope="module")
def sample_and_test():
    data = load_dataset("mnist", source="sample")
    test = subsample_by_class(data.test_y_M, dict.fromkeys(range(10), 5), seed=0)
    return data.train_x_N_1_H_W, data.train_y_N, data.test_x_M_1_H_W[test], data.test_y_M[test]


def test_unbalanced_pool_run_repeats_section_1_and_adds_epig(sample_and_test):
    x, y, test_x, test_y = sample_and_test
    run = unbalanced_pool_run(x, y, test_x, test_y, seed=3, **TINY_RUN)
    # section 1's cells, by hand: the same pool, model, masks and picks
    unbalanced = subsample_by_class(y, TINY_COUNTS, seed=3)
    labelled, pool = torch.tensor(unbalanced[:20]), torch.tensor(unbalanced[20:])
    model, start_C = train_and_test(x[labelled], y[labelled], test_x, test_y, epochs=1, k=2, seed=3)
    torch.manual_seed(3)
    model.redraw_masks()
    log_probs = predict_log_probs(model, x[pool], 4, progress=False)
    assert torch.equal(run.initial_accuracy_C, start_C)
    assert torch.equal(run.pool_labels, y[pool])
    for name in ("random", "bald", "batchbald"):
        chosen = pool[acquire(name, log_probs, 6, seed=3, num_samples=100).indices]
        assert torch.equal(run.acquired_indices[name], chosen), name
    # EPIG: a balanced target sample outside the pool, predicted with the pool's K masks
    targets = run.target_indices
    assert torch.bincount(y[targets], minlength=10).tolist() == [2] * 10
    assert not set(targets.tolist()) & set(unbalanced)
    target_log_probs = predict_log_probs(model, x[targets], 4, progress=False)
    scores = epig(log_probs, target_log_probs)
    assert torch.equal(run.acquired_indices["epig"], pool[scores.topk(6).indices])
    for name, chosen in run.acquired_indices.items():
        assert set(chosen.tolist()) <= set(pool.tolist()) and len(set(chosen.tolist())) == 6
        assert torch.equal(run.acquired_labels[name], y[chosen])
        assert run.accuracy_C[name].shape == (10,)
    again = unbalanced_pool_run(x, y, test_x, test_y, methods=["epig"], seed=3, **TINY_RUN)
    assert torch.equal(again.accuracy_C["epig"], run.accuracy_C["epig"])


def test_unbalanced_pool_run_targets_from_the_pool_and_without_epig(sample_and_test):
    x, y, test_x, test_y = sample_and_test
    settings = TINY_RUN
    run = unbalanced_pool_run(
        x, y, test_x, test_y, methods=["epig"], target_source="pool", seed=1, **settings
    )
    unbalanced = subsample_by_class(y, TINY_COUNTS, seed=1)
    assert len(run.target_indices) == 20
    assert set(run.target_indices.tolist()) <= set(unbalanced[20:])
    no_epig = unbalanced_pool_run(x, y, test_x, test_y, methods=["random"], seed=1, **settings)
    assert len(no_epig.target_indices) == 0 and list(no_epig.accuracy_C) == ["random"]
    with pytest.raises(ValueError, match="target_source"):
        unbalanced_pool_run(x, y, test_x, test_y, target_source="test", **settings)
    with pytest.raises(ValueError, match="initial_labels"):
        unbalanced_pool_run(x, y, test_x, test_y, **settings | {"initial_labels": 70})


def test_summarise_runs_by_hand():
    def run(accuracy_epig, labels_epig):
        return UnbalancedPoolRun(
            pool_labels=torch.tensor([0, 0, 0, 1]),  # class 1 rare, 75% common
            target_indices=torch.zeros(0, dtype=torch.long),
            initial_accuracy_C=torch.tensor([0.5, 0.0], dtype=torch.float64),
            acquired_indices={"epig": torch.tensor([7, 8])},
            acquired_labels={"epig": torch.tensor(labels_epig)},
            accuracy_C={"epig": torch.tensor(accuracy_epig, dtype=torch.float64)},
        )

    summary = summarise_runs([run([1.0, 0.5], [0, 1]), run([0.5, 0.5], [1, 1])], [1])
    assert list(summary) == [INITIAL_ROW, "epig", "pool"]
    assert summary["epig"]["balanced"].tolist() == [0.75, 0.5]
    assert summary["epig"]["pool-like"].tolist() == [0.875, 0.5]
    assert summary["epig"]["rare"].tolist() == [0.5, 0.5]
    assert summary["epig"]["common"].tolist() == [1.0, 0.5]
    assert summary["epig"]["common share"].tolist() == [0.5, 0.0]
    assert summary[INITIAL_ROW]["balanced"].tolist() == [0.25, 0.25]
    assert torch.isnan(summary[INITIAL_ROW]["common share"]).all()
    assert summary["pool"] == {"common share": pytest.approx(torch.tensor([0.75, 0.75]))}
    with pytest.raises(ValueError, match="no runs"):
        summarise_runs([], [1])
    with pytest.raises(ValueError, match="some but not all"):
        summarise_runs([run([1.0, 0.5], [0, 1])], [0, 1])


def test_format_summary_prints_the_mean_and_range_per_method():
    summary = {
        INITIAL_ROW: {
            "balanced": torch.tensor([0.25, 0.75]),
            "common share": torch.tensor([torch.nan] * 2),
        },
        "epig": {"balanced": torch.tensor([0.5, 0.7]), "common share": torch.tensor([0.6, 0.8])},
        "pool": {"common share": torch.tensor([0.9, 0.9])},
    }
    header, initial, epig_row, pool = format_summary(summary, ["balanced", "common share"]).split(
        "\n"
    )
    assert header.split() == ["balanced", "common", "share"]
    assert initial.split() == ["initial", "labels", "only", "50.0%", "(25-75)"]
    assert epig_row.split() == ["EPIG", "60.0%", "(50-70)", "70.0%", "(60-80)"]
    assert pool.split() == ["pool", "90.0%", "(90-90)"]
    one_run = {"bald": {"rare": torch.tensor([0.123])}}
    assert format_summary(one_run, ["rare"]).split("\n")[1].split() == ["BALD", "12.3%"]


@pytest.mark.parametrize("shift", [0, 1, 2, 4])
def test_epig_regions_put_epig_in_the_centre(shift):
    log_probs = two_points_log_probs(shift)
    regions = epig_regions(log_probs)
    assert len(regions) == 11 and "I[y;y*;w]" in regions and "H[y*]" in regions
    assert regions["I[y;y*|w]"] == pytest.approx(0, abs=1e-12)  # independent given w
    assert regions["I[y;y*;w]"] == pytest.approx(float(epig(log_probs[:1], log_probs[1:])[0]))
    bald = regions["I[y;w|y*]"] + regions["I[y;y*;w]"]
    assert bald == pytest.approx(float(mutual_information(log_probs[:1])[0]))


def test_bald_and_epig_diagrams_shade_each_scores_regions():
    fig = plot_bald_and_epig_diagrams(two_points_log_probs(1), title="shift 1")
    bald_ax, epig_ax = fig.axes
    assert "BALD" in bald_ax.get_title() and "0.69" in bald_ax.get_title()
    assert "EPIG" in epig_ax.get_title() and "0.13" in epig_ax.get_title()
    texts = " ".join(t.get_text() for t in epig_ax.texts)
    assert "y^*" in texts and "y*" not in texts  # y* written with a superscript star
    assert fig._suptitle.get_text() == "shift 1"
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# figures


def _labelled_dots(ax):
    """The scatter plots with a legend entry, in order."""
    return [
        c
        for c in ax.collections
        if isinstance(c, PathCollection) and not c.get_label().startswith("_")
    ]


def test_class_shares_figure_draws_pool_and_methods_per_class():
    pool = np.array([0.5, 0.3, 0.2])
    ax = plot_class_shares(
        pool, {"random": [0.4, 0.4, 0.2], "bald": [0.0, 0.5, 0.5]}, highlight=[2]
    )
    heights = [bar.get_height() for bar in ax.patches if bar.get_width() < 0.5]
    assert heights == pytest.approx([0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 0.0, 0.5, 0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pool", "Random", "BALD"]
    assert "rare" in ax.get_xlabel() and ax.xaxis.label.get_visible() and ax.get_ylabel()
    assert plt.gca() is ax  # plt.title() after the call titles the shares panel
    plt.close("all")


def test_class_shares_pool_bars_are_a_hatched_reference_not_a_method_colour():
    pool_bars, random_bars, bald_bars = plot_class_shares(
        [0.5, 0.5], {"random": [0.5, 0.5], "bald": [0.2, 0.8]}
    ).containers
    pool, random = pool_bars.patches[0], random_bars.patches[0]
    assert pool.get_hatch() and not random.get_hatch()
    assert to_hex(pool.get_facecolor()) == "#ffffff"  # white: no method's colour
    method_colours = {to_hex(c) for c in METHOD_COLOURS.values()}
    assert to_hex(pool.get_facecolor()) not in method_colours
    assert to_hex(random.get_facecolor()) == METHOD_COLOURS["random"]
    assert to_hex(bald_bars.patches[0].get_facecolor()) == METHOD_COLOURS["bald"]
    assert to_hex(random.get_facecolor()) != to_hex(REFERENCE_COLOUR)  # random is not grey
    plt.close("all")


def test_class_shares_figure_shows_the_rare_classes_as_ratios_to_their_pool_share():
    pool = np.array([0.45, 0.45, 0.05, 0.05])  # classes 2 and 3 are rare
    shares = {"random": [0.5, 0.4, 0.1, 0.0], "batchbald": [0.3, 0.3, 0.2, 0.2]}
    ax = plot_class_shares(pool, shares, highlight=[2, 3])
    shares_ax, ratio_ax = ax.figure.axes
    assert shares_ax is ax and ratio_ax.get_yscale() == "log"
    assert ratio_ax.get_ylabel() == "acquired share / pool share"
    assert "rare" in ratio_ax.get_xlabel()
    # the dots: each method's ratio of every class it acquired
    random_dots, batchbald_dots, _ = _labelled_dots(ratio_ax)
    assert random_dots.get_offsets()[:, 1].tolist() == pytest.approx([0.5 / 0.45, 0.4 / 0.45, 2.0])
    assert batchbald_dots.get_offsets()[:, 1].tolist() == pytest.approx([2 / 3, 2 / 3, 4.0, 4.0])
    legend = [t.get_text() for t in ratio_ax.get_legend().get_texts()]
    assert legend == [
        "pool share (×1)",
        "Random: rare classes at 1.0× their pool share",
        "BatchBALD: rare classes at 4.0× their pool share",
        "none acquired",  # random never took class 3
    ]
    assert len(set(legend)) == len(legend)
    reference = [line for line in ratio_ax.get_lines() if line.get_label() == "pool share (×1)"]
    assert reference[0].get_ydata()[0] == 1
    plt.close("all")


def test_oversampling_ratio_panel_alone_and_shares_alone_on_a_given_axes():
    fig, ax = plt.subplots()
    plot_class_shares([0.5, 0.5], {"bald": [0.2, 0.8]}, ax)
    assert fig.axes == [ax]  # no ratio panel unless asked for
    ratio_ax = plot_oversampling_ratios([0.5, 0.5], {"bald": [0.25, 0.75]})
    assert _labelled_dots(ratio_ax)[0].get_offsets()[:, 1].tolist() == pytest.approx([0.5, 1.5])
    assert [t.get_text() for t in ratio_ax.get_legend().get_texts()][1] == "BALD"
    plt.close("all")


def test_information_by_k_figure_marks_the_mean_and_the_log_k_ceiling():
    values = np.array([[0.5, 0.7], [1.0, 1.4], [2.0, 2.0]])
    ax = plot_information_by_k([2, 5, 20], values)
    ceiling = [line for line in ax.get_lines() if line.get_linestyle() == "--"][0]
    assert ceiling.get_ydata() == pytest.approx([math.log(2), math.log(5), math.log(20)])
    mean_line = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
    assert mean_line.get_ydata() == pytest.approx([0.6, 1.2, 2.0])
    plt.close("all")
