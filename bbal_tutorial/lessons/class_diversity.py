"""Notebook 05, class diversity: the entropy of the acquired labels, per run and over the rounds, a
summary per method, the runs each panel shows, and what an EMNIST run would cost on this machine.

:func:`label_entropy` is this lesson's own measure, the entropy of a histogram of labels (not a
quantity of the model's predictions, so it is not in :mod:`bbal_tutorial.information`).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes

from bbal_tutorial.acquisition import acquire
from bbal_tutorial.config import ExperimentConfig, planned_rounds
from bbal_tutorial.data import EMNIST_SPEC, FASHION_MNIST_SPEC, MNIST_SPEC
from bbal_tutorial.models import make_model, predict_log_probs
from bbal_tutorial.plotting import plot_median_over_seeds, seeds_label
from bbal_tutorial.results import RunRecord, group_by_method

#: The order in which the BatchBALD blog lists the methods of its class-diversity figure.
BLOG_ORDER = ("batchbald", "random", "bald")


def at_acquisition_size(
    runs: Iterable[RunRecord], b: int, *, reference: str | None = "random"
) -> list[RunRecord]:
    """The runs of acquisition size ``b``, plus every run of the ``reference`` method whatever
    its b (random acquisition's picks do not depend on b, so one b serves every panel)."""
    return [run for run in runs if run.b == b or run.acquisition == reference]


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
    ax.set_ylim(0, ceiling * 1.08)
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


def num_classes(dataset: str) -> int:
    """How many classes ``dataset`` has (10 for the MNIST family, 47 for EMNIST balanced)."""

    specs = {
        "mnist": MNIST_SPEC,
        "repeated-mnist": MNIST_SPEC,
        "fashion-mnist": FASHION_MNIST_SPEC,
        "emnist": EMNIST_SPEC,
    }
    if dataset not in specs:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(specs)}")
    return len(specs[dataset].class_names)


def estimate_run_seconds(
    config: ExperimentConfig,
    *,
    pool_size: int,
    test_size: int,
    forward_seconds: float,
    train_step_seconds: float,
    select_seconds: float,
    epochs: int,
) -> float:
    """A rough estimate (seconds) of one run of ``config`` on this machine, from its settings and
    measured costs: ``forward_seconds`` per (image, MC sample) forward pass,
    ``train_step_seconds`` per training batch, ``select_seconds`` per acquisition.

    Rounds: one on the initial labels, then one per batch of ``acquisition_size`` until
    ``label_budget``.
    Each round trains ``epochs`` epochs (no training while nothing is labelled) of
    ``samples_per_epoch`` draws, checks the validation set after each epoch, evaluates the test
    set and scores the pool (except random acquisition) -- as :func:`bbal_tutorial.loop.run_round`
    does. The pool shrinks by ``acquisition_size`` a round. Ignores data loading and Python
    overhead.
    """
    if min(forward_seconds, train_step_seconds, select_seconds) < 0 or epochs < 1:
        raise ValueError("costs must be >= 0 and epochs >= 1")
    initial = config.initial_per_class * num_classes(config.dataset)
    acquisitions = planned_rounds(config, initial, pool_size) - 1
    steps_per_epoch = math.ceil(config.samples_per_epoch / config.train_batch_size)
    total = 0.0
    for r in range(acquisitions + 1):
        labelled = initial + r * config.acquisition_size
        if labelled > 0:
            total += epochs * steps_per_epoch * train_step_seconds
            checks = config.validation_size * config.validation_mc_samples  # per epoch
            total += epochs * checks * forward_seconds
        total += test_size * config.test_mc_samples * forward_seconds
        if r < acquisitions:  # the last round only trains and evaluates
            if config.acquisition != "random":
                pool = pool_size - r * config.acquisition_size
                total += pool * config.mc_samples * forward_seconds
            total += select_seconds
    return total


def measure_costs(
    config: ExperimentConfig,
    *,
    pool_size: int,
    acquisitions: Sequence[str] | None = None,
    measure_images: int = 256,
    measure_pool: int = 500,
    train_steps: int = 5,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """This machine's costs for :func:`estimate_run_seconds`, measured on random inputs of the
    right shapes (so no dataset is needed): ``"forward_seconds"`` per (image, MC sample) forward
    pass of ``config.model``, ``"train_step_seconds"`` per training step of ``train_batch_size``
    images, and ``"select_seconds"``, a dictionary: for each of ``acquisitions`` (default:
    ``config.acquisition``), the seconds of one acquisition of ``config.acquisition_size`` points
    from a pool of ``pool_size`` -- timed on ``measure_pool`` and on a quarter as many random pool
    points and extrapolated along the line through the two (an acquisition costs a fixed part
    plus a part linear in the pool size), each the least of ``repeats`` timings.

    Times are CPU seconds of this process (``time.process_time``), so a busy machine does not
    inflate them: with one torch thread (as ``make reproduce`` runs) they estimate the wall time
    of a run on an otherwise idle machine; with several threads they are summed over the threads.
    """
    C = num_classes(config.dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model(config.model, C)
        x_B_1_H_W = torch.randn(measure_images, 1, 28, 28)
        start = time.process_time()
        predict_log_probs(model, x_B_1_H_W, config.mc_samples, progress=False)
        forward = (time.process_time() - start) / (measure_images * config.mc_samples)

        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        x_T_1_H_W = torch.randn(config.train_batch_size, 1, 28, 28)
        y_T = torch.randint(C, (config.train_batch_size,))
        start = time.process_time()
        for _ in range(train_steps):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.nll_loss(model(x_T_1_H_W, 1).squeeze(1), y_T)
            loss.backward()
            optimizer.step()
        train_step = (time.process_time() - start) / train_steps

        def acquisition_seconds(name: str, n: int) -> float:
            log_probs_N_K_C = torch.log_softmax(3 * torch.randn(n, config.mc_samples, C), dim=-1)
            times = []
            # The least of a few repeats: a single timing of a millisecond-long call is noisy
            # (idle torch threads spinning count as CPU time), and the extrapolation to the
            # whole pool below multiplies that noise by pool_size / measure_pool.
            for _ in range(repeats):
                start = time.process_time()
                acquire(
                    name,
                    log_probs_N_K_C,
                    min(config.acquisition_size, n),
                    seed=seed,
                    num_samples=config.num_samples,
                    coldness=config.coldness,
                )
                times.append(time.process_time() - start)
            return min(times)

        n2 = min(measure_pool, pool_size)
        n1 = max(config.acquisition_size, n2 // 4)
        select = {}
        for name in acquisitions or [config.acquisition]:
            select[name] = acquisition_seconds(name, n2)
            if n2 < pool_size and n1 < n2:
                slope = max(0.0, (select[name] - acquisition_seconds(name, n1)) / (n2 - n1))
                select[name] += slope * (pool_size - n2)
    return {"forward_seconds": forward, "train_step_seconds": train_step, "select_seconds": select}


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
