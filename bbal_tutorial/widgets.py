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
