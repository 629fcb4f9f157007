"""Tests for bbal_tutorial.widgets: panels redraw from their controls and show their errors.

ipywidgets 8 works without a kernel: setting a control's ``.value`` fires its observers, and
``Button.click()`` fires ``on_click``. Outside a kernel an ``Output`` widget captures nothing, so
the tests look at the figure a redraw leaves behind (matplotlib's current figure) instead.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bbal_tutorial import information as info
from bbal_tutorial import presets, widgets
from bbal_tutorial.lessons import acquisition_size, diagrams, dropout, duplicates


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


def figure_text(fig):
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


# --------------------------------------------------------------------------------------------------
# notebook 01: information diagrams


def bald_of(**settings):
    log_probs_K_C = diagrams.sample_predictions_log_probs(**settings)
    return info.two_variable_regions(log_probs_K_C)


def test_bald_venn_panel_draws_once_and_redraws_when_a_slider_moves():
    panel = diagrams.bald_venn_panel()
    assert all(not c.continuous_update for c in panel.controls.values())
    first = plt.gcf()
    regions = bald_of(num_samples=4, num_classes=3, disagreement=0.5, confidence=0.9)
    assert f"{regions['I[y;w]']:.2f} = {regions['H[y]']:.2f}" in figure_text(first)

    panel.controls["disagreement"].value = 1.0
    panel.controls["confidence"].value = 1.0
    fig = plt.gcf()
    assert fig is not first
    regions = bald_of(num_samples=4, num_classes=3, disagreement=1.0, confidence=1.0)
    assert regions["I[y;w]"] == pytest.approx(1.04, abs=5e-3)
    assert "1.04 = 1.04 $-$ 0.00" in figure_text(fig)


def test_bald_venn_panel_follows_the_number_of_samples():
    panel = diagrams.bald_venn_panel()
    panel.controls["num_samples"].value = 6
    text = figure_text(plt.gcf())
    assert "K = 6 samples" in text
    assert r"$\boldsymbol{\omega}_{6}$" in text
    assert "= 1.79" in text  # H[w] = log 6


def test_bald_venn_panel_redraw_returns_the_figure():
    panel = diagrams.bald_venn_panel(disagreement=0.0)
    fig = panel.redraw()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert "0.00 = 0.39 $-$ 0.39" in figure_text(fig)


def test_two_point_panel_shows_the_gap_appear_and_disappear():
    panel = diagrams.two_point_panel()
    shift = panel.controls["shift"]
    assert (shift.min, shift.max, shift.continuous_update) == (0, 4, False)
    gaps = {}
    for value in [2, 1, 0]:
        shift.value = value
        title = plt.gcf().axes[3].get_title()
        gaps[value] = float(title.split(": ")[1].split()[0])
    expected = {
        s: diagrams.batch_information(diagrams.two_points_log_probs(s))["double-counted"]
        for s in gaps
    }
    assert gaps == pytest.approx(expected, abs=5e-3)
    assert gaps[2] == 0.0 and gaps[0] == pytest.approx(0.69, abs=5e-3)


def test_a_failing_panel_prints_the_traceback_instead_of_raising(monkeypatch, capsys):
    def broken(*_, **__):
        raise ValueError("broken example")

    monkeypatch.setattr(diagrams, "sample_predictions_log_probs", broken)
    panel = diagrams.bald_venn_panel()  # the first draw fails, but building the panel does not
    assert panel.redraw() is None
    assert "ValueError: broken example" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# notebooks 02 and 03: BALD against BatchBALD, consistent MC dropout

import math  # noqa: E402

import torch  # noqa: E402

from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch  # noqa: E402
from bbal_tutorial.lessons import duplicate_pool  # noqa: E402


def duplicate_pool_log_probs(num_originals=6, copies=3, K=20, C=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits_O_K_C = 2.0 * torch.randn(num_originals, K, C, generator=generator, dtype=torch.float64)
    noisy = [
        logits_O_K_C + 0.05 * torch.randn(logits_O_K_C.shape, generator=generator).double()
        for _ in range(copies)
    ]
    return torch.log_softmax(torch.cat(noisy), -1), torch.arange(num_originals).repeat(copies)


def image_rows(fig):
    """The image titles of a picks figure, one list per method row."""
    rows = {}
    for ax in fig.axes:
        if ax.images:
            rows.setdefault(round(ax.get_position().y0, 3), []).append(ax.get_title())
    return [rows[y] for y in sorted(rows, reverse=True)]


def test_batch_picks_panel_slices_both_batches_when_the_slider_moves():
    log_probs, original_N = duplicate_pool_log_probs()
    images = torch.rand(len(original_N), 28, 28)
    panel = duplicates.batch_picks_panel(
        log_probs, images, original_N, max_acquisition_size=6, acquisition_size=2
    )
    slider = panel.controls["acquisition_size"]
    assert (slider.min, slider.max, slider.continuous_update) == (1, 6, False)
    assert [len(row) for row in image_rows(plt.gcf())] == [2, 2]

    slider.value = 5
    bald_row, batchbald_row = image_rows(plt.gcf())
    bald = get_bald_batch(log_probs, 5)
    batchbald = get_batchbald_batch(log_probs, 5, seed=0)
    assert panel.batches["batchbald"].indices[:5] == batchbald.indices  # prefix-stable greedy
    assert bald_row[0] == f"img {int(original_N[bald.indices[0]])}"
    assert (
        sum("again" in t for t in bald_row)
        == duplicate_pool.count_repeats(bald.indices, original_N)
        > 0
    )
    assert not any("again" in t for t in batchbald_row)


def test_log_k_ceiling_panel_draws_a_ceiling_per_k_on_click(capsys):
    log_probs, original_N = duplicate_pool_log_probs(K=12)
    panel = duplicates.log_k_ceiling_panel(
        log_probs, original_N, k_values=(2, 12), acquisition_size=4, num_samples=200
    )
    ceilings = sorted(
        line.get_ydata()[0] for line in plt.gca().get_lines() if line.get_linestyle() == "--"
    )
    assert ceilings == pytest.approx([math.log(2), math.log(12)])
    assert "K =   2" in capsys.readouterr().out

    panel.controls["k_text"].value = "3, 5 8"
    assert len(plt.gca().get_lines()) == 4  # no redraw before the button is clicked
    panel.children[0].children[-1].click()
    ceilings = sorted(
        line.get_ydata()[0] for line in plt.gca().get_lines() if line.get_linestyle() == "--"
    )
    assert ceilings == pytest.approx([math.log(3), math.log(5), math.log(8)])

    panel.controls["k_text"].value = "50"
    panel.children[0].children[-1].click()
    assert "K values must be whole numbers between 1 and 12" in capsys.readouterr().err


def test_score_spread_panel_rescores_with_the_first_k_samples(capsys):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 8, 4, generator=generator, dtype=torch.float64)
    log_probs_by_mode = {
        "consistent": torch.log_softmax(logits, -1),
        "independent": torch.log_softmax(logits.flip(0), -1),
    }
    flagged = torch.tensor([False, False, True, False, False])
    panel = dropout.score_spread_panel(log_probs_by_mode, [0], [1, 2, 3, 4], flagged)
    k = panel.controls["k"]
    assert (k.min, k.max, k.value, k.continuous_update) == (2, 8, 8, False)
    fig = plt.gcf()
    assert len(fig.axes) == 4 and "K = 8" in fig.axes[0].get_ylabel()
    table = capsys.readouterr().out
    assert table.count("consistent") == 2 and table.count("independent") == 2

    k.value = 3
    fig = plt.gcf()
    assert "K = 3" in fig.axes[2].get_ylabel()
    scores = dropout.repeated_candidate_scores(log_probs_by_mode["consistent"][:, :, :3], [0])
    order = [int(t.get_text()) for t in fig.axes[2].get_xticklabels()]
    line = fig.axes[2].get_lines()[0].get_ydata()
    assert list(line) == pytest.approx(scores["batchbald"][0, order].tolist())


# --------------------------------------------------------------------------------------------------
# notebooks 04-07: the live re-run panel

# A run small enough for a unit test: 40 original images (120 noisy copies), 1 epoch of 64
# draws, K = 2, 20 -> 30 labels in batches of 5 (3 rounds).
TINY_OVERRIDES = dict(
    samples_per_epoch=64, max_epochs=1, validation_size=20, max_test_size=100, num_samples=500
)
TINY_CONTROLS = dict(max_train_images=40, label_budget=30, mc_samples=2, acquisition_size=5)


@pytest.fixture
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_live_run_config_maps_each_control_onto_the_experiment_config():
    values = dict(
        acquisition="bald",
        acquisition_size=7,
        mc_samples=4,
        num_repeats=2,
        noise_std=0.25,
        max_train_images=300,
        label_budget=90,
        seed=3,
    )
    config = presets.live_run_config(values, overrides={"max_epochs": 2, "acquisition_size": 40})
    assert config.dataset == "repeated-mnist"
    for name, value in values.items():
        assert getattr(config, name) == value, name  # a control wins over an override
    assert config.test_mc_samples == 4  # the test set is scored with the same K
    assert config.max_epochs == 2  # an override without a control stays
    assert config.samples_per_epoch == 1024  # the rest comes from the teaching preset

    mnist = presets.live_run_config(values, dataset="mnist")
    assert (mnist.dataset, mnist.num_repeats, mnist.noise_std) == ("mnist", 3, 0.1)  # defaults
    with pytest.raises(ValueError, match="unknown live-run control"):
        presets.live_run_config({"epochs": 3})


def test_live_run_rounds_counts_like_the_loop():
    config = presets.live_run_config(dict(acquisition_size=10, label_budget=55))
    assert widgets.live_run_rounds(config, 20, 1000) == 1 + 4  # 20 -> 30 -> 40 -> 50 -> 55
    assert widgets.live_run_rounds(config, 20, 12) == 1 + 2  # the pool runs out first


def test_live_run_panel_builds_and_moving_a_control_runs_nothing():
    panel = widgets.live_run_panel(defaults=TINY_CONTROLS, overrides=TINY_OVERRIDES)
    assert list(panel.controls) == list(presets.LIVE_RUN_CONTROLS)
    assert panel.controls["acquisition"].value == "batchbald"  # the default method
    assert panel.controls["label_budget"].value == 30  # from the defaults
    sliders = [c for c in panel.controls.values() if hasattr(c, "continuous_update")]
    assert sliders and not any(c.continuous_update for c in sliders)
    panel.controls["acquisition_size"].value = 8
    panel.controls["acquisition"].value = "random"
    assert panel.figures_drawn == 0 and panel.results is None
    config = panel.config()
    assert (config.acquisition_size, config.acquisition, config.label_budget) == (8, "random", 30)
    assert (config.max_epochs, config.samples_per_epoch) == (1, 64)

    mnist = widgets.live_run_panel(dataset="mnist")
    assert "num_repeats" not in mnist.controls and "noise_std" not in mnist.controls
    assert mnist.config().dataset == "mnist"
    with pytest.raises(ValueError, match="unknown live-run control"):
        widgets.live_run_panel(defaults={"epochs": 1})


def test_a_tiny_live_run_redraws_the_plot_after_every_round(monkeypatch, one_thread):
    from bbal_tutorial import plotting

    drawn, original = [], plotting.plot_live_run

    def recording_plot(results, cached_runs=(), **kwargs):
        drawn.append(([r["n_labeled"] for r in results["rounds"]], len(cached_runs)))
        return original(results, cached_runs, **kwargs)

    monkeypatch.setattr(widgets, "plot_live_run", recording_plot)
    cached = [
        {
            "config": {"acquisition": "random", "acquisition_size": b, "seed": 0, "mc_samples": 10},
            "rounds": [
                {"n_labeled": 20, "test_accuracy": 0.5},
                {"n_labeled": 30, "test_accuracy": 0.6},
            ],
        }
        for b in (5, 10)
    ]
    panel = widgets.live_run_panel(
        cached_runs=cached,
        defaults={**TINY_CONTROLS, "acquisition": "batchbald"},
        overrides=TINY_OVERRIDES,
        progress=False,
    )
    results = panel.run()
    assert results is panel.results
    assert [r["n_labeled"] for r in results["rounds"]] == [20, 25, 30]
    assert results["config"]["acquisition"] == "batchbald"
    assert results["config"]["mc_samples"] == 2 and results["finished"]
    # one redraw per round, each with the rounds so far, over the cached run with the same b
    assert drawn == [([20], 1), ([20, 25], 1), ([20, 25, 30], 1)]
    assert panel.figures_drawn == 3 and not panel.button.disabled
    assert not plt.get_fignums()  # every live figure was closed after being displayed

    # the button does the same as panel.run()
    panel.controls["acquisition"].value = "random"
    panel.button.click()
    assert panel.results["config"]["acquisition"] == "random"
    assert panel.figures_drawn == 6


def test_live_run_panel_shows_errors_in_the_panel(capsys, one_thread):
    # 20 original images cannot hold 2 labelled examples of every digit plus a validation set
    panel = widgets.live_run_panel(
        defaults={**TINY_CONTROLS, "max_train_images": 20},
        overrides={**TINY_OVERRIDES, "validation_size": 500},
        progress=False,
    )
    assert panel.run() is None
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError" in err
    assert not panel.button.disabled and panel.figures_drawn == 0


# --------------------------------------------------------------------------------------------------
# notebook 06: acquisition size


def _cached_run(acquisition, b, seed, accuracies):
    return {
        "config": {
            "acquisition": acquisition,
            "acquisition_size": b,
            "seed": seed,
            "mc_samples": 10,
            "label_budget": 80,
        },
        "dataset_source": "test data",
        "finished": "2026-11-22T10:00:00+00:00",
        "updated": None,
        "rounds": [{"n_labeled": 20 + b * i, "test_accuracy": a} for i, a in enumerate(accuracies)],
    }


def test_batch_size_curves_panel_redraws_the_cached_curves_of_the_chosen_b(capsys):
    runs = [
        _cached_run("bald", 1, 0, [0.5, 0.6, 0.7, 0.8]),
        _cached_run("bald", 5, 0, [0.5, 0.7, 0.75]),
        _cached_run("batchbald", 5, 0, [0.5, 0.8, 0.9]),
        _cached_run("bald", 10, 0, [0.5, 0.6]),
        _cached_run("batchbald", 10, 0, [0.5, 0.85]),
        _cached_run("random", 10, 0, [0.5, 0.55]),
    ]
    panel = acquisition_size.batch_size_curves_panel(runs, acquisition_size=5, target=0.8)
    slider = panel.controls["acquisition_size"]
    assert list(slider.options) == [1, 5, 10] and not slider.continuous_update
    labels = [t.get_text() for t in plt.gca().get_legend().get_texts()]
    assert labels == ["BALD (b=1)", "BALD (b=5)", "BatchBALD (b=5)"]
    assert "batchbald (b=5) reaches 80% at [25] labels (median 25)" in capsys.readouterr().out

    slider.value = 10
    labels = [t.get_text() for t in plt.gca().get_legend().get_texts()]
    assert labels == ["BALD (b=1)", "BALD (b=10)", "BatchBALD (b=10)"]  # random is not shown
    assert "b = 10" in plt.gca().get_title()
    out = capsys.readouterr().out
    assert "bald (b=10) reaches 80% at [None] labels (median never)" in out
    with pytest.raises(ValueError, match="no cached runs"):
        acquisition_size.batch_size_curves_panel([_cached_run("random", 10, 0, [0.5])])
