"""Notebook 06, acquisition size: where the recorded scores hit the log K ceiling, stochastic batch
acquisition between random and top-b BALD, and the figures and panel of accuracy against b.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.acquisition import acquire, get_bald_batch, get_batchbald_batch
from bbal_tutorial.lessons.duplicate_pool import count_repeats
from bbal_tutorial.plotting import (
    METHOD_COLOURS,
    curve_statistics,
    figure_caption,
    method_name,
    plot_learning_curves,
)
from bbal_tutorial.results import RunRecord, labels_to_reach, labels_to_reach_summary
from bbal_tutorial.widgets import live_panel, panel_figure


def plot_acquisition_size(
    rows: Sequence[Mapping[str, Any]],
    accuracy: float,
    axes: Sequence[Axes] | None = None,
    *,
    methods: Sequence[str] = ("bald", "batchbald"),
) -> list[Axes]:
    """The three costs of reaching ``accuracy`` against the acquisition size b: labels (left),
    retraining rounds (middle) and compute in minutes (right, when the rows have ``"seconds (per
    seed)"``), one line per method through the medians over seeds, every seed a dot.

    ``rows`` come from :func:`bbal_tutorial.results.method_summary`; a seed that never
    reached the target is drawn as an open triangle above the axis' top. A row with
    acquisition ``"bald"`` and b = 1 is drawn for every method (at b = 1, BatchBALD is BALD).
    """
    panels = [
        ("labels", 1.0, f"labelled points to reach {accuracy:.0%}", "labels needed"),
        ("rounds", 1.0, f"models trained to reach {accuracy:.0%}", "models trained, one a round"),
    ]
    if all("seconds (per seed)" in r for r in rows):
        panels.append(
            ("seconds", 1 / 60, f"CPU minutes to reach {accuracy:.0%}", "compute, one CPU core")
        )
    if axes is None:
        _, axes = plt.subplots(
            1, len(panels), figsize=(5.6 * len(panels), 4.2), layout="constrained"
        )
    b1 = [r for r in rows if r["b"] == 1 and r["acquisition"] == "bald"]
    for ax, (key, scale, ylabel, title) in zip(axes, panels, strict=True):
        per_seed = f"{key} (per seed)"
        reached = [v * scale for r in rows for v in r.get(per_seed) or [] if v is not None]
        # a seed that never reached the target sits just above the highest value shown
        ceiling = 1.08 * max(reached, default=1.0)
        for offset, method in zip(np.linspace(-0.06, 0.06, len(methods)), methods, strict=True):
            chosen = sorted(
                [r for r in rows if r["acquisition"] == method and r["b"] != 1] + b1,
                key=lambda r: r["b"],
            )
            if not chosen:
                continue
            colour = METHOD_COLOURS.get(method)
            bs = np.array([r["b"] for r in chosen], dtype=float)
            medians = [r[f"median {key}"] for r in chosen]
            ax.plot(
                bs,
                [np.nan if m is None else m * scale for m in medians],
                marker="o",
                color=colour,
                label=method_name(method),
            )
            for b, r in zip(bs, chosen, strict=True):
                values = r.get(per_seed) or []
                x = b * np.exp(offset + np.linspace(-0.04, 0.04, max(1, len(values))))
                for xi, v in zip(x, values, strict=False):
                    if v is None:
                        ax.scatter(xi, ceiling, marker="^", facecolor="none", color=colour, s=30)
                    else:
                        ax.scatter(xi, v * scale, color=colour, s=12, alpha=0.6)
        ax.axhline(ceiling, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_ylim(0, ceiling * 1.06)
        ax.set_xscale("log")
        bs_all = sorted({r["b"] for r in rows})
        ax.set_xticks(bs_all, [str(b) for b in bs_all])
        ax.minorticks_off()
        ax.set_xlabel("acquisition size b")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} (median line, seeds as dots)", fontsize=10)
        ax.grid(alpha=0.3)
    left = axes[0]
    left.legend(
        handles=[
            *left.get_legend_handles_labels()[0],
            plt.Line2D([], [], marker="^", linestyle="", markerfacecolor="none", color="0.3"),
        ],
        labels=[*left.get_legend_handles_labels()[1], "a seed that never got there"],
        fontsize="small",
    )
    return list(axes)


def plot_recorded_batch_scores(runs: Sequence[RunRecord], ax: Axes | None = None) -> Axes:
    """BatchBALD's recorded cumulative score ``I(y_1..y_i; w)`` after each pick, one thin line
    per acquired batch of the cached runs (early rounds dark, late rounds light), with the
    ceiling ``log K`` dashed. Reads the records' ``scores`` only."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    batchbald_runs = [run for run in runs if run.acquisition == "batchbald"]
    batches = [
        (run.config.mc_samples, i, len(run.rounds), record.scores)
        for run in batchbald_runs
        for i, record in enumerate(run.rounds)
        if record.scores
    ]
    if not batches:
        raise ValueError("plot_recorded_batch_scores needs cached BatchBALD runs")
    cmap = plt.get_cmap("viridis")
    for _k, i, n, scores in batches:
        steps = np.arange(1, len(scores) + 1)
        ax.plot(steps, scores, color=cmap(0.85 * i / max(1, n - 1)), linewidth=0.8, alpha=0.7)
    for k in sorted({k for k, *_ in batches}):
        ax.axhline(math.log(k), color="black", linestyle="--", linewidth=1)
        ax.text(
            max(len(s) for *_, s in batches),
            math.log(k) - 0.03,
            f"ceiling log K = log {k} = {math.log(k):.2f} nats",
            ha="right",
            va="top",
            fontsize=8,
        )
    ax.set_ylim(bottom=0)
    ax.set_xlabel("picks so far $i$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_i;\boldsymbol{\omega})$ (nats)")
    sizes = sorted({run.b for run in batchbald_runs})
    where = f"b = {sizes[0]}: " if len(sizes) == 1 else ""
    ax.set_title(f"{where}{len(batches)} recorded batches (dark: early, light: late)", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_coldness_sweep(sweep: Mapping[str, Any], axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Stochastic batch acquisition against its coldness β, one line per mode: the share of the
    sampled batch that top-b BALD would also pick (left: 0 at β = 0 is random, 1 is top-b) and
    the picks that repeat an image already in the batch (right).

    ``sweep`` is :func:`coldness_sweep`'s result.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    left, right = axes
    colds = np.asarray(sweep["coldness"], dtype=float)
    colours = {
        "power": METHOD_COLOURS["power-bald"],
        "softmax": METHOD_COLOURS["softmax-bald"],
        "softrank": METHOD_COLOURS["softrank-bald"],
    }
    for mode, stats in sweep["modes"].items():
        for ax, key in [(left, "top_b_share"), (right, "repeats")]:
            ax.plot(colds, stats[key], marker="o", color=colours.get(mode), label=f"{mode}")
    for ax, key, name in [
        (left, "top_b_share", "share of top-b BALD's batch"),
        (right, "repeats", "picks repeating an image in the batch"),
    ]:
        ax.axhline(
            sweep["random"][key], color=METHOD_COLOURS["random"], linestyle=":", label="random"
        )
        ax.axhline(
            sweep["top_b"][key], color=METHOD_COLOURS["bald"], linestyle="--", label="top-b BALD"
        )
        if "batchbald" in sweep:
            ax.axhline(
                sweep["batchbald"][key],
                color=METHOD_COLOURS["batchbald"],
                linestyle="-.",
                label="BatchBALD",
            )
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlim(left=0)  # coldness is never negative
        ax.set_xlabel(r"coldness $\beta$ (0: uniform; large: top-b)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    right.legend(fontsize="small", loc="upper left")
    left.set_title(
        f"b = {sweep['acquisition_size']}, mean of {sweep['repeats']} draws per β", fontsize=10
    )
    return [left, right]


def acquisition_size_curves_panel(
    runs: Sequence[RunRecord],
    *,
    acquisition_size: int = 10,
    target: float | None = None,
    methods: tuple[str, ...] = ("bald", "batchbald"),
    reference: tuple[str, int] | None = ("bald", 1),
) -> widgets.Box:
    """A slider over the acquisition sizes b of the cached ``runs`` that redraws the learning
    curves of ``methods`` at that b, plus the ``reference`` run (BALD at b = 1 by default), with
    the labels each needed to reach ``target``. Nothing is recomputed: it only filters and draws.
    """
    sizes = sorted({run.b for run in runs if run.acquisition in methods})
    if not sizes:
        raise ValueError(f"no cached runs of {methods} to show; run `make reproduce` first")
    controls = {
        "acquisition_size": widgets.SelectionSlider(
            options=sizes,
            value=acquisition_size if acquisition_size in sizes else sizes[len(sizes) // 2],
            description="acquisition size b",
            continuous_update=False,
            style={"description_width": "initial"},
        )
    }

    def draw(acquisition_size: int) -> Figure:
        shown = [
            run
            for run in runs
            if (run.acquisition in methods and run.b == acquisition_size)
            or (run.acquisition, run.b) == reference
        ]
        fig = panel_figure(figsize=(7, 4.5), layout="constrained")  # see bbal_tutorial.widgets
        plot_learning_curves(
            shown,
            ax=fig.subplots(),
            target_accuracies=() if target is None else (target,),
            title=f"b = {acquisition_size}",
            reference=reference,
        )
        print(figure_caption(shown))
        for method in methods if target is not None else ():
            group = [run for run in shown if (run.acquisition, run.b) == (method, acquisition_size)]
            if group:
                s = labels_to_reach_summary(group, target)
                print(
                    f"{method} (b={acquisition_size}) reaches {target:.0%} at "
                    f"{s['per_seed']} labels (median {s['median'] or 'never'})"
                )
        return fig

    panel = live_panel(controls, draw)
    panel.controls = controls  # type: ignore[attr-defined]
    return panel


def paired_labels_to_reach(
    runs: Sequence[RunRecord],
    accuracy: float,
    methods: tuple[str, str] = ("batchbald", "bald"),
) -> list[dict[str, Any]]:
    """Seed by seed, the labels each of two ``methods`` needed to reach ``accuracy`` at the same
    b (same seed: same initial labels, pool and test set), one row per b where both have runs.

    ``fewer``/``same``/``more`` count the seeds on which the first method needed fewer, as many
    or more labels than the second; a run that never reached the target counts as needing more
    than any run that did, and two that never did count as the same.
    """
    first, second = methods
    by_key = {(run.acquisition, run.b, run.seed): run for run in runs}
    sizes = sorted(
        {b for (m, b, _) in by_key if m == first} & {b for (m, b, _) in by_key if m == second}
    )
    rows = []
    for b in sizes:
        seeds = sorted(
            seed
            for (m, size, seed) in by_key
            if m == first and size == b and (second, b, seed) in by_key
        )
        pairs = [
            tuple(labels_to_reach(by_key[method, b, seed], accuracy) for method in methods)
            for seed in seeds
        ]
        cost = [tuple(math.inf if n is None else n for n in pair) for pair in pairs]
        rows.append(
            {
                "b": b,
                "seeds": seeds,
                f"{first} labels": [pair[0] for pair in pairs],
                f"{second} labels": [pair[1] for pair in pairs],
                "fewer": sum(a < c for a, c in cost),
                "same": sum(a == c for a, c in cost),
                "more": sum(a > c for a, c in cost),
            }
        )
    return rows


def median_curve_comparison(
    runs: Sequence[RunRecord],
    methods: tuple[str, str] = ("batchbald", "bald"),
) -> list[dict[str, Any]]:
    """Per b where both ``methods`` have runs: at how many labelled-set sizes (beyond the first
    round's, the initial labels; only those every seed of both reached) the first method's
    median test accuracy over seeds is above the second's, and the mean difference of the
    medians (first minus second)."""
    first, second = methods
    rows = []
    for b in sorted({run.b for run in runs if run.acquisition == first}):
        groups = [[run for run in runs if (run.acquisition, run.b) == (m, b)] for m in methods]
        if not all(groups):
            continue
        # median over seeds at every labelled-set size all of a method's seeds reached
        medians = [dict(zip(*curve_statistics(group)[:2], strict=True)) for group in groups]
        start = min(run.labels[0] for group in groups for run in group)  # initial labels only
        xs = sorted(x for x in medians[0].keys() & medians[1].keys() if x > start)
        gaps = [float(medians[0][x] - medians[1][x]) for x in xs]
        rows.append(
            {
                "b": b,
                "label counts": len(xs),
                f"{first} above": sum(g > 0 for g in gaps),
                "mean gap": statistics.mean(gaps) if gaps else None,
            }
        )
    return rows


def ceiling_summary(runs: Sequence[RunRecord], fraction: float = 0.95) -> list[dict[str, Any]]:
    """For the cached BatchBALD runs, one row per b: how many recorded batches there are, how
    many picks the cumulative score ``I(y_1..y_i; w)`` needed to reach ``fraction`` of its
    ceiling ``log K`` (median over the batches that got there) and in how many batches it got
    there, and the median final score. Reads the records' ``scores`` only."""
    groups: dict[int, list[tuple[float, list[float]]]] = {}
    for run in runs:
        if run.acquisition != "batchbald":
            continue
        ceiling = math.log(run.config.mc_samples)
        for record in run.rounds:
            if record.scores:
                groups.setdefault(run.b, []).append((ceiling, record.scores))
    rows = []
    for b, batches in sorted(groups.items()):
        picks = [
            next((i + 1 for i, s in enumerate(scores) if s >= fraction * ceiling), None)
            for ceiling, scores in batches
        ]
        reached = [p for p in picks if p is not None]
        rows.append(
            {
                "b": b,
                "batches": len(batches),
                "log K": batches[0][0],
                f"picks to {fraction:.0%} of log K": statistics.median(reached)
                if reached
                else None,
                "batches reaching it": len(reached),
                "final score": statistics.median(scores[-1] for _, scores in batches),
            }
        )
    return rows


def coldness_sweep(
    log_probs_N_K_C: torch.Tensor,
    original_N: torch.Tensor,
    acquisition_size: int,
    coldnesses: Sequence[float],
    *,
    modes: Sequence[str] = ("power", "softmax", "softrank"),
    repeats: int = 20,
    seed: int = 0,
    num_samples: int = 10_000,
    with_batchbald: bool = True,
) -> dict:
    """Sample ``repeats`` batches with each stochastic mode at each coldness β
    (:func:`bbal_tutorial.acquisition.acquire` with ``"<mode>-bald"``) and average two numbers
    per batch: the share of its points that top-b BALD also picks, and how many of its picks
    copy an image already in the batch (:func:`count_repeats`).

    β = 0 samples uniformly (random acquisition); a large β approaches top-b BALD. The same
    numbers for random acquisition (averaged over ``repeats`` draws), top-b BALD and (with
    ``with_batchbald``) greedy BatchBALD are the reference lines. Seeds are ``seed + r``.
    """

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    top = get_bald_batch(log_probs_N_K_C, acquisition_size).indices
    top_set = set(top)

    def stats(batches: Sequence[Sequence[int]]) -> dict[str, float]:
        share = sum(len(top_set.intersection(b)) / len(b) for b in batches) / len(batches)
        rep = sum(count_repeats(b, original_N) for b in batches) / len(batches)
        return {"top_b_share": share, "repeats": rep}

    sweep: dict = {
        "coldness": list(coldnesses),
        "acquisition_size": acquisition_size,
        "repeats": repeats,
        "modes": {},
        "top_b": stats([top]),
        "random": stats(
            [
                acquire("random", log_probs_N_K_C, acquisition_size, seed=seed + r).indices
                for r in range(repeats)
            ]
        ),
    }
    if with_batchbald:
        batch = get_batchbald_batch(
            log_probs_N_K_C, acquisition_size, num_samples=num_samples, seed=seed
        )
        sweep["batchbald"] = stats([batch.indices])
    for mode in modes:
        rows = [
            stats(
                [
                    acquire(
                        f"{mode}-bald",
                        log_probs_N_K_C,
                        acquisition_size,
                        seed=seed + r,
                        coldness=beta,
                    ).indices
                    for r in range(repeats)
                ]
            )
            for beta in coldnesses
        ]
        sweep["modes"][mode] = {key: [row[key] for row in rows] for key in rows[0]}
    return sweep
