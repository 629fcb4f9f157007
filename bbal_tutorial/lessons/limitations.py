"""Notebook 07, what BALD and BatchBALD do not fix: its small computations and figures.

Three limitations, each measured rather than asserted:

* **An unbalanced pool** -- acquisition scores a point by how uncertain the model is about it,
  never by how many pool points look like it: :func:`subsample_by_class` builds a pool with rare
  classes, :func:`class_shares` and :func:`oversampling_ratios` compare what a method acquires
  with the pool's class frequencies, and :func:`per_class_accuracy` /
  :func:`reweighted_accuracy` give a model's accuracy on a test set with any class frequencies.
  :func:`unbalanced_pool_run` repeats that experiment for one seed with any acquisition
  functions, EPIG among them (its target inputs a balanced sample outside the pool, or the
  pool), :func:`summarise_runs` collects the runs of several seeds (:func:`format_summary`
  prints them); :func:`epig_regions`
  and :func:`plot_bald_and_epig_diagrams` draw the information diagram of ``y``, ``y*`` and
  ``w``, with BALD's and EPIG's regions.
* **No use of the unlabelled data** -- :func:`confident_pseudo_labels` is the simplest way to use
  it: label the pool points the model is most sure about with its own prediction.
* **A noisy estimator** -- :func:`batch_information_by_k` re-scores one batch under many draws of
  the K posterior samples, for several K.

:func:`plot_class_shares` (with :func:`plot_oversampling_ratios`, the rare classes on a log scale)
and :func:`plot_information_by_k` draw the first and the last. Everything here is deterministic
given its inputs (a seed where there is randomness); no printing, no progress bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from bbal_tutorial.acquisition import EPIG_ACQUISITIONS, acquire
from bbal_tutorial.information import (
    batch_mutual_information,
    check_log_probs,
    predictive_log_probs,
    three_variable_regions,
)
from bbal_tutorial.lessons.double_counting import plot_three_variable_diagram
from bbal_tutorial.lessons.duplicate_pool import train_small_model
from bbal_tutorial.models import BayesianModule, predict_log_probs
from bbal_tutorial.plotting import (
    METHOD_COLOURS,
    REFERENCE_BAR_STYLE,
    _as_numpy,
    method_name,
    plot_grouped_bars,
    plural,
)

#: Background of the highlighted (rare) classes in :func:`plot_class_shares`.
HIGHLIGHT_COLOUR = "#fdd49e"


def _labels_tensor(labels: Sequence[int] | torch.Tensor, num_classes: int) -> torch.Tensor:
    """``labels`` as a 1-d int64 tensor, checked to lie in ``0..num_classes-1``."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    labels_N = torch.as_tensor(labels, dtype=torch.long).flatten()
    if len(labels_N) and (int(labels_N.min()) < 0 or int(labels_N.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, found "
            f"{int(labels_N.min())}..{int(labels_N.max())}; pass the right num_classes"
        )
    return labels_N


def subsample_by_class(
    labels_N: Sequence[int] | torch.Tensor,
    counts: Mapping[int, int],
    *,
    candidates: Sequence[int] | None = None,
    seed: int = 0,
) -> list[int]:
    """Indices with exactly ``counts[c]`` examples of each class c, drawn uniformly at random
    (without replacement) from ``candidates`` (default: every index of ``labels_N``).

    Classes missing from ``counts`` are left out. The result is in a random order (so its first
    n entries are themselves a random sample that follows the class frequencies). Raises
    ``ValueError`` if a class has fewer candidates than asked for.
    """
    labels_N = torch.as_tensor(labels_N, dtype=torch.long)
    candidates_P = (
        torch.arange(len(labels_N))
        if candidates is None
        else torch.as_tensor(list(candidates), dtype=torch.long)
    )
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c, count in sorted(counts.items()):
        if count < 0:
            raise ValueError(f"counts must be >= 0, got {count} for class {c}")
        of_class = candidates_P[labels_N[candidates_P] == c]
        if count > len(of_class):
            raise ValueError(
                f"class {c} has {len(of_class)} candidates, fewer than the {count} asked for"
            )
        chosen.append(of_class[torch.randperm(len(of_class), generator=generator)[:count]])
    chosen_S = torch.cat(chosen) if chosen else torch.zeros(0, dtype=torch.long)
    return chosen_S[torch.randperm(len(chosen_S), generator=generator)].tolist()


def class_shares(labels: Sequence[int] | torch.Tensor, num_classes: int) -> torch.Tensor:
    """The fraction of ``labels`` in each class, shape (C,), float64 (sums to 1).

    Raises ``ValueError`` for an empty label list (the shares would be 0/0).
    """
    labels_N = _labels_tensor(labels, num_classes)
    if len(labels_N) == 0:
        raise ValueError("no labels: the class shares of an empty list are undefined")
    return torch.bincount(labels_N, minlength=num_classes).double() / len(labels_N)


def oversampling_ratios(
    acquired_labels: Sequence[int] | torch.Tensor,
    pool_labels: Sequence[int] | torch.Tensor,
    num_classes: int,
) -> torch.Tensor:
    """``share of class c among the acquired points / share of class c in the pool``, shape (C,).

    1 means "acquired in proportion to the pool" (what random acquisition does on average), above
    1 over-sampled, below 1 under-sampled; NaN for a class absent from the pool.
    """
    acquired_C = class_shares(acquired_labels, num_classes)
    pool_C = class_shares(pool_labels, num_classes)
    return torch.where(pool_C > 0, acquired_C / pool_C.clamp_min(1e-300), torch.nan)


def per_class_accuracy(
    predictions_M: Sequence[int] | torch.Tensor,
    labels_M: Sequence[int] | torch.Tensor,
    num_classes: int,
) -> torch.Tensor:
    """Accuracy on the test points of each class (recall), shape (C,), float64; NaN for a class
    with no test points."""
    labels_M = _labels_tensor(labels_M, num_classes)
    predictions_M = torch.as_tensor(predictions_M, dtype=torch.long).flatten()
    if predictions_M.shape != labels_M.shape:
        raise ValueError(
            f"{len(predictions_M)} predictions for {len(labels_M)} labels; they must match"
        )
    correct_C = torch.bincount(labels_M[predictions_M == labels_M], minlength=num_classes)
    total_C = torch.bincount(labels_M, minlength=num_classes)
    return torch.where(total_C > 0, correct_C.double() / total_C.clamp_min(1), torch.nan)


def reweighted_accuracy(
    per_class_accuracy_C: torch.Tensor, class_weights_C: Sequence[float] | torch.Tensor
) -> float:
    """The accuracy on a test set whose classes have frequencies ``class_weights_C``:
    ``sum_c w_c · acc_c / sum_c w_c``.

    With uniform weights this is the balanced accuracy; with the pool's class shares it is the
    expected accuracy on test data distributed like the pool -- from one balanced test set.
    """
    accuracy_C = torch.as_tensor(per_class_accuracy_C, dtype=torch.float64)
    weights_C = torch.as_tensor(class_weights_C, dtype=torch.float64)
    if accuracy_C.shape != weights_C.shape:
        raise ValueError(
            f"{len(accuracy_C)} per-class accuracies but {len(weights_C)} class weights"
        )
    if bool((weights_C < 0).any()) or float(weights_C.sum()) <= 0:
        raise ValueError("class weights must be >= 0 and not all 0")
    weighted = weights_C > 0
    if bool(torch.isnan(accuracy_C[weighted]).any()):
        raise ValueError("a class with positive weight has no test points (accuracy NaN)")
    return float((weights_C[weighted] * accuracy_C[weighted]).sum() / weights_C.sum())


def train_and_test(
    x_L_1_H_W: torch.Tensor,
    y_L: torch.Tensor,
    test_x_M_1_H_W: torch.Tensor,
    test_y_M: torch.Tensor,
    *,
    epochs: int,
    k: int = 10,
    num_classes: int = 10,
    seed: int = 0,
) -> tuple[BayesianModule, torch.Tensor]:
    """Train a fresh MNIST CNN on the labelled set
    (:func:`~bbal_tutorial.lessons.duplicate_pool.train_small_model`, exactly ``epochs`` epochs)
    and return it with its :func:`per_class_accuracy` on the test set (predictions from the mean
    of ``k`` MC-dropout samples). Deterministic given ``seed``.
    """
    model = train_small_model(x_L_1_H_W, y_L, epochs=epochs, num_classes=num_classes, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the test-time dropout masks
        model.redraw_masks()
        log_probs_M_K_C = predict_log_probs(model, test_x_M_1_H_W, k, progress=False)
    predictions_M = predictive_log_probs(log_probs_M_K_C).argmax(dim=1)
    return model, per_class_accuracy(predictions_M, test_y_M, num_classes)


#: Where :func:`unbalanced_pool_run` takes EPIG's target inputs from.
EPIG_TARGET_SOURCES = ("balanced", "pool")

#: The row of :func:`summarise_runs` for the model trained on the initial labels alone.
INITIAL_ROW = "initial labels only"


@dataclass
class UnbalancedPoolRun:
    """One seed of the unbalanced-pool experiment (:func:`unbalanced_pool_run`). Indices index
    the training set; per-class accuracies are on the test set; dicts are keyed by method."""

    pool_labels: torch.Tensor  # the pool's labels (the initial labels taken out)
    target_indices: torch.Tensor  # EPIG's target inputs x* (empty without an EPIG method)
    initial_accuracy_C: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    acquired_indices: dict[str, torch.Tensor]
    acquired_labels: dict[str, torch.Tensor]
    accuracy_C: dict[str, torch.Tensor]  # noqa: N815 (after retraining: initial + acquired)


def unbalanced_pool_run(
    x_N_1_H_W: torch.Tensor,
    y_N: torch.Tensor,
    test_x_M_1_H_W: torch.Tensor,
    test_y_M: torch.Tensor,
    *,
    counts: Mapping[int, int],
    initial_labels: int,
    acquisition_size: int,
    methods: Sequence[str] = ("random", "bald", "batchbald", "epig"),
    targets_per_class: int = 10,
    target_source: str = "balanced",
    k: int = 10,
    test_k: int = 5,
    epochs: int = 10,
    num_samples: int = 1_000,
    num_classes: int = 10,
    seed: int = 0,
) -> UnbalancedPoolRun:
    """Section 1's experiment for one seed, with any acquisition functions.

    A pool with ``counts[c]`` images of class c (:func:`subsample_by_class`); its first
    ``initial_labels`` (a random sample, so they follow the pool's density) are labelled and a
    model is trained on them (:func:`train_and_test`); the pool is scored with ``k`` consistent
    MC-dropout samples (masks drawn from ``seed``); each method acquires ``acquisition_size``
    points in one go; a fresh model is trained on the initial plus acquired labels and tested.

    EPIG's target inputs x* (``num_classes · targets_per_class`` of them) are predicted with the
    *same* K masks as the pool, and come from ``target_source``: ``"balanced"``, the same number
    of images of every class from the training images *outside* the pool (never the test set
    that scores the methods; their labels are not used), or ``"pool"``, a random sample of the
    pool itself (so EPIG targets the pool's unbalanced density). Deterministic given ``seed``;
    the global random state is left as it was.
    """
    if target_source not in EPIG_TARGET_SOURCES:
        raise ValueError(
            f"target_source must be one of {EPIG_TARGET_SOURCES}, got {target_source!r}"
        )
    if not 0 <= initial_labels < sum(counts.values()):
        raise ValueError(
            f"initial_labels must lie in 0..{sum(counts.values()) - 1} (the pool must keep "
            f"points), got {initial_labels}"
        )
    unbalanced = subsample_by_class(y_N, counts, seed=seed)
    labelled_L = torch.tensor(unbalanced[:initial_labels], dtype=torch.long)
    pool_P = torch.tensor(unbalanced[initial_labels:], dtype=torch.long)
    test = (test_x_M_1_H_W, test_y_M)
    settings = {"epochs": epochs, "k": test_k, "num_classes": num_classes, "seed": seed}
    model, initial_accuracy_C = train_and_test(
        x_N_1_H_W[labelled_L], y_N[labelled_L], *test, **settings
    )
    target_T = torch.zeros(0, dtype=torch.long)
    if any(method in EPIG_ACQUISITIONS for method in methods):
        per_class = dict.fromkeys(range(num_classes), targets_per_class)
        if target_source == "balanced":
            outside = sorted(set(range(len(y_N))) - set(unbalanced))
            target_T = torch.tensor(
                subsample_by_class(y_N, per_class, candidates=outside, seed=seed)
            )
        else:
            order = torch.randperm(len(pool_P), generator=torch.Generator().manual_seed(seed))
            target_T = pool_P[order[: num_classes * targets_per_class]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the K masks that score the pool (and EPIG's targets)
        model.redraw_masks()
        log_probs_P_K_C = predict_log_probs(model, x_N_1_H_W[pool_P], k, progress=False)
        # the masks persist until redrawn: sample k is the same network for pool and targets
        target_log_probs = (
            predict_log_probs(model, x_N_1_H_W[target_T], k, progress=False)
            if len(target_T)
            else None
        )
    acquired_indices, acquired_labels, accuracy_C = {}, {}, {}
    for method in methods:
        batch = acquire(
            method,
            log_probs_P_K_C,
            acquisition_size,
            seed=seed,
            num_samples=num_samples,
            target_log_probs_M_K_C=target_log_probs,
        )
        chosen = pool_P[torch.tensor(batch.indices, dtype=torch.long)]
        acquired_indices[method], acquired_labels[method] = chosen, y_N[chosen]
        train_T = torch.cat([labelled_L, chosen])
        _, accuracy_C[method] = train_and_test(x_N_1_H_W[train_T], y_N[train_T], *test, **settings)
    return UnbalancedPoolRun(
        y_N[pool_P], target_T, initial_accuracy_C, acquired_indices, acquired_labels, accuracy_C
    )


def summarise_runs(
    runs: Sequence[UnbalancedPoolRun], rare_classes: Sequence[int]
) -> dict[str, dict[str, torch.Tensor]]:
    """Per row (:data:`INITIAL_ROW`, then each method) and measure, one value per run (seed):

    * ``"balanced"``: the mean per-class accuracy (every class counts the same);
    * ``"pool-like"``: :func:`reweighted_accuracy` with the run's pool class shares;
    * ``"rare"``, ``"common"``: the mean accuracy on the rare and on the other classes;
    * ``"common share"``: the share of the acquired points in the common (over-represented)
      classes (NaN for the initial row, which acquires nothing); for reference, the pool's own
      share is the row ``"pool"`` (this measure only).

    Values are float64 tensors of shape (len(runs),).
    """
    if not runs:
        raise ValueError("no runs to summarise")
    num_classes = len(runs[0].initial_accuracy_C)
    rare = sorted(set(rare_classes))
    common = [c for c in range(num_classes) if c not in rare]
    if not rare or not common:
        raise ValueError(f"rare_classes must be some but not all of 0..{num_classes - 1}")
    common_T = torch.tensor(common)

    def common_share(labels: torch.Tensor) -> float:
        return float(torch.isin(labels, common_T).double().mean())

    rows: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        pool_shares_C = class_shares(run.pool_labels, num_classes)
        by_row = {INITIAL_ROW: (run.initial_accuracy_C, None)} | {
            m: (run.accuracy_C[m], run.acquired_labels[m]) for m in run.accuracy_C
        }
        for row, (accuracy_C, labels) in by_row.items():
            values = rows.setdefault(row, {})
            values.setdefault("balanced", []).append(float(accuracy_C.mean()))
            pool_like = reweighted_accuracy(accuracy_C, pool_shares_C)
            values.setdefault("pool-like", []).append(pool_like)
            values.setdefault("rare", []).append(float(accuracy_C[rare].mean()))
            values.setdefault("common", []).append(float(accuracy_C[common].mean()))
            share = common_share(labels) if labels is not None else float("nan")
            values.setdefault("common share", []).append(share)
        rows.setdefault("pool", {}).setdefault("common share", []).append(
            common_share(run.pool_labels)
        )
    return {
        row: {name: torch.tensor(v, dtype=torch.float64) for name, v in values.items()}
        for row, values in rows.items()
    }


def format_summary(
    summary: Mapping[str, Mapping[str, torch.Tensor]],
    measures: Sequence[str] = ("balanced", "pool-like", "rare", "common", "common share"),
) -> str:
    """:func:`summarise_runs`'s result as a text table: a row per method (display names), a
    column per measure, each cell the mean over the runs in percent with the range after it,
    ``"65.2% (59-72)"`` (the mean alone for one run); blank where a row lacks the measure or
    has NaN (the initial labels acquire nothing)."""
    cells = {
        method_name(row): [_mean_and_range(values.get(measure)) for measure in measures]
        for row, values in summary.items()
    }
    width = max(len(measure) for measure in measures)
    width = max([width] + [len(cell) for row in cells.values() for cell in row])
    name_width = max(len(name) for name in cells)
    lines = [" " * name_width + "".join(f"  {measure:>{width}}" for measure in measures)]
    for name, row in cells.items():
        lines.append(f"{name:<{name_width}}" + "".join(f"  {cell:>{width}}" for cell in row))
    return "\n".join(lines)


def _mean_and_range(values: torch.Tensor | None) -> str:
    if values is None or bool(torch.isnan(values).all()):
        return ""
    mean = f"{float(values.mean()):.1%}"
    if len(values) == 1:
        return mean
    return f"{mean} ({100 * float(values.min()):.0f}-{100 * float(values.max()):.0f})"


@dataclass
class PseudoLabels:
    """Pool positions, the model's predicted labels for them and its confidence ``max_c p(c|x)``,
    most confident first within each predicted class (classes in order)."""

    indices: list[int]
    labels: list[int]
    confidence: list[float]

    def __len__(self) -> int:
        return len(self.indices)

    def accuracy(self, true_labels_N: Sequence[int] | torch.Tensor) -> float:
        """Fraction of pseudo-labels that are right, given the true labels of the whole pool
        (which a real active learner does not have: for evaluation only); NaN when there are
        no pseudo-labels."""
        if not self.indices:
            return float("nan")
        true_N = torch.as_tensor(true_labels_N, dtype=torch.long)
        return float((true_N[self.indices] == torch.tensor(self.labels)).double().mean())


def confident_pseudo_labels(
    log_probs_N_K_C: torch.Tensor,
    *,
    threshold: float = 0.0,
    per_class: int | None = None,
) -> PseudoLabels:
    """The simplest use of unlabelled data: label pool points with the model's own prediction.

    A point qualifies when its predictive confidence ``max_c p(y=c|x)`` (the mean over the K
    samples) is at least ``threshold``; with ``per_class``, only the ``per_class`` most
    confident qualifying points of each *predicted* class are kept, so the pseudo-labels do not
    pile up on the classes the model already knows best. Ties go to the lower index.
    """
    check_log_probs(log_probs_N_K_C)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if per_class is not None and per_class < 0:
        raise ValueError(f"per_class must be >= 0 or None, got {per_class}")
    confidence_N, predicted_N = predictive_log_probs(log_probs_N_K_C).exp().max(dim=1)
    indices, labels, confidence = [], [], []
    for c in range(log_probs_N_K_C.shape[2]):
        of_class = torch.nonzero((predicted_N == c) & (confidence_N >= threshold)).flatten()
        order = torch.sort(confidence_N[of_class], descending=True, stable=True).indices
        kept = of_class[order][:per_class] if per_class is not None else of_class[order]
        indices += kept.tolist()
        labels += [c] * len(kept)
        confidence += confidence_N[kept].tolist()
    return PseudoLabels(indices, labels, confidence)


@dataclass
class PseudoLabelRound:
    """One round of pseudo-labelling: the model trained on the labels alone, the pseudo-labels it
    gave, and the per-class test accuracy before and after retraining with them."""

    model: BayesianModule
    pseudo: PseudoLabels
    accuracy_before_C: torch.Tensor  # noqa: N815 (shape-suffixed names are the house style)
    accuracy_after_C: torch.Tensor  # noqa: N815


def pseudo_label_round(
    x_L_1_H_W: torch.Tensor,
    y_L: torch.Tensor,
    x_U_1_H_W: torch.Tensor,
    test_x_M_1_H_W: torch.Tensor,
    test_y_M: torch.Tensor,
    *,
    epochs: int,
    k: int = 10,
    threshold: float = 0.0,
    per_class: int | None = None,
    num_classes: int = 10,
    seed: int = 0,
) -> PseudoLabelRound:
    """Train on the labelled set (:func:`train_and_test`), pseudo-label the unlabelled images
    ``x_U`` with :func:`confident_pseudo_labels` (predictions from ``k`` MC-dropout samples),
    train a fresh model on labels and pseudo-labels together, and test both models.
    ``pseudo.indices`` index ``x_U``. Deterministic given ``seed``.
    """
    model, before_C = train_and_test(
        x_L_1_H_W,
        y_L,
        test_x_M_1_H_W,
        test_y_M,
        epochs=epochs,
        k=k,
        num_classes=num_classes,
        seed=seed,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the masks that score the unlabelled images
        model.redraw_masks()
        log_probs_U_K_C = predict_log_probs(model, x_U_1_H_W, k, progress=False)
    pseudo = confident_pseudo_labels(log_probs_U_K_C, threshold=threshold, per_class=per_class)
    chosen = torch.tensor(pseudo.indices, dtype=torch.long)
    x_T_1_H_W = torch.cat([x_L_1_H_W, x_U_1_H_W[chosen]])
    y_T = torch.cat([y_L, torch.tensor(pseudo.labels, dtype=torch.long)])
    _, after_C = train_and_test(
        x_T_1_H_W,
        y_T,
        test_x_M_1_H_W,
        test_y_M,
        epochs=epochs,
        k=k,
        num_classes=num_classes,
        seed=seed,
    )
    return PseudoLabelRound(model, pseudo, before_C, after_C)


def batch_information_by_k(log_probs_R_n_K_C: torch.Tensor, ks: Sequence[int]) -> torch.Tensor:
    """BatchBALD's score ``I[y_1..y_n; w]`` of one batch of n points, computed exactly, for R
    independent draws of the posterior samples and each K in ``ks`` (the first K samples of
    each draw): shape (len(ks), R), float64.

    The spread over R shows the noise of scoring with K samples; the mean shows the bias (the
    score cannot exceed ``log K``). ``log_probs_R_n_K_C`` is e.g.
    :func:`bbal_tutorial.lessons.dropout.repeated_log_probs` of the batch with ``masks="redrawn"``.
    """
    if log_probs_R_n_K_C.dim() != 4:
        raise ValueError(
            "log_probs_R_n_K_C must be 4-D (R draws, n points, K samples, C classes); got shape "
            f"{tuple(log_probs_R_n_K_C.shape)}"
        )
    K_max = log_probs_R_n_K_C.shape[2]
    bad = [k for k in ks if not 1 <= k <= K_max]
    if bad:
        raise ValueError(f"every K must lie in 1..{K_max} (the samples available), got {bad}")
    return torch.tensor(
        [[batch_mutual_information(draw[:, :k]) for draw in log_probs_R_n_K_C] for k in ks],
        dtype=torch.float64,
    )


def plot_class_shares(
    pool_shares_C: Any,
    acquired_shares: Mapping[str, Any],
    ax: Axes | None = None,
    *,
    highlight: Sequence[int] = (),
    class_names: Sequence[str] | None = None,
    ratio_ax: Axes | None = None,
) -> Axes:
    """Per class: its share of the pool (white, hatched: a reference, no method) next to its
    share of each method's acquired points (``acquired_shares[method]``, shape (C,), in the
    method's colour); classes in ``highlight`` (e.g. the rare ones) get a shaded background.

    Rare classes' bars are too short to compare by eye, so the same numbers are also drawn as
    :func:`plot_oversampling_ratios` (acquired share / pool share, log scale) on ``ratio_ax``.
    Without ``ax`` a figure with both panels is made, the ratios under the shares (same classes
    above each other), and the shares panel is left as matplotlib's current axes (so
    ``plt.title`` titles the figure's top). With ``ax`` and no ``ratio_ax``, only the shares
    are drawn. Returns the shares panel.
    """
    if ax is None:
        _, (ax, ratio_ax) = plt.subplots(
            2, 1, figsize=(9, 7), sharex=True, height_ratios=(1, 1.1), layout="constrained"
        )
        plt.sca(ax)
    pool = _as_numpy(pool_shares_C)
    C = len(pool)
    names = list(class_names) if class_names is not None else [str(c) for c in range(C)]
    for c in highlight:
        ax.axvspan(c - 0.45, c + 0.45, color=HIGHLIGHT_COLOUR, alpha=0.5, linewidth=0)
    shares = {"pool": pool} | {method_name(m): _as_numpy(s) for m, s in acquired_shares.items()}
    colours = {method_name(m): METHOD_COLOURS.get(m) for m in acquired_shares}
    plot_grouped_bars(ax, shares, names, colours, styles={"pool": REFERENCE_BAR_STYLE})
    ax.set_xlabel("class" + (" (shaded: rare in the pool)" if len(highlight) else ""))
    ax.set_ylabel("share of the points")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize="small")
    if ratio_ax is not None:
        plot_oversampling_ratios(
            pool_shares_C, acquired_shares, ratio_ax, highlight=highlight, class_names=names
        )
        # class names and the axis label under both panels (sharex hides the top one's)
        ax.tick_params(axis="x", labelbottom=True)
        ax.xaxis.label.set_visible(True)
    return ax


def plot_oversampling_ratios(
    pool_shares_C: Any,
    acquired_shares: Mapping[str, Any],
    ax: Axes | None = None,
    *,
    highlight: Sequence[int] = (),
    class_names: Sequence[str] | None = None,
) -> Axes:
    """Per class and method: the class's share of the acquired points over its share of the
    pool (:func:`oversampling_ratios` from shares), on a log scale around 1, the pool's own share
    (what random acquisition gets on average; dashed). A stem joins each ratio to 1, so
    over-sampled classes stand above the line and under-sampled ones hang below; a class a
    method never acquired (ratio 0) is an open triangle at the bottom. With ``highlight`` (the
    rare classes), each method's legend entry gives the rare classes' total share relative to
    theirs in the pool ("rare classes at 3.2× their pool share").
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    pool = _as_numpy(pool_shares_C)
    C = len(pool)
    names = list(class_names) if class_names is not None else [str(c) for c in range(C)]
    ratios = {m: _shares_ratio(_as_numpy(s), pool) for m, s in acquired_shares.items()}
    finite = np.concatenate([r[np.isfinite(r) & (r > 0)] for r in ratios.values()] + [[1.0]])
    low, high = min(finite.min(), 1.0) / 2, max(finite.max(), 1.0) * 1.6
    floor = low * 1.25  # where a ratio of 0 is drawn
    for c in highlight:
        ax.axvspan(c - 0.45, c + 0.45, color=HIGHLIGHT_COLOUR, alpha=0.5, linewidth=0)
    ax.axhline(1, color="black", linestyle="--", linewidth=1, label="pool share (×1)")
    width = 0.8 / max(len(ratios), 1)
    rare = list(highlight)
    for i, (method, ratio_C) in enumerate(ratios.items()):
        colour = METHOD_COLOURS.get(method)
        x_C = np.arange(C) + (i - (len(ratios) - 1) / 2) * width
        label = method_name(method)
        if rare and pool[rare].sum() > 0:
            rare_ratio = float(_as_numpy(acquired_shares[method])[rare].sum() / pool[rare].sum())
            label += f": rare classes at {rare_ratio:.1f}× their pool share"
        seen = np.isfinite(ratio_C) & (ratio_C > 0)
        ax.vlines(x_C[seen], 1, ratio_C[seen], color=colour, linewidth=2)
        ax.scatter(x_C[seen], ratio_C[seen], color=colour, s=30, zorder=3, label=label)
        none = ratio_C == 0
        ax.scatter(
            x_C[none],
            np.full(none.sum(), floor),
            marker="v",
            s=30,
            zorder=3,
            facecolor="white",
            edgecolor=colour,
            linewidth=1.2,
        )
    if any(bool((r == 0).any()) for r in ratios.values()):
        ax.scatter([], [], marker="v", facecolor="white", edgecolor="black", label="none acquired")
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    # ticks at powers of 2 (halving, doubling), labelled as factors
    ax.yaxis.set_major_locator(LogLocator(base=2, numticks=12))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}×"))
    ax.set_xticks(np.arange(C), names)
    ax.set_xlim(-0.6, C - 0.4)
    ax.set_xlabel("class" + (" (shaded: rare in the pool)" if len(highlight) else ""))
    ax.set_ylabel("acquired share / pool share")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize="small", loc="best")
    return ax


def _shares_ratio(acquired_C: np.ndarray, pool_C: np.ndarray) -> np.ndarray:
    """``acquired_C / pool_C``, NaN where the pool has none of the class."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pool_C > 0, acquired_C / np.where(pool_C > 0, pool_C, 1.0), np.nan)


def plot_information_by_k(ks: Sequence[int], values_S_R: Any, ax: Axes | None = None) -> Axes:
    """BatchBALD's score of one batch for each number K of posterior samples: every draw of the
    K samples as a dot, their mean with a one-standard-deviation bar, and the ceiling ``log K``.

    ``values_S_R`` is :func:`batch_information_by_k`'s result.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ks_S = np.asarray(ks, dtype=np.float64)
    values = _as_numpy(values_S_R)
    rng = np.random.default_rng(0)  # jitter only
    for k, row in zip(ks_S, values, strict=True):
        jitter = k * np.exp(rng.uniform(-0.08, 0.08, len(row)))
        ax.scatter(jitter, row, s=10, color=METHOD_COLOURS["batchbald"], alpha=0.5)
    ax.errorbar(
        ks_S,
        values.mean(axis=1),
        yerr=values.std(axis=1),
        color="black",
        marker="o",
        capsize=4,
        label=f"mean ± std over {plural(values.shape[1], 'draw')} of the K samples",
    )
    ax.plot(
        ks_S, np.log(ks_S), color="black", linestyle="--", linewidth=1, label="ceiling $\\log K$"
    )
    ax.set_xscale("log")
    ax.set_xticks(ks_S, [str(int(k)) for k in ks_S])
    ax.set_xlabel("posterior samples $K$")
    ax.set_ylabel(r"$\mathbb{I}(y_1,\ldots,y_n;\boldsymbol{\omega})$ (nats)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax


# --------------------------------------------------------------------------------------------------
# EPIG's information diagram: y, y* and w


def epig_regions(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """The seven regions of the information diagram of a pool point's label ``y``, a target's
    label ``y*`` and the parameters ``w`` (rows 0 and 1 of ``log_probs_2_K_C``), in nats.

    :func:`~bbal_tutorial.information.three_variable_regions` with the names ``y``, ``y*``,
    ``w`` (keys such as ``"I[y;y*;w]"``). BALD is ``I[y;w] = I[y;w|y*] + I[y;y*;w]``, EPIG for
    this one target ``I[y;y*] = I[y;y*|w] + I[y;y*;w]``, and ``I[y;y*|w] = 0`` (the labels are
    independent given w): EPIG is the centre, the part of BALD that the target shares.
    """
    regions = three_variable_regions(log_probs_2_K_C)
    return {key.replace("y1", "y").replace("y2", "y*"): value for key, value in regions.items()}


#: The regions each score adds up (:func:`plot_bald_and_epig_diagrams`).
_SCORE_REGIONS = {
    "BALD": ("I[y;w|y*]", "I[y;y*;w]"),
    "EPIG": ("I[y;y*;w]", "I[y;y*|w]"),
}


def plot_bald_and_epig_diagrams(log_probs_2_K_C: torch.Tensor, title: str | None = None) -> Figure:
    """Two copies of the (schematic) information diagram of ``y``, ``y*`` and ``w``
    (:func:`epig_regions`, drawn by
    :func:`~bbal_tutorial.lessons.double_counting.plot_three_variable_diagram`): on the left
    BALD's regions ``I[y;w]`` shaded, on the right EPIG's ``I[y;y*]``, each titled with its total.
    """
    regions = epig_regions(log_probs_2_K_C)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
    for ax, (score, keys) in zip(axes, _SCORE_REGIONS.items(), strict=True):
        total = sum(regions[key] for key in keys)
        formula = (
            r"$\mathbb{I}(y;\boldsymbol{\omega})$" if score == "BALD" else r"$\mathbb{I}(y;y^*)$"
        )
        plot_three_variable_diagram(
            regions,
            names=("y", "y*", "w"),
            ax=ax,
            counts=dict.fromkeys(keys, 1),
            title=f"{score} = {formula} = {total:.2f} nats (shaded)",
        )
        for text in ax.texts:  # the course's notation: y* as a superscript star
            text.set_text(text.get_text().replace("y*", "y^*"))
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
