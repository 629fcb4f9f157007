"""Tests for bbal_tutorial.widgets: panels redraw from their controls and show their errors.

ipywidgets 8 works without a kernel: setting a control's ``.value`` fires its observers, and
``Button.click()`` fires ``on_click``. Outside a kernel an ``Output`` widget captures nothing, so
the tests look at the figure the last redraw showed (``panel.figure``) instead.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bbal_tutorial import widgets
from bbal_tutorial.lessons import diagrams


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# notebook 01: information diagrams


def test_a_failing_panel_prints_the_traceback_instead_of_raising(monkeypatch, capsys):
    def broken(*_, **__):
        raise ValueError("broken example")

    monkeypatch.setattr(diagrams, "sample_predictions_log_probs", broken)
    panel = diagrams.bald_venn_panel()  # the first draw fails, but building the panel does not
    assert panel.redraw() is None
    assert "ValueError: broken example" in capsys.readouterr().err


def test_a_panel_draws_on_a_figure_pyplot_does_not_track():
    # in a kernel, widget messages run pyplot's post_execute hooks on another thread: they draw
    # every figure pyplot tracks, so a panel's figure must not be one of them
    def draw(k: int):
        fig = widgets.panel_figure(figsize=(3, 2))
        fig.subplots().set_title(f"K = {k}")
        return fig

    slider = widgets.widgets.IntSlider(value=2, min=1, max=5)
    panel = widgets.live_panel({"k": slider}, draw)
    assert panel.figure.axes[0].get_title() == "K = 2"
    slider.value = 3
    assert panel.figure.axes[0].get_title() == "K = 3"
    assert not plt.get_fignums()


def test_in_a_kernel_a_panel_shows_its_own_figures_and_leaves_others_alone(monkeypatch):
    monkeypatch.setattr(widgets, "_in_kernel", lambda: True)
    other = plt.figure()  # e.g. a figure a cell is drawing on the main thread

    def draw(k: int):
        print(f"K = {k}")
        plt.subplots()  # an older lesson's pyplot figure
        return widgets.panel_figure()

    panel = widgets.live_panel({"k": widgets.widgets.IntSlider(value=1)}, draw)
    # set as the Output widget's outputs in one update, not written through its capture
    # context: the printed text, then each figure once, the returned one last
    outputs = panel.output.outputs
    assert [o["output_type"] for o in outputs] == ["stream", "display_data", "display_data"]
    assert outputs[0]["text"] == "K = 1\n"
    assert repr(panel.figure) in outputs[-1]["data"]["text/plain"]
    # the pyplot one is closed (pyplot forgets it, as the inline backend does); the other stays
    assert plt.get_fignums() == [other.number]


def test_in_a_kernel_a_failing_panel_shows_the_traceback_in_its_outputs(monkeypatch):
    monkeypatch.setattr(widgets, "_in_kernel", lambda: True)

    def draw(k: int):
        raise ValueError("broken example")

    panel = widgets.live_panel({"k": widgets.widgets.IntSlider(value=1)}, draw)
    (output,) = panel.output.outputs
    assert output["name"] == "stderr" and "ValueError: broken example" in output["text"]
    assert panel.figure is None


# --------------------------------------------------------------------------------------------------
# notebooks 04-07: the live re-run panel

# A run small enough for a unit test: 40 original images (120 noisy copies), 1 epoch of 64
# draws, K = 2, 20 -> 30 labels in batches of 5 (3 rounds).
TINY_OVERRIDES = dict(
    samples_per_epoch=64, max_epochs=1, validation_size=20, max_test_size=100, num_samples=500
)
TINY_CONTROLS = dict(max_train_images=40, label_budget=30, mc_samples=2, acquisition_size=5)


def test_live_run_panel_builds_and_moving_a_control_runs_nothing():
    panel = widgets.live_run_panel(defaults=TINY_CONTROLS, overrides=TINY_OVERRIDES)
    assert list(panel.controls) == list(widgets.LIVE_RUN_CONTROLS)
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


def test_a_tiny_live_run_redraws_the_plot_after_every_round(monkeypatch, one_thread, run_record):
    from bbal_tutorial import plotting

    drawn, original = [], plotting.plot_live_run

    def recording_plot(run, cached_runs=(), **kwargs):
        drawn.append((run.labels, len(cached_runs)))
        return original(run, cached_runs, **kwargs)

    monkeypatch.setattr(widgets, "plot_live_run", recording_plot)
    cached = [
        run_record("random", b, rounds=[{"test_accuracy": 0.5}, {"test_accuracy": 0.6}])
        for b in (5, 10)
    ]
    panel = widgets.live_run_panel(
        cached_runs=cached,
        defaults={**TINY_CONTROLS, "acquisition": "batchbald"},
        overrides=TINY_OVERRIDES,
        progress=False,
    )
    run = panel.run()
    assert run is panel.results
    assert run.labels == [20, 25, 30]
    assert run.acquisition == "batchbald"
    assert run.config.mc_samples == 2 and run.finished
    # one redraw per round, each with the rounds so far, over the cached run with the same b
    assert drawn == [([20], 1), ([20, 25], 1), ([20, 25, 30], 1)]
    assert panel.figures_drawn == 3 and not panel.button.disabled
    assert not plt.get_fignums()  # every live figure was closed after being displayed

    # the button does the same as panel.run()
    panel.controls["acquisition"].value = "random"
    panel.button.click()
    assert panel.results.acquisition == "random"
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
