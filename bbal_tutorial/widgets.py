"""ipywidgets panels for the notebooks: thin callbacks over tested package functions.

Every panel shows its figure in an :class:`ipywidgets.Output`, so an exception raised inside a
callback is printed where the student is looking (JupyterLab hides errors raised in ``observe``
and ``on_click`` handlers otherwise).  Controls that trigger costly work use
``continuous_update=False`` or a run button.

Callbacks draw on figures made with :func:`panel_figure`, which pyplot does not track. In
ipykernel 7, JupyterLab sends widget messages over a kernel subshell (another thread), and every
widget message runs IPython's ``post_execute`` hooks on that thread -- among them pyplot's
``draw_all`` and the inline backend's ``flush_figures``, which draw (and show, and close) every
figure pyplot tracks.  Such a hook, set off by any widget message (the frontend's echo of a
panel's printed text, a progress bar), drew a callback's pyplot figure while the callback was
rendering it to PNG: the panel showed a blank or half-drawn figure.  A figure pyplot does not know
is drawn by the callback that made it and by nothing else.
"""

from __future__ import annotations

import contextlib
import functools
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import display
from IPython.utils.capture import capture_output
from matplotlib.figure import Figure

from bbal_tutorial.acquisition import ACQUISITION_NAMES
from bbal_tutorial.config import ExperimentConfig, data_key, planned_rounds
from bbal_tutorial.loop import ExperimentData, prepare_data, run_experiment
from bbal_tutorial.plotting import METHOD_NAMES, plot_live_run
from bbal_tutorial.presets import REPEATED_MNIST_SETTINGS, config_from_choices, preset_settings
from bbal_tutorial.results import RunRecord

#: The controls of :func:`live_run_panel`, in display order (each one an ExperimentConfig setting).
LIVE_RUN_CONTROLS = (
    "acquisition",
    "acquisition_size",
    "mc_samples",
    "num_repeats",
    "noise_std",
    "max_train_images",
    "label_budget",
    "seed",
)

#: Size (inches) of the live-run panel's plot.
LIVE_RUN_FIGSIZE = (8.0, 4.2)
#: The live-run panel's log: the width it needs beside the controls (else it goes below them)
#: and the height beyond which it scrolls.
LOG_WIDTH, LOG_HEIGHT = "600px", "320px"


def panel_figure(**kwargs: Any) -> Figure:
    """A new figure for a panel callback to draw on, which pyplot does not track.

    ``kwargs`` are :class:`matplotlib.figure.Figure`'s (``figsize``, ``layout``, ...); draw with
    ``fig.subplots(...)``. A callback run by :func:`shows_errors` (every panel's) returns it,
    and the panel shows it.
    """
    # no pyplot: hooks that other threads run over pyplot's figures never see this one (see the
    # module's docstring)
    return Figure(**kwargs)


def shows_errors(
    out: widgets.Output, *, live: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: run a callback with its output (figures, prints, tracebacks) in ``out``.

    The old output is cleared first. The figure the callback returns (see
    :func:`panel_figure`) and any figure it opened with pyplot are shown in ``out``; in a kernel
    the pyplot ones are closed (pyplot forgets them, as the inline backend's ``show`` does), so
    no other figure is shown or closed. An exception is shown in ``out`` as a traceback instead
    of vanishing into the browser console, and the callback returns None.

    By default ``out`` shows everything when the callback has finished (:func:`_run_in_output`).
    ``live=True`` writes through ``out``'s capture context as the callback runs instead, for a
    long callback whose progress bars and log lines the student should watch (a live run).
    """

    def decorate(callback: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(callback)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if live:
                return _run_through_output(out, callback, *args, **kwargs)
            return _run_in_output(out, callback, *args, **kwargs)[0]

        return wrapper

    return decorate


def _run_through_output(
    out: widgets.Output, callback: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run ``callback`` inside ``out``'s capture context, so that its prints and widgets (progress
    bars) appear as it runs; a traceback is printed there too. Returns its result (None after
    an exception). Figures are not handled: draw them with :func:`_run_in_output`'s outputs."""
    with out:
        out.clear_output(wait=True)
        try:
            return callback(*args, **kwargs)
        except Exception:
            traceback.print_exc()  # to the student, in the panel
            return None


def _run_in_output(
    out: widgets.Output, callback: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, list[Figure]]:
    """Run ``callback(*args, **kwargs)`` as :func:`shows_errors` does: returns its result (None
    after an exception) and the figures it showed (the last one is the newest).

    In a kernel, what the callback prints and displays is captured and then set as ``out``'s
    outputs in one update: printed text, then displayed objects, then its figures, then any
    traceback. Nothing is written *through* the Output widget's capture context (``with out:``):
    headless executors (nbclient, so nbconvert, papermill and nbgrader) emulate that context by
    sending a message on the kernel's shell channel for every captured output while they wait
    for the cell's reply on that channel, and with ipykernel 7 that wait could miss the reply and
    sit until the executor's timeout. Outside a kernel (tests, scripts) nothing can show the
    outputs: they go to the terminal, and the callback's pyplot figures stay open to inspect.
    """
    before = set(plt.get_fignums())
    in_kernel = _in_kernel()
    failed = False
    with capture_output(display=True) if in_kernel else contextlib.nullcontext() as captured:
        try:
            result = callback(*args, **kwargs)
        except Exception:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            traceback.print_exc()  # to the student, in the panel
            result, failed = None, True
    opened: list[Figure] = []
    figures: list[Figure] = []
    if not failed:
        # pyplot figures made by the callback (plt.figure(n) keeps the newest the current one)
        opened = [plt.figure(number) for number in sorted(set(plt.get_fignums()) - before)]
        figures = list(opened)
        if isinstance(result, Figure) and result not in opened:
            figures.append(result)
    if in_kernel:
        for fig in opened:
            plt.close(fig)  # before drawing it to PNG: no hook of another thread draws it
        outputs = []
        if captured.stdout:
            outputs.append(_stream("stdout", captured.stdout))
        outputs += [_display_data(o.data, o.metadata) for o in captured.outputs]
        outputs += [_display_data(*_format(fig)) for fig in figures]
        if captured.stderr:
            outputs.append(_stream("stderr", captured.stderr))
        out.outputs = tuple(outputs)
    return result, figures


def _stream(name: str, text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def _display_data(data: dict[str, Any], metadata: dict[str, Any] | None) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


def _format(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``obj``'s rich representations as the kernel's ``display`` would send them (a figure as
    the inline backend's PNG); plain text when there is no shell."""
    shell = get_ipython()
    if shell is None:
        return {"text/plain": repr(obj)}, {}
    return shell.display_formatter.format(obj)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (where ``display`` reaches a frontend)."""
    return getattr(get_ipython(), "kernel", None) is not None


def live_panel(
    controls: dict[str, widgets.ValueWidget],
    draw: Callable[..., Any],
    *,
    button: str | None = None,
    layout: str = "vertical",
) -> widgets.Box:
    """A panel: ``controls`` above an output area redrawn by ``draw(**values)``.

    ``draw`` draws on a figure made with :func:`panel_figure` and returns it (a figure it opens
    with pyplot is shown too, but can be drawn half way by another thread: see the module's
    docstring). Without ``button`` the figure is redrawn whenever a control's value
    changes (use ``continuous_update=False`` on sliders that trigger real work); with ``button``
    only when it is clicked.  The panel draws once when created.  ``panel.redraw()`` redraws
    programmatically (tests, and a notebook's "run all") and returns what ``draw`` returned;
    ``panel.figure`` is the figure the last redraw showed (None if none).
    """
    out = widgets.Output()

    def redraw(*_: Any) -> Any:
        values = {name: control.value for name, control in controls.items()}
        result, figures = _run_in_output(out, draw, **values)
        panel.figure = figures[-1] if figures else None  # type: ignore[attr-defined]
        return result

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
    panel.figure = None  # type: ignore[attr-defined]
    redraw()
    return panel


def show(panel: widgets.Widget) -> widgets.Widget:
    """Display a panel in the notebook and return it (so tests can drive it)."""
    display(panel)
    return panel


def live_run_panel(
    *,
    dataset: str = "repeated-mnist",
    cached_runs: Sequence[RunRecord] | None = None,
    defaults: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    acquisitions: tuple[str, ...] | None = None,
    preset: str = "teaching",
    data_dir: str | Path | None = None,
    progress: bool = True,
) -> widgets.Box:
    """Controls for a reduced re-run of an experiment, a Run button, progress bars and a plot of
    test accuracy against labelled points that is redrawn after every round.

    Nothing runs when a control moves; the button (or ``panel.run()``, for tests and a notebook's
    fast mode) builds the config with :func:`bbal_tutorial.presets.config_from_choices` and
    calls :func:`bbal_tutorial.loop.run_experiment` with an ``on_round`` callback that redraws
    :func:`bbal_tutorial.plotting.plot_live_run` over ``cached_runs`` (those with the same b are
    drawn). ``defaults`` sets the controls' initial values (names as in
    :data:`LIVE_RUN_CONTROLS`); ``overrides`` fixes settings that have no control (epochs,
    test-set size, ...). ``data_dir`` is where the data are read from (as for
    :func:`bbal_tutorial.data.load_dataset`; default ``$BBAL_DATA_DIR`` or ``data/``). Errors
    appear in the panel's log area.

    Attributes: ``controls``, ``button``, ``plot_output``, ``log_output``, ``config()`` (the
    config the controls describe now), ``run()``, ``results`` (the last run's
    :class:`~bbal_tutorial.results.RunRecord`) and ``figures_drawn`` (how many times the live
    plot was redrawn).
    """

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
        "acquisition_size": slider(
            widgets.IntSlider,
            "acquisition size b",
            value=initial["acquisition_size"],
            min=1,
            max=40,
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
        "label_budget": slider(
            widgets.IntSlider,
            "label budget",
            value=initial["label_budget"],
            min=20,
            max=300,
            step=5,
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
        for name in REPEATED_MNIST_SETTINGS:
            del controls[name]
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    plot_output = widgets.Output()
    # The log goes beside the controls where there is room for a progress bar with its text
    # (LOG_WIDTH), else it wraps below them; it never shrinks the controls (which it used to
    # cover) and scrolls past LOG_HEIGHT.
    log_output = widgets.Output(
        layout=widgets.Layout(
            flex=f"1 1 {LOG_WIDTH}", min_width="0", max_height=LOG_HEIGHT, overflow="auto"
        )
    )
    cached = list(cached_runs or [])
    data_cache: dict[tuple[Any, ...], ExperimentData] = {}

    def config() -> ExperimentConfig:
        values = {name: control.value for name, control in controls.items()}
        return config_from_choices(preset, dataset, values, overrides=overrides)

    def redraw(run: RunRecord, total_rounds: int) -> None:
        same_b = [r for r in cached if r.b == run.b]
        # not pyplot's: the progress bar and the log send widget messages all through the run
        fig = panel_figure(figsize=LIVE_RUN_FIGSIZE, layout="constrained")
        plot_live_run(run, same_b, total_rounds=total_rounds, ax=fig.subplots())
        if _in_kernel():  # set, not captured: see _run_in_output
            plot_output.outputs = (_display_data(*_format(fig)),)
        panel.figures_drawn += 1
        panel.figure = fig  # type: ignore[attr-defined]

    @shows_errors(log_output, live=True)  # progress bars and log lines as the run goes
    def run(*_: Any) -> RunRecord | None:
        cfg = config()
        key = data_key(cfg)
        if key not in data_cache:
            data_cache.clear()  # keep one dataset in memory
            data_cache[key] = prepare_data(cfg, data_dir=data_dir)
        experiment = data_cache[key]
        total = planned_rounds(cfg, len(experiment.initial_indices), len(experiment.pool_indices))
        print(
            f"{METHOD_NAMES.get(cfg.acquisition, cfg.acquisition)}, b = {cfg.acquisition_size}, "
            f"K = {cfg.mc_samples}: {total} rounds on {experiment.data.source}"
        )
        button.disabled = True
        try:
            record = run_experiment(
                cfg,
                out=None,
                progress=progress,
                experiment=experiment,
                on_round=lambda record: redraw(record, total),
            )
        finally:
            button.disabled = False
        panel.results = record
        last = record.rounds[-1]
        print(
            f"done: {last.n_labeled} labels, test accuracy {last.test_accuracy:.1%}, "
            f"{len(record.rounds)} rounds in {record.seconds:.0f} s"
        )
        return record

    button.on_click(run)
    column = widgets.VBox([*controls.values(), button], layout=widgets.Layout(flex="0 0 auto"))
    top = widgets.HBox([column, log_output], layout=widgets.Layout(flex_flow="row wrap"))
    panel = widgets.VBox([top, plot_output])
    panel.controls = controls  # type: ignore[attr-defined]
    panel.button = button  # type: ignore[attr-defined]
    panel.plot_output = plot_output  # type: ignore[attr-defined]
    panel.log_output = log_output  # type: ignore[attr-defined]
    panel.config = config  # type: ignore[attr-defined]
    panel.run = run  # type: ignore[attr-defined]
    panel.results = None  # type: ignore[attr-defined]
    panel.figures_drawn = 0  # type: ignore[attr-defined]
    panel.figure = None  # type: ignore[attr-defined]
    return panel
