"""ipywidgets panels for the notebooks: thin callbacks over tested package functions.

Every panel shows its figure in an :class:`ipywidgets.Output`, so an exception raised inside a
callback is printed where the student is looking (JupyterLab hides errors raised in ``observe``
and ``on_click`` handlers otherwise).  Controls that trigger costly work use
``continuous_update=False`` or a run button.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display


def shows_errors(out: widgets.Output) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: run a callback with its output (figures, prints, tracebacks) in ``out``.

    The old figure is cleared first; an exception is shown in ``out`` as a traceback instead of
    vanishing into the browser console.
    """

    def decorate(callback: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(callback)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with out:
                out.clear_output(wait=True)
                try:
                    result = callback(*args, **kwargs)
                    plt.show()
                    return result
                except Exception:
                    plt.close("all")
                    # show the traceback to the student, in the panel
                    import traceback

                    traceback.print_exc()
                    return None

        return wrapper

    return decorate


def live_panel(
    controls: dict[str, widgets.ValueWidget],
    draw: Callable[..., Any],
    *,
    button: str | None = None,
    layout: str = "vertical",
) -> widgets.Box:
    """A panel: ``controls`` above an output area redrawn by ``draw(**values)``.

    Without ``button`` the figure is redrawn whenever a control's value changes (use
    ``continuous_update=False`` on sliders that trigger real work); with ``button`` only when it is
    clicked.  The panel draws once when created.  ``panel.redraw()`` redraws programmatically
    (tests, and a notebook's "run all").
    """
    out = widgets.Output()

    @shows_errors(out)
    def redraw(*_: Any) -> Any:
        return draw(**{name: control.value for name, control in controls.items()})

    box_type = widgets.VBox if layout == "vertical" else widgets.HBox
    children: list[widgets.Widget] = list(controls.values())
    if button is not None:
        run = widgets.Button(description=button, button_style="primary", icon="play")
        run.on_click(redraw)
        children.append(run)
    else:
        for control in controls.values():
            control.observe(redraw, names="value")
    panel = widgets.VBox([box_type(children), out])
    panel.redraw = redraw  # type: ignore[attr-defined]
    panel.output = out  # type: ignore[attr-defined]
    redraw()
    return panel


def show(panel: widgets.Widget) -> widgets.Widget:
    """Display a panel in the notebook and return it (so tests can drive it)."""
    display(panel)
    return panel


# --------------------------------------------------------------------------------------------------
# notebook 01: information diagrams


def bald_venn_panel(
    *,
    disagreement: float = 0.5,
    confidence: float = 0.9,
    num_samples: int = 4,
    num_classes: int = 3,
) -> widgets.Box:
    """K samples' predictions for one point next to the diagram of ``H[y]``, ``H[w]`` and BALD.

    Sliders set :func:`bbal_tutorial.examples.sample_predictions_log_probs`'s ``disagreement``,
    ``confidence`` (each sample's probability for its favourite class), K and C; the figure is
    :func:`bbal_tutorial.plots.plot_bald_example`. ``panel.controls`` holds the sliders.
    """
    from bbal_tutorial.examples import sample_predictions_log_probs
    from bbal_tutorial.plots import plot_bald_example

    style = {"description_width": "110px"}
    controls = {
        "disagreement": widgets.FloatSlider(
            value=disagreement,
            min=0.0,
            max=1.0,
            step=0.05,
            description="disagreement",
            continuous_update=False,
            style=style,
        ),
        "confidence": widgets.FloatSlider(
            value=confidence,
            min=0.2,
            max=1.0,
            step=0.01,
            description="p(favourite)",
            continuous_update=False,
            style=style,
        ),
        "num_samples": widgets.IntSlider(
            value=num_samples,
            min=2,
            max=8,
            description="K samples",
            continuous_update=False,
            style=style,
        ),
        "num_classes": widgets.IntSlider(
            value=num_classes,
            min=2,
            max=5,
            description="C classes",
            continuous_update=False,
            style=style,
        ),
    }

    def draw(disagreement: float, confidence: float, num_samples: int, num_classes: int):
        log_probs_K_C = sample_predictions_log_probs(
            num_samples, num_classes, disagreement=disagreement, confidence=confidence
        )
        return plot_bald_example(log_probs_K_C)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


def two_point_panel(
    *, shift: int = 0, confidence: float = 1.0, num_samples: int = 8
) -> widgets.Box:
    """Top-b BALD's ``I[y1;w] + I[y2;w]`` against BatchBALD's ``I[y1,y2;w]`` for two points.

    The ``shift`` slider rotates point x2's split of the K samples against x1's
    (:func:`bbal_tutorial.examples.two_points_log_probs`): 0 makes x2 a copy of x1, K/4 makes
    them independent, K/2 gives x2 the opposite labels. The figure is
    :func:`bbal_tutorial.plots.plot_two_point_venns`. ``panel.controls`` holds the sliders.
    """
    from bbal_tutorial.examples import two_points_log_probs
    from bbal_tutorial.plots import plot_two_point_venns

    style = {"description_width": "110px"}
    controls = {
        "shift": widgets.IntSlider(
            value=shift,
            min=0,
            max=num_samples // 2,
            description="shift x2's split",
            continuous_update=False,
            style=style,
        ),
        "confidence": widgets.FloatSlider(
            value=confidence,
            min=0.5,
            max=1.0,
            step=0.01,
            description="p(favourite)",
            continuous_update=False,
            style=style,
        ),
    }

    def draw(shift: int, confidence: float):
        log_probs_2_K_C = two_points_log_probs(
            shift, num_samples=num_samples, confidence=confidence
        )
        return plot_two_point_venns(log_probs_2_K_C)

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


# --------------------------------------------------------------------------------------------------
# notebook 02: BALD against BatchBALD on a pool with near-duplicates


def batch_picks_panel(
    log_probs_N_K_C: Any,
    images_N_H_W: Any,
    original_N: Any,
    *,
    max_batch_size: int = 10,
    batch_size: int = 5,
    num_samples: int = 10_000,
    seed: int = 0,
) -> widgets.Box:
    """A batch-size slider over the images top-b BALD and greedy BatchBALD pick from a pool.

    Both methods are prefix-stable (top-b BALD's first b picks are its top-b; greedy BatchBALD's
    first b picks do not depend on how many more follow), so both batches are computed once for
    ``max_batch_size`` and the slider only slices and redraws.
    """
    from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
    from bbal_tutorial.demos import count_repeats
    from bbal_tutorial.plots import plot_batch_picks

    bald = get_bald_batch(log_probs_N_K_C, max_batch_size)
    batchbald = get_batchbald_batch(
        log_probs_N_K_C, max_batch_size, num_samples=num_samples, seed=seed
    )
    controls = {
        "batch_size": widgets.IntSlider(
            value=min(batch_size, max_batch_size),
            min=1,
            max=max_batch_size,
            description="batch size b",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }

    def draw(batch_size: int) -> None:
        batches = {"bald": bald.indices[:batch_size], "batchbald": batchbald.indices[:batch_size]}
        plot_batch_picks(
            images_N_H_W,
            batches,
            original_N,
            scores={"bald": bald.scores[:batch_size], "batchbald": batchbald.scores[:batch_size]},
            names={"bald": "top-b BALD", "batchbald": "BatchBALD"},
        )
        repeats = {name: count_repeats(b, original_N) for name, b in batches.items()}
        print(
            f"b = {batch_size}: top-b BALD picked {repeats['bald']} repeat(s) of an image it "
            f"already had, BatchBALD {repeats['batchbald']}. Numbers under the images: BALD's "
            "individual scores; BatchBALD's cumulative I(y_1..y_i; w) (nats)."
        )

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    panel.batches = {"bald": bald, "batchbald": batchbald}  # type: ignore[attr-defined]
    return panel


def log_k_ceiling_panel(
    log_probs_N_K_C: Any,
    original_N: Any,
    *,
    k_values: tuple[int, ...] = (3, 10, 100),
    batch_size: int = 16,
    num_samples: int = 10_000,
    seed: int = 0,
) -> widgets.Box:
    """Greedy BatchBALD's cumulative score against ``log K`` for the first K of the posterior
    samples; the student picks the K values (comma-separated) and the batch size, then clicks.

    Costly (one greedy BatchBALD run per K), so it redraws only on the button.
    """
    import math

    from bbal_tutorial.acquisition import get_batchbald_batch
    from bbal_tutorial.demos import count_repeats
    from bbal_tutorial.plots import plot_cumulative_scores

    k_max = log_probs_N_K_C.shape[1]
    controls = {
        "k_text": widgets.Text(
            value=", ".join(str(k) for k in k_values),
            description=f"K values (1..{k_max})",
            style={"description_width": "initial"},
        ),
        "batch_size": widgets.IntSlider(
            value=batch_size,
            min=1,
            max=min(40, log_probs_N_K_C.shape[0]),
            description="batch size b",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    }

    def draw(k_text: str, batch_size: int) -> None:
        ks = sorted({int(part) for part in k_text.replace(",", " ").split()})
        if not ks or ks[0] < 1 or ks[-1] > k_max:
            raise ValueError(
                f"K values must be whole numbers between 1 and {k_max}, got {k_text!r}"
            )
        batches = {
            k: get_batchbald_batch(
                log_probs_N_K_C[:, :k], batch_size, num_samples=num_samples, seed=seed
            )
            for k in ks
        }
        plot_cumulative_scores(batches, original_N)
        for k, batch in batches.items():
            print(
                f"K = {k:>3}: final score {batch.scores[-1]:.3f} nats of log K = "
                f"{math.log(k):.3f}; {count_repeats(batch.indices, original_N)} "
                "repeated image(s)"
            )

    panel = live_panel(controls, draw, button="Run BatchBALD")
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


# --------------------------------------------------------------------------------------------------
# notebook 03: consistent against independent MC-dropout masks


def score_spread_panel(
    log_probs_by_mode: dict[str, Any],
    chosen: list[int],
    candidates: list[int],
    flagged_N: Any,
    *,
    k: int | None = None,
) -> widgets.Box:
    """The score-spread figure for the first K of the precomputed posterior samples (a slider).

    ``log_probs_by_mode[mode]`` has shape (R, N, K_max, C) (from
    :func:`bbal_tutorial.demos.repeated_log_probs`); ``chosen`` is the batch so far, ``candidates``
    the points to score and ``flagged_N`` marks copies of chosen images. Only scores are
    recomputed when K moves: the forward passes were done once.
    """
    import numpy as np

    from bbal_tutorial.demos import repeated_candidate_scores, spread_summary
    from bbal_tutorial.plots import plot_score_spread

    k_max = min(lp.shape[2] for lp in log_probs_by_mode.values())
    controls = {
        "k": widgets.IntSlider(
            value=k_max if k is None else k,
            min=2,
            max=k_max,
            description="K samples",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }
    candidates = list(candidates)

    def draw(k: int) -> None:
        scores = {
            mode: repeated_candidate_scores(lp[:, :, :k], chosen)
            for mode, lp in log_probs_by_mode.items()
        }
        first = next(iter(scores))
        order = sorted(candidates, key=lambda i: -float(scores[first]["batchbald"][:, i].mean()))
        fig, axes = plt.subplots(2, len(scores), figsize=(6 * len(scores), 7.2), sharey="row")
        axes = np.atleast_2d(axes).reshape(2, len(scores))
        for row, (quantity, label) in enumerate(
            [("bald", "BALD  I(y_x; w)"), ("batchbald", "BatchBALD  I(y_S, y_x; w)")]
        ):
            plot_score_spread(
                {mode: s[quantity] for mode, s in scores.items()},
                order,
                flagged_N=flagged_N,
                axes=axes[row],
                ylabel=f"{label}, K = {k}",
                legend=row == 1,
            )
        fig.tight_layout()
        rows = []
        for mode, s in scores.items():
            for quantity in ("bald", "batchbald"):
                summary = spread_summary(
                    s[quantity][:, candidates], flagged_N=flagged_N[candidates]
                )
                rows.append((mode, quantity, summary))
        print(
            f"{'masks':<28}{'score':<11}{'spread':>8}{'relative':>10}{'between':>9}"
            f"{'same winner':>13}{'winner is a copy':>18}"
        )
        for mode, quantity, s in rows:
            print(
                f"{mode:<28}{quantity:<11}{s['spread']:>8.3f}{s['relative spread']:>10.3f}"
                f"{s['differences']:>9.3f}{s['top pick agreement']:>13.0%}"
                f"{s['flagged top picks']:>18.0%}"
            )

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


# --------------------------------------------------------------------------------------------------
# notebooks 04-07: re-run a reduced experiment live, next to the cached curves

#: The controls of :func:`live_run_panel`, in display order.
LIVE_RUN_CONTROLS = (
    "acquisition",
    "batch_size",
    "mc_samples",
    "num_repeats",
    "noise_std",
    "max_train_images",
    "max_labels",
    "seed",
)
#: Settings that decide the data and splits (the panel reuses loaded data while they are equal).
_DATA_SETTINGS = (
    "dataset",
    "data_source",
    "num_repeats",
    "noise_std",
    "seed",
    "max_train_images",
    "max_test_size",
    "initial_per_class",
    "validation_size",
)


def live_run_config(
    values: dict[str, Any],
    *,
    dataset: str = "repeated-mnist",
    preset: str = "teaching",
    overrides: dict[str, Any] | None = None,
) -> Any:
    """The :class:`~bbal_tutorial.loop.ExperimentConfig` a live re-run uses.

    Precedence: the ``preset``'s settings for ``dataset``, then the notebook's fixed
    ``overrides`` (e.g. shorter training), then the control ``values`` (names as in
    :data:`LIVE_RUN_CONTROLS`). The test set is scored with the same K as the pool
    (``test_mc_samples = mc_samples``, as the CLI's ``--mc-samples`` does); ``num_repeats`` and
    ``noise_std`` apply to Repeated MNIST only and are dropped for other datasets.
    """
    from bbal_tutorial.presets import make_config

    unknown = sorted(set(values) - set(LIVE_RUN_CONTROLS))
    if unknown:
        raise ValueError(f"unknown live-run control(s) {unknown}; known: {LIVE_RUN_CONTROLS}")
    settings = {**(overrides or {}), **values}
    if "mc_samples" in values:
        settings["test_mc_samples"] = values["mc_samples"]
    if dataset != "repeated-mnist":
        settings.pop("num_repeats", None)
        settings.pop("noise_std", None)
    return make_config(preset, dataset, **settings)


def live_run_rounds(config: Any, num_initial: int, pool_size: int) -> int:
    """How many rounds (trained models) a run of ``config`` has: one on the ``num_initial``
    starting labels, then one per acquired batch until ``max_labels`` or the pool runs out (as
    :func:`bbal_tutorial.loop.run_experiment` counts them)."""
    from bbal_tutorial.loop import planned_rounds

    return planned_rounds(config, num_initial, pool_size)


def live_run_panel(
    *,
    dataset: str = "repeated-mnist",
    cached_runs: list[dict[str, Any]] | None = None,
    defaults: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    acquisitions: tuple[str, ...] | None = None,
    preset: str = "teaching",
    progress: bool = True,
) -> widgets.Box:
    """Controls for a reduced re-run of an experiment, a Run button, progress bars and a plot of
    test accuracy against labelled points that is redrawn after every round.

    Nothing runs when a control moves; the button (or ``panel.run()``, for tests and a notebook's
    fast mode) builds the config with :func:`live_run_config` and calls
    :func:`bbal_tutorial.loop.run_experiment` with an ``on_round`` callback that redraws
    :func:`bbal_tutorial.plots.plot_live_run` over ``cached_runs`` (those with the same b are
    drawn). ``defaults`` sets the controls' initial values; ``overrides`` fixes settings that
    have no control (epochs, test-set size, ...). Errors appear in the panel's log area.

    Attributes: ``controls``, ``button``, ``plot_output``, ``log_output``, ``config()`` (the
    config the controls describe now), ``run()``, ``results`` (the last run's results) and
    ``figures_drawn`` (how many times the live plot was redrawn).
    """
    from bbal_tutorial.acquisition import ACQUISITION_NAMES
    from bbal_tutorial.experiments import run_seconds
    from bbal_tutorial.loop import prepare_data, run_experiment
    from bbal_tutorial.plots import METHOD_NAMES, plot_live_run
    from bbal_tutorial.presets import preset_settings

    base = preset_settings(preset, dataset)
    initial = {name: base.get(name) for name in LIVE_RUN_CONTROLS if base.get(name) is not None}
    initial.setdefault("max_train_images", 1000)
    initial.update({k: v for k, v in (overrides or {}).items() if k in LIVE_RUN_CONTROLS})
    initial.update(defaults or {})
    unknown = sorted(set(defaults or {}) - set(LIVE_RUN_CONTROLS))
    if unknown:
        raise ValueError(f"unknown live-run control(s) {unknown}; known: {LIVE_RUN_CONTROLS}")
    names = acquisitions or ACQUISITION_NAMES
    # the preset leaves the method open; start from the one the course is about
    initial.setdefault("acquisition", "batchbald" if "batchbald" in names else names[0])
    style = {"description_width": "150px"}
    layout = widgets.Layout(width="420px")

    def slider(kind: type, description: str, **kwargs: Any) -> widgets.ValueWidget:
        return kind(
            description=description,
            continuous_update=False,
            style=style,
            layout=layout,
            **kwargs,
        )

    controls: dict[str, widgets.ValueWidget] = {
        "acquisition": widgets.Dropdown(
            options=[(METHOD_NAMES.get(n, n), n) for n in names],
            value=initial["acquisition"],
            description="acquisition",
            style=style,
            layout=layout,
        ),
        "batch_size": slider(
            widgets.IntSlider, "batch size b", value=initial["batch_size"], min=1, max=40
        ),
        "mc_samples": slider(
            widgets.IntSlider, "MC samples K", value=initial["mc_samples"], min=2, max=100
        ),
        "num_repeats": slider(
            widgets.IntSlider, "copies per image", value=initial.get("num_repeats", 3), min=1, max=5
        ),
        "noise_std": slider(
            widgets.FloatSlider,
            "noise std",
            value=initial.get("noise_std", 0.1),
            min=0.0,
            max=0.5,
            step=0.05,
        ),
        "max_train_images": slider(
            widgets.IntSlider,
            "pool: original images",
            value=initial["max_train_images"],
            min=20,
            max=4000,
            step=10,
        ),
        "max_labels": slider(
            widgets.IntSlider, "label budget", value=initial["max_labels"], min=20, max=300, step=5
        ),
        "seed": widgets.BoundedIntText(
            value=initial.get("seed", 0),
            min=0,
            max=10_000,
            description="seed",
            style=style,
            layout=layout,
        ),
    }
    if dataset != "repeated-mnist":  # copies and noise only exist in Repeated MNIST
        del controls["num_repeats"], controls["noise_std"]
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    plot_output, log_output = widgets.Output(), widgets.Output()
    cached = list(cached_runs or [])
    data_cache: dict[tuple, Any] = {}

    def config() -> Any:
        values = {name: control.value for name, control in controls.items()}
        return live_run_config(values, dataset=dataset, preset=preset, overrides=overrides)

    def redraw(results: dict[str, Any], total_rounds: int) -> None:
        b = results["config"]["batch_size"]
        same_b = [r for r in cached if r["config"]["batch_size"] == b]
        with plot_output:
            plot_output.clear_output(wait=True)
            fig = plot_live_run(results, same_b, total_rounds=total_rounds).figure
            display(fig)
            plt.close(fig)
        panel.figures_drawn += 1

    @shows_errors(log_output)
    def run(*_: Any) -> dict[str, Any] | None:
        cfg = config()
        key = tuple(getattr(cfg, name) for name in _DATA_SETTINGS)
        if key not in data_cache:
            data_cache.clear()  # keep one dataset in memory
            data_cache[key] = prepare_data(cfg)
        experiment = data_cache[key]
        total = live_run_rounds(cfg, len(experiment.initial_indices), len(experiment.pool_indices))
        print(
            f"{METHOD_NAMES.get(cfg.acquisition, cfg.acquisition)}, b = {cfg.batch_size}, "
            f"K = {cfg.mc_samples}: {total} rounds on {experiment.data.source}"
        )
        button.disabled = True
        try:
            results = run_experiment(
                cfg,
                out=None,
                progress=progress,
                experiment=experiment,
                on_round=lambda results: redraw(results, total),
            )
        finally:
            button.disabled = False
        panel.results = results
        last = results["rounds"][-1]
        seconds = run_seconds(results)
        print(
            f"done: {last['n_labeled']} labels, test accuracy {last['test_accuracy']:.1%}, "
            f"{len(results['rounds'])} rounds in {seconds:.0f} s"
        )
        return results

    button.on_click(run)
    column = widgets.VBox([*controls.values(), button])
    panel = widgets.VBox([widgets.HBox([column, log_output]), plot_output])
    panel.controls = controls  # type: ignore[attr-defined]
    panel.button = button  # type: ignore[attr-defined]
    panel.plot_output = plot_output  # type: ignore[attr-defined]
    panel.log_output = log_output  # type: ignore[attr-defined]
    panel.config = config  # type: ignore[attr-defined]
    panel.run = run  # type: ignore[attr-defined]
    panel.results = None  # type: ignore[attr-defined]
    panel.figures_drawn = 0  # type: ignore[attr-defined]
    return panel


# --------------------------------------------------------------------------------------------------
# notebook 06: acquisition size


def batch_size_curves_panel(
    runs: list[dict[str, Any]],
    *,
    batch_size: int = 10,
    target: float | None = None,
    methods: tuple[str, ...] = ("bald", "batchbald"),
    reference: tuple[str, int] | None = ("bald", 1),
) -> widgets.Box:
    """A slider over the acquisition sizes b of the cached ``runs`` that redraws the learning
    curves of ``methods`` at that b, plus the ``reference`` run (BALD at b = 1 by default), with
    the labels each needed to reach ``target``. Nothing is recomputed: it only filters and draws.
    """
    from bbal_tutorial.experiments import labels_to_reach_summary
    from bbal_tutorial.plots import figure_caption, plot_learning_curves

    sizes = sorted(
        {r["config"]["batch_size"] for r in runs if r["config"]["acquisition"] in methods}
    )
    if not sizes:
        raise ValueError(f"no cached runs of {methods} to show; run `make reproduce` first")
    controls = {
        "batch_size": widgets.SelectionSlider(
            options=sizes,
            value=batch_size if batch_size in sizes else sizes[len(sizes) // 2],
            description="batch size b",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }

    def is_reference(config: dict[str, Any]) -> bool:
        return reference is not None and (config["acquisition"], config["batch_size"]) == reference

    def draw(batch_size: int) -> None:
        shown = [
            r
            for r in runs
            if (r["config"]["acquisition"] in methods and r["config"]["batch_size"] == batch_size)
            or is_reference(r["config"])
        ]
        plot_learning_curves(
            shown,
            target_accuracies=() if target is None else (target,),
            title=f"b = {batch_size}",
        )
        plt.show()
        print(figure_caption(shown))
        if target is None:
            return
        for method in methods:
            group = [
                r
                for r in shown
                if r["config"]["acquisition"] == method and r["config"]["batch_size"] == batch_size
            ]
            if group:
                s = labels_to_reach_summary(group, target)
                print(
                    f"{method} (b={batch_size}) reaches {target:.0%} at "
                    f"{s['per_seed']} labels (median {s['median'] or 'never'})"
                )

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel
