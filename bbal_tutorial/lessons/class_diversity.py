"""Notebook 05, class diversity on EMNIST's 47 classes: which classes each method acquired (sorted
histograms with the characters on the axis, the most and least acquired classes and example
images of them), the entropy of the acquired labels per run and over the rounds, and test
accuracy at a given number of labels beside the paper's.

:func:`label_entropy` is this lesson's own measure, the entropy of a histogram of labels (not a
quantity of the model's predictions, so it is not in :mod:`bbal_tutorial.information`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bbal_tutorial.data import EMNIST_SPEC, FASHION_MNIST_SPEC, MNIST_SPEC, ActiveLearningData
from bbal_tutorial.lessons.repeated_mnist import display_images
from bbal_tutorial.plotting import (
    METHOD_COLOURS,
    method_label,
    plot_image_grid,
    plot_median_over_seeds,
    seeds_label,
)
from bbal_tutorial.results import RunRecord, group_by_method

#: The paper's EMNIST result (Kirsch et al. 2019, Figure 7; ``shared/REFERENCE.md``): mean test
#: accuracy at about 290 acquired labels, b = 5, K = 10, on the official EMNIST-balanced split.
PAPER_ACCURACY_AT_290 = {"batchbald": 0.50, "random": 0.48, "bald": 0.46}

#: The order in which the BatchBALD blog lists the methods of its class-diversity figure.
BLOG_ORDER = ("batchbald", "random", "bald")


def in_blog_order(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """The runs sorted by method in :data:`BLOG_ORDER` (other methods last), each method's runs
    in their given order."""
    rank = {acquisition: i for i, acquisition in enumerate(BLOG_ORDER)}
    return sorted(runs, key=lambda run: rank.get(run.acquisition, len(BLOG_ORDER)))


def plot_label_entropy(runs: Iterable[RunRecord], num_classes: int, ax: Axes | None = None) -> Axes:
    """Entropy of each method's acquired-label distribution against the number of acquired
    labels: the median over seeds with the quartiles shaded, and the maximum ``log C`` (every
    class acquired equally often) dashed.

    Uses :func:`label_entropy_by_round`; only sizes every seed of a method reached are kept.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    groups = group_by_method(runs)
    if not groups:
        raise ValueError("plot_label_entropy needs at least one results file")
    for (acquisition, b), group in groups.items():
        curves = [dict(zip(*label_entropy_by_round(r, num_classes), strict=True)) for r in group]
        label = seeds_label(acquisition, b, len(group))
        plot_median_over_seeds(ax, curves, acquisition, label, marker=".")
    ceiling = math.log(num_classes)
    ax.axhline(
        ceiling,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"log C = log {num_classes} = {ceiling:.2f} (uniform)",
    )
    ax.set_xlabel("acquired labels so far")
    ax.set_ylabel("entropy of the acquired labels (nats)")
    # From just below the lowest median: the differences between methods are what matter.
    lowest = min(
        (min(line.get_ydata()) for line in ax.get_lines() if len(line.get_ydata())),
        default=0.0,
    )
    ax.set_ylim(max(0.0, lowest - 0.1 * (ceiling - lowest)), ceiling * 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def label_entropy(labels: Sequence[int] | torch.Tensor, num_classes: int) -> float:
    """Entropy (nats, float64) of the empirical class distribution of ``labels``:
    ``H = -sum_c p_c log p_c`` with ``p_c = n_c / n`` and ``0 · log 0 = 0``.

    0 when every label is the same class, ``log(num_classes)`` when all classes are equally
    frequent: the BatchBALD blog's measure of how diverse the acquired labels are. Raises
    ``ValueError`` for an empty list or a label outside ``0..num_classes-1``.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    labels_N = torch.as_tensor(labels, dtype=torch.long).flatten()
    if len(labels_N) == 0:
        raise ValueError("no labels: the entropy of an empty histogram is undefined")
    if int(labels_N.min()) < 0 or int(labels_N.max()) >= num_classes:
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, found "
            f"{int(labels_N.min())}..{int(labels_N.max())}; pass the right num_classes"
        )
    probs_C = torch.bincount(labels_N, minlength=num_classes).double() / len(labels_N)
    probs_C = probs_C[probs_C > 0]  # 0 · log 0 = 0
    return float(-(probs_C * probs_C.log()).sum())


def label_entropy_by_round(run: RunRecord, num_classes: int) -> tuple[list[int], list[float]]:
    """After each round that acquired points: how many labels the run has acquired so far (the
    initial labelled set excluded) and the entropy of their class distribution
    (:func:`label_entropy`, nats; at most ``log num_classes``)."""
    acquired, counts, entropies = [], [], []
    for record in run.rounds:
        if not record.acquired_labels:
            continue
        acquired += record.acquired_labels
        counts.append(len(acquired))
        entropies.append(label_entropy(acquired, num_classes))
    return counts, entropies


_SPECS = {
    "mnist": MNIST_SPEC,
    "repeated-mnist": MNIST_SPEC,
    "fashion-mnist": FASHION_MNIST_SPEC,
    "emnist": EMNIST_SPEC,
}


def class_names(dataset: str) -> list[str]:
    """The names of ``dataset``'s classes in label order: digits, or for EMNIST-balanced the
    characters ``0-9 A-Z a b d e f g h n q r t`` (its official label mapping)."""
    if dataset not in _SPECS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(_SPECS)}")
    return list(_SPECS[dataset].class_names)


def num_classes(dataset: str) -> int:
    """How many classes ``dataset`` has (10 for the MNIST family, 47 for EMNIST-balanced)."""
    return len(class_names(dataset))


def label_diversity_summary(runs: Sequence[RunRecord], num_classes: int) -> list[dict[str, Any]]:
    """One row per (acquisition, b) over its seeds, from all labels each run acquired (the
    initial labelled set excluded): how many, the median :func:`label_entropy` and its share of
    the maximum ``log num_classes``, and the medians of the least and the most acquired class's
    count and of the number of classes never acquired."""
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        labels = [run.acquired_labels for run in group]
        counts = [
            torch.bincount(torch.tensor(x, dtype=torch.long), minlength=num_classes) for x in labels
        ]
        entropy = statistics.median(label_entropy(x, num_classes) for x in labels)
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(group),
                "labels acquired": statistics.median(len(x) for x in labels),
                "entropy (nats)": entropy,
                "share of log C": entropy / math.log(num_classes) if num_classes > 1 else 1.0,
                "least acquired class": statistics.median(int(c.min()) for c in counts),
                "most acquired class": statistics.median(int(c.max()) for c in counts),
                "classes never acquired": statistics.median(int((c == 0).sum()) for c in counts),
            }
        )
    return rows


def mean_class_counts(runs: Sequence[RunRecord], num_classes: int) -> np.ndarray:
    """How often each class was acquired (the initial labels excluded), averaged over ``runs``:
    float ``[num_classes]``, in label order."""
    if not runs:
        raise ValueError("mean_class_counts needs at least one run")
    counts_S_C = [np.bincount(run.acquired_labels, minlength=num_classes) for run in runs]
    return np.mean(counts_S_C, axis=0)


def extreme_classes(
    runs: Sequence[RunRecord], names: Sequence[str], k: int = 3
) -> dict[tuple[str, int], dict[str, list[tuple[str, float]]]]:
    """Per method (acquisition, b): its ``k`` most and ``k`` least acquired classes, as
    ``(class name, mean count over seeds)``, most first and least first. Ties keep label order."""
    extremes = {}
    for key, group in group_by_method(runs).items():
        counts_C = mean_class_counts(group, len(names))
        order = np.argsort(-counts_C, kind="stable")
        least = np.argsort(counts_C, kind="stable")
        extremes[key] = {
            "most": [(names[c], float(counts_C[c])) for c in order[:k]],
            "least": [(names[c], float(counts_C[c])) for c in least[:k]],
        }
    return extremes


def plot_class_histograms(runs: Iterable[RunRecord], names: Sequence[str]) -> Figure:
    """The blog's Figure 14 with the characters on the axis: one panel per method (in
    :data:`BLOG_ORDER`), its classes sorted by how often they were acquired (mean over seeds), each
    bar labelled with its class; the dashed line is the count every class would get if the
    labels were spread evenly."""
    groups = group_by_method(in_blog_order(runs))
    if not groups:
        raise ValueError("plot_class_histograms needs at least one results file")
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, 2.6 * len(groups)), squeeze=False)
    for ax, ((acquisition, b), group) in zip(axes[:, 0], groups.items(), strict=True):
        counts_C = mean_class_counts(group, len(names))
        order = np.argsort(-counts_C, kind="stable")
        ax.bar(np.arange(len(names)), counts_C[order], color=METHOD_COLOURS.get(acquisition))
        ax.set_xticks(np.arange(len(names)), [names[c] for c in order], fontsize=9)
        ax.set_xlim(-0.7, len(names) - 0.3)
        ax.axhline(counts_C.sum() / len(names), color="black", linestyle="--", linewidth=1)
        entropy = statistics.median(label_entropy(run.acquired_labels, len(names)) for run in group)
        ax.set_title(
            f"{seeds_label(acquisition, b, len(group))}: {counts_C.sum():.0f} labels, label "
            f"entropy {entropy:.2f} of {math.log(len(names)):.2f} nats",
            fontsize=10,
        )
        ax.set_ylabel("acquired (mean)")
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].set_xlabel(
        "classes (characters), sorted by how often the method acquired them; dashed: an even spread"
    )
    fig.tight_layout()
    return fig


def accuracy_at(runs: Sequence[RunRecord], acquired: int) -> list[dict[str, Any]]:
    """Per method: test accuracy of each seed's model trained when it had acquired ``acquired``
    labels (the initial labels excluded), their mean, and the paper's number where it has one.
    A seed that did not get that far is left out (``seeds`` counts those that did)."""
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        per_seed = []
        for run in group:
            initial = len(run.initial_indices)
            at = [r.test_accuracy for r in run.rounds if r.n_labeled - initial == acquired]
            if at:
                per_seed.append(at[0])
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "seeds": len(per_seed),
                "accuracy (per seed)": per_seed,
                "mean accuracy": statistics.mean(per_seed) if per_seed else None,
                "paper mean accuracy": PAPER_ACCURACY_AT_290.get(acquisition)
                if acquired == 290
                else None,
            }
        )
    return rows


def training_at_cap(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Per method: how often a round's training ran to the epoch cap (``max_epochs``) instead of
    stopping early, over all seeds' rounds that trained on at least one label, and the training
    budget per round (``max_epochs`` x ``samples_per_epoch`` draws). A model stopped by the cap
    was still improving on the validation set: it is under-trained."""
    rows = []
    for (acquisition, b), group in group_by_method(runs).items():
        trained = [
            (r.train_epochs, run.config.max_epochs)
            for run in group
            for r in run.rounds
            if r.n_labeled
        ]
        capped = sum(epochs >= cap for epochs, cap in trained)
        config = group[0].config
        rows.append(
            {
                "acquisition": acquisition,
                "b": b,
                "rounds trained": len(trained),
                "stopped at the cap": capped,
                "share at the cap": capped / len(trained) if trained else None,
                "draws per round (at most)": config.max_epochs * config.samples_per_epoch,
            }
        )
    return rows


def plot_class_examples(
    data: ActiveLearningData,
    runs: Sequence[RunRecord],
    names: Sequence[str],
    *,
    k: int = 3,
    per_class: int = 2,
) -> Figure:
    """Example images, one row per method: of its ``k`` most acquired classes, images it acquired
    (framed in its colour, titled ``↑``), then of its ``k`` least acquired classes, pool images it
    left unlabelled (grey frames, titled ``↓``). From the first seed of each method; ``data`` is
    the dataset the runs worked on (:func:`bbal_tutorial.presets.run_data`)."""
    extremes = extreme_classes(runs, names, k)
    groups = group_by_method(in_blog_order(runs))
    images, titles, frames = [], [], []
    for key, group in groups.items():
        colour = METHOD_COLOURS.get(key[0])
        # The method's acquisitions over all its seeds, the first seed's first.
        acquired = [i for run in group for i in run.acquired_indices]
        acquired_set = set(acquired)
        for direction, arrow, frame in (("most", "↑", colour), ("least", "↓", "#bbbbbb")):
            for name, _ in extremes[key][direction]:
                c = names.index(name)
                if direction == "most":
                    chosen = [i for i in acquired if int(data.train_y_N[i]) == c]
                else:
                    members = torch.nonzero(data.train_y_N == c).flatten().tolist()
                    chosen = [i for i in members if i not in acquired_set]
                chosen = list(dict.fromkeys(chosen))[:per_class]
                shown = display_images(data, chosen) if chosen else torch.zeros(0, 28, 28)
                # a blank keeps the grid's rows aligned if a class has too few images
                blanks = torch.zeros(per_class - len(chosen), *shown.shape[1:] or (28, 28))
                images.append(torch.cat([shown, blanks]))
                titles += [f"{name} {arrow}"] * len(chosen) + [""] * len(blanks)
                frames += [frame] * len(chosen) + [None] * len(blanks)
    fig = plot_image_grid(
        torch.cat(images),
        titles=titles,
        frame_colours=frames,
        ncols=2 * k * per_class,
    )
    row_labels = [method_label(*key) for key in groups]
    for row, label in enumerate(row_labels):
        fig.axes[row * 2 * k * per_class].set_ylabel(label, fontsize=8)
    return fig


def label_entropy_at(
    runs: Sequence[RunRecord], num_classes: int, acquired: int
) -> dict[tuple[str, int], float]:
    """Per method (acquisition, b): the median over seeds of the entropy of the first
    ``acquired`` acquired labels (:func:`label_entropy`), from the seeds that got that far."""
    medians = {}
    for key, group in group_by_method(runs).items():
        values = [
            label_entropy(run.acquired_labels[:acquired], num_classes)
            for run in group
            if len(run.acquired_labels) >= acquired
        ]
        if values:
            medians[key] = statistics.median(values)
    return medians
