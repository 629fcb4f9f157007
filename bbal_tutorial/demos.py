"""Small, fast computations behind the intuition notebooks (02 BALD vs BatchBALD, 03 consistent
MC dropout).

Three groups:

* **Setup** -- a Bayesian MNIST CNN trained on a handful of labels from the offline MNIST sample,
  and a small pool with near-duplicate copies of each image (Repeated MNIST in miniature):
  :func:`setup_duplicate_demo`.
* **Pure maths on** ``log_probs_N_K_C`` (N points, K posterior samples, C classes), exact and in
  float64: the joint mutual information of a batch, the exhaustive best batch of a tiny pool,
  submodularity gaps, repeated sampled joint-entropy estimates, BatchBALD scores of every
  candidate given a chosen set, and a knob that shrinks the disagreement between samples.
* **Mask experiments** -- the same candidates scored many times with consistent or independent
  MC-dropout masks: :func:`repeated_log_probs` and :func:`spread_summary`.

Notation as in the BatchBALD blog post: ``I[y_1..y_b; w] = H[y_1..y_b] - sum_i E_w H[y_i|w]``,
``p(y_1..y_b) = 1/K sum_k prod_i p(y_i|x_i,w_k)``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from bbal_tutorial.acquisition import get_bald_batch, get_batchbald_batch
from bbal_tutorial.data import ActiveLearningData, load_dataset, make_repeated_mnist, make_splits
from bbal_tutorial.information import (
    check_log_probs,
    conditional_entropy,
    entropy_given_configurations,
    exact_configurations,
    joint_entropy_exact,
    joint_entropy_sampled,
    mutual_information,
    predictive_log_probs,
)
from bbal_tutorial.loop import ExperimentConfig, evaluate, train_model
from bbal_tutorial.models import BayesianMNISTCNN, BayesianModule, predict_log_probs

__all__ = [
    "MASK_MODES",
    "DuplicatePool",
    "DemoSetup",
    "GreedyComparison",
    "make_duplicate_pool",
    "train_small_model",
    "setup_duplicate_demo",
    "count_repeats",
    "copies_of",
    "copies_of_chosen",
    "tiny_pool_indices",
    "issue_example_log_probs",
    "batch_mutual_information",
    "all_batch_scores",
    "exhaustive_best_batch",
    "compare_greedy_to_exhaustive",
    "submodularity_gaps",
    "sampled_entropy_estimates",
    "shrink_disagreement",
    "pair_scores_by_disagreement",
    "batchbald_scores_given",
    "repeated_log_probs",
    "repeated_candidate_scores",
    "spread_summary",
    "prediction_correlation",
    "coldness_sweep",
]

#: How :func:`repeated_log_probs` draws the MC-dropout masks of each repetition.
MASK_MODES = ("fixed", "redrawn", "independent")

#: ``1 - 1/e``: greedy maximisation of a monotone submodular f with ``f({}) = 0`` reaches at least
#: this fraction of the best subset's value (Nemhauser, Wolsey & Fisher, 1978).
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e

# All subsets of a pool are enumerated by :func:`all_batch_scores`; beyond this many the notebook
# would wait minutes, which is the point the exhaustive search makes.
_MAX_SUBSETS = 20_000


# --------------------------------------------------------------------------------------------------
# setup: a small model and a pool with near-duplicates


@dataclass
class DuplicatePool:
    """A pool of ``num_copies`` noisy copies of each of O original images (N = O · copies).

    ``original_N[i]`` is the original (0..O-1) that pool image i is a copy of; copy r of every
    original occupies rows ``r·O .. (r+1)·O - 1`` (as in :func:`~bbal_tutorial.data.
    make_repeated_mnist`). Images are normalised; ``mean``/``std`` undo that for display.
    """

    # (N815 is silenced: shape-suffixed names are the house style)
    x_N_1_H_W: torch.Tensor  # noqa: N815
    y_N: torch.Tensor  # noqa: N815
    original_N: torch.Tensor  # noqa: N815
    source_indices_O: torch.Tensor  # noqa: N815 (the training-set index of each original)
    mean: float
    std: float

    def __len__(self) -> int:
        return len(self.y_N)

    def images(self) -> torch.Tensor:
        """Pixel intensities in [0, 1] for display, shape (N, H, W)."""
        return (self.x_N_1_H_W[:, 0] * self.std + self.mean).clamp(0, 1)


@dataclass
class DemoSetup:
    """What both intuition notebooks start from: data, a trained model and a duplicate pool."""

    data: ActiveLearningData
    model: BayesianModule
    labelled_indices: list[int]
    pool: DuplicatePool
    test_accuracy: float
    train_seconds: float

    def describe(self) -> str:
        return (
            f"model trained on {len(self.labelled_indices)} labelled images in "
            f"{self.train_seconds:.1f} s, test accuracy {self.test_accuracy:.1%}; pool of "
            f"{len(self.pool)} images = {len(self.pool.source_indices_O)} originals x "
            f"{len(self.pool) // max(1, len(self.pool.source_indices_O))} noisy copies"
        )


def make_duplicate_pool(
    data: ActiveLearningData,
    candidate_indices: Sequence[int],
    *,
    num_originals: int,
    num_copies: int = 3,
    noise_std: float = 0.1,
    seed: int = 0,
) -> DuplicatePool:
    """``num_originals`` random training images from ``candidate_indices``, each repeated
    ``num_copies`` times with its own fixed Gaussian noise (std ``noise_std``, on normalised
    pixels) -- the BatchBALD paper's Repeated MNIST recipe on a pool small enough to look at.
    """
    if not 1 <= num_originals <= len(candidate_indices):
        raise ValueError(
            f"num_originals must be in 1..{len(candidate_indices)}, got {num_originals}"
        )
    generator = torch.Generator().manual_seed(seed)
    candidates_P = torch.as_tensor(list(candidate_indices), dtype=torch.long)
    chosen_O = candidates_P[torch.randperm(len(candidates_P), generator=generator)[:num_originals]]
    x_N_1_H_W, y_N, original_N = make_repeated_mnist(
        data.train_x_N_1_H_W[chosen_O],
        data.train_y_N[chosen_O],
        num_repeats=num_copies,
        noise_std=noise_std,
        seed=seed,
    )
    return DuplicatePool(x_N_1_H_W, y_N, original_N, chosen_O, data.mean, data.std)


def train_small_model(
    x_L_1_H_W: torch.Tensor,
    y_L: torch.Tensor,
    *,
    epochs: int = 20,
    samples_per_epoch: int = 640,
    num_classes: int = 10,
    seed: int = 0,
) -> BayesianMNISTCNN:
    """A fresh :class:`BayesianMNISTCNN` trained with the course's loop (Adam, lr 1e-3, batch 64,
    epochs of ``samples_per_epoch`` draws with replacement) for exactly ``epochs`` epochs.

    No validation set and no early stopping: with ~20 labels there is nothing to spare for one,
    and a fixed schedule keeps the notebooks fast and deterministic.
    """
    torch.manual_seed(seed)  # the initial weights
    model = BayesianMNISTCNN(num_classes=num_classes)
    config = ExperimentConfig(
        dataset="mnist", max_epochs=epochs, samples_per_epoch=samples_per_epoch
    )
    train_model(
        model,
        x_L_1_H_W,
        y_L,
        x_L_1_H_W[:0],  # empty validation set: train for `epochs` epochs
        y_L[:0],
        config,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed),
    )
    model.eval()
    return model


def setup_duplicate_demo(
    *,
    num_originals: int = 40,
    num_copies: int = 3,
    noise_std: float = 0.1,
    initial_per_class: int = 2,
    epochs: int = 20,
    samples_per_epoch: int = 640,
    test_size: int = 500,
    test_k: int = 10,
    seed: int = 0,
    data: ActiveLearningData | None = None,
) -> DemoSetup:
    """Train the MNIST CNN on ``initial_per_class`` labels per class of the offline MNIST sample
    and build a :class:`DuplicatePool` from the other training images.

    ``test_size`` test images (K = ``test_k``) give the accuracy quoted in the notebooks. About
    10-20 s on one CPU core with the defaults.
    """
    if data is None:
        data = load_dataset("mnist", source="sample")
    split = make_splits(
        data.train_y_N,
        num_classes=data.num_classes,
        initial_per_class=initial_per_class,
        validation_size=0,
        seed=seed,
    )
    labelled_L = torch.tensor(split.initial_indices, dtype=torch.long)
    start = time.perf_counter()
    model = train_small_model(
        data.train_x_N_1_H_W[labelled_L],
        data.train_y_N[labelled_L],
        epochs=epochs,
        samples_per_epoch=samples_per_epoch,
        num_classes=data.num_classes,
        seed=seed,
    )
    train_seconds = time.perf_counter() - start
    accuracy, _ = evaluate(
        model,
        data.test_x_M_1_H_W[:test_size],
        data.test_y_M[:test_size],
        test_k,
        device=torch.device("cpu"),
    )
    pool = make_duplicate_pool(
        data,
        split.pool_indices,
        num_originals=num_originals,
        num_copies=num_copies,
        noise_std=noise_std,
        seed=seed,
    )
    model.redraw_masks()
    return DemoSetup(data, model, split.initial_indices, pool, accuracy, train_seconds)


def count_repeats(indices: Sequence[int], original_N: torch.Tensor) -> int:
    """How many picks are copies of an original image picked earlier in the same batch."""
    seen: set[int] = set()
    repeats = 0
    for index in indices:
        original = int(original_N[index])
        repeats += original in seen
        seen.add(original)
    return repeats


def copies_of(index: int, original_N: torch.Tensor) -> list[int]:
    """The other pool indices that are copies of the same original image as ``index``."""
    original = int(original_N[index])
    return [int(i) for i in torch.nonzero(original_N == original).flatten() if int(i) != index]


def copies_of_chosen(chosen: Sequence[int], original_N: torch.Tensor) -> torch.Tensor:
    """Boolean mask over the pool: copies of a chosen image that are not chosen themselves."""
    chosen_originals = original_N[list(chosen)]
    flagged_N = torch.isin(original_N, chosen_originals)
    flagged_N[list(chosen)] = False
    return flagged_N


def tiny_pool_indices(
    log_probs_N_K_C: torch.Tensor,
    original_N: torch.Tensor,
    *,
    num_originals: int = 4,
    copies: int = 2,
) -> list[int]:
    """A tiny pool for exhaustive search: ``copies`` copies of each of the ``num_originals``
    originals with the highest mean BALD score -- informative points with built-in redundancy.
    Ordered by original (best first), then by copy.
    """
    bald_N = mutual_information(log_probs_N_K_C)
    originals = torch.unique(original_N)
    mean_bald = torch.stack([bald_N[original_N == o].mean() for o in originals])
    best = originals[torch.argsort(mean_bald, descending=True, stable=True)[:num_originals]]
    return [int(i) for o in best for i in torch.nonzero(original_N == o).flatten()[:copies]]


# --------------------------------------------------------------------------------------------------
# the joint mutual information of a batch, and the exhaustive best batch


def batch_mutual_information(log_probs_n_K_C: torch.Tensor) -> float:
    """BatchBALD's score of a batch, exactly: ``I[y_1..y_n; w] = H[y_1..y_n] - sum_i E_w H[y_i|w]``.

    The joint entropy enumerates all C^n label configurations (see
    :func:`~bbal_tutorial.information.joint_entropy_exact`); ``n = 0`` gives 0.
    """
    check_log_probs(log_probs_n_K_C)
    if log_probs_n_K_C.shape[0] == 0:
        return 0.0
    joint = joint_entropy_exact(log_probs_n_K_C)
    return float(joint - conditional_entropy(log_probs_n_K_C).sum())


def all_batch_scores(
    log_probs_N_K_C: torch.Tensor, batch_size: int
) -> tuple[list[tuple[int, ...]], torch.Tensor]:
    """``I[y_S; w]`` of every subset S of ``batch_size`` pool points, by brute force.

    Returns the subsets (sorted index tuples, in ``itertools.combinations`` order) and their
    scores, shape (number of subsets,), float64. Refuses more than 20,000 subsets: the search is
    exponential, which is why BatchBALD is greedy.
    """
    check_log_probs(log_probs_N_K_C)
    N = log_probs_N_K_C.shape[0]
    if not 0 <= batch_size <= N:
        raise ValueError(f"batch_size must be in 0..{N}, got {batch_size}")
    if math.comb(N, batch_size) > _MAX_SUBSETS:
        raise ValueError(
            f"{math.comb(N, batch_size):,} subsets of {batch_size} out of {N} points; "
            f"exhaustive search is limited to {_MAX_SUBSETS:,}"
        )
    subsets = list(itertools.combinations(range(N), batch_size))
    scores_S = torch.tensor(
        [batch_mutual_information(log_probs_N_K_C[list(s)]) for s in subsets],
        dtype=torch.float64,
    )
    return subsets, scores_S


def exhaustive_best_batch(
    log_probs_N_K_C: torch.Tensor, batch_size: int
) -> tuple[tuple[int, ...], float]:
    """The subset of ``batch_size`` points with the largest ``I[y_S; w]`` and that score.

    Ties go to the first subset in ``itertools.combinations`` order.
    """
    subsets, scores_S = all_batch_scores(log_probs_N_K_C, batch_size)
    best = int(torch.argmax(scores_S))
    return subsets[best], float(scores_S[best])


@dataclass
class GreedyComparison:
    """For one batch size: every subset's score, the best, greedy BatchBALD's and top-b BALD's."""

    batch_size: int
    subset_scores: torch.Tensor
    best_indices: tuple[int, ...]
    best_score: float
    greedy_indices: list[int]
    greedy_score: float
    bald_indices: list[int]
    bald_score: float  # I[y_S; w] of BALD's batch (not its sum of individual scores)

    @property
    def ratio(self) -> float:
        """``greedy / best`` (1 when the best score is 0)."""
        return self.greedy_score / self.best_score if self.best_score > 0 else 1.0


def compare_greedy_to_exhaustive(
    log_probs_N_K_C: torch.Tensor, batch_sizes: Sequence[int]
) -> list[GreedyComparison]:
    """Greedy BatchBALD and top-b BALD against the exhaustive best batch, per batch size.

    Greedy runs exactly (``num_samples`` >= C^(b-1), so no configuration is sampled) and its
    batch is re-scored with :func:`batch_mutual_information`, like every other batch here.
    """
    N, K, C = log_probs_N_K_C.shape
    comparisons = []
    for b in batch_sizes:
        subsets, scores_S = all_batch_scores(log_probs_N_K_C, b)
        best = int(torch.argmax(scores_S))
        exact_budget = max(1, C ** max(b - 1, 0))
        greedy = get_batchbald_batch(
            log_probs_N_K_C, b, num_samples=exact_budget, matmul_dtype=torch.float64
        )
        bald = get_bald_batch(log_probs_N_K_C, b)
        comparisons.append(
            GreedyComparison(
                batch_size=b,
                subset_scores=scores_S,
                best_indices=subsets[best],
                best_score=float(scores_S[best]),
                greedy_indices=greedy.indices,
                greedy_score=batch_mutual_information(log_probs_N_K_C[greedy.indices]),
                bald_indices=bald.indices,
                bald_score=batch_mutual_information(log_probs_N_K_C[bald.indices]),
            )
        )
    return comparisons


def submodularity_gaps(log_probs_N_K_C: torch.Tensor, max_set_size: int = 2) -> torch.Tensor:
    """Diminishing returns, checked on every case of a tiny pool.

    For every set A with ``|A| <= max_set_size`` and every pair ``x != y`` outside A::

        gap = [f(A ∪ {x,y}) - f(A)] - [f(A ∪ {x}) - f(A)] - [f(A ∪ {y}) - f(A)]

    with ``f(S) = I[y_S; w]``. f is submodular iff every gap is <= 0 (the blog's definition);
    returns all gaps, float64. Each f value is computed once (a cache keyed by the sorted set).
    """
    N = log_probs_N_K_C.shape[0]
    cache: dict[tuple[int, ...], float] = {}

    def f(subset: tuple[int, ...]) -> float:
        key = tuple(sorted(subset))
        if key not in cache:
            cache[key] = batch_mutual_information(log_probs_N_K_C[list(key)])
        return cache[key]

    gaps = []
    for size in range(max_set_size + 1):
        for A in itertools.combinations(range(N), size):
            rest = [i for i in range(N) if i not in A]
            for x, y in itertools.combinations(rest, 2):
                base = f(A)
                gaps.append(f(A + (x, y)) - f(A + (x,)) - f(A + (y,)) + base)
    return torch.tensor(gaps, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# the sampled joint entropy, and the duplicate-pick surprise


def sampled_entropy_estimates(
    log_probs_n_K_C: torch.Tensor,
    num_samples_S: Sequence[int],
    repeats: int,
    *,
    seed: int = 0,
) -> torch.Tensor:
    """``repeats`` independent sampled estimates of ``H[y_1..y_n]`` for each budget M in
    ``num_samples_S``: shape (len(num_samples_S), repeats), float64.

    The paper's estimator (:func:`~bbal_tutorial.information.joint_entropy_sampled`): M label
    configurations of the first n-1 points drawn from ``p(y_1..y_{n-1})``, the last point's C
    labels summed exactly. One seeded generator drives all draws, so the table is reproducible.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    generator = torch.Generator().manual_seed(seed)
    estimates = [
        [
            float(joint_entropy_sampled(log_probs_n_K_C, M, generator=generator))
            for _ in range(repeats)
        ]
        for M in num_samples_S
    ]
    return torch.tensor(estimates, dtype=torch.float64)


def issue_example_log_probs() -> torch.Tensor:
    """The duplicate-pick surprise as reported on a public BatchBALD implementation (K = 2
    samples, C = 4 classes): points 0 and 1 are identical, point 2 differs and has a slightly
    lower BALD score. Greedy BatchBALD with b = 2 picks the two identical points.
    Returns ``log_probs_3_K_C`` (float64).
    """
    probs_3_K_C = torch.tensor(
        [
            [[0.1, 0.2, 0.3, 0.4], [0.15, 0.15, 0.3, 0.4]],
            [[0.1, 0.2, 0.3, 0.4], [0.15, 0.15, 0.3, 0.4]],
            [[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.16, 0.14]],
        ],
        dtype=torch.float64,
    )
    return probs_3_K_C.log()


def shrink_disagreement(log_probs_N_K_C: torch.Tensor, scale: float) -> torch.Tensor:
    """Move every sample's prediction towards the point's predictive distribution::

        p'(y | x, w_k) = p(y | x) + scale · (p(y | x, w_k) - p(y | x)),   0 <= scale <= 1

    ``scale = 1`` leaves the predictions unchanged, ``scale = 0`` makes all samples agree (BALD 0).
    The predictive ``p(y|x)`` stays the same; BALD shrinks roughly like ``scale²`` -- a model that
    has learnt more and disagrees less. Returns float64 log-probabilities.
    """
    if not 0.0 <= scale <= 1.0:
        raise ValueError(f"scale must lie in [0, 1], got {scale}")
    check_log_probs(log_probs_N_K_C)
    probs_N_K_C = log_probs_N_K_C.double().exp()
    predictive_N_1_C = predictive_log_probs(log_probs_N_K_C).exp()[:, None, :]
    mixed_N_K_C = predictive_N_1_C + scale * (probs_N_K_C - predictive_N_1_C)
    mixed_N_K_C = mixed_N_K_C.clamp_min(0)  # rounding only: a convex mixture is >= 0
    return (mixed_N_K_C / mixed_N_K_C.sum(-1, keepdim=True)).log()


def pair_scores_by_disagreement(
    log_probs_N_K_C: torch.Tensor,
    pairs: dict[str, tuple[int, int]],
    scales: Sequence[float],
) -> dict[str, dict[str, torch.Tensor]]:
    """For each named pair (i, j) and each scale of :func:`shrink_disagreement`:

    * ``"joint"``: BatchBALD's ``I[y_i, y_j; w]``;
    * ``"bald sum"``: top-b BALD's ``I[y_i; w] + I[y_j; w]``;
    * ``"overlap"``: their difference ``I[y_i; y_j]``, the information the two labels share
      (what BALD double-counts; >= 0 because the labels are independent given w).

    Returns ``{name: {quantity: tensor of len(scales)}}``, float64.
    """
    result = {name: {"joint": [], "bald sum": []} for name in pairs}
    for scale in scales:
        shrunk_N_K_C = shrink_disagreement(log_probs_N_K_C, scale)
        for name, (i, j) in pairs.items():
            pair_2_K_C = shrunk_N_K_C[[i, j]]
            bald_N = batchbald_scores_given(pair_2_K_C, [])
            result[name]["joint"].append(batch_mutual_information(pair_2_K_C))
            result[name]["bald sum"].append(float(bald_N.sum()))
    out = {}
    for name, values in result.items():
        joint = torch.tensor(values["joint"], dtype=torch.float64)
        bald_sum = torch.tensor(values["bald sum"], dtype=torch.float64)
        out[name] = {"joint": joint, "bald sum": bald_sum, "overlap": bald_sum - joint}
    return out


def batchbald_scores_given(log_probs_N_K_C: torch.Tensor, chosen: Sequence[int]) -> torch.Tensor:
    """BatchBALD's score of adding each candidate x to the chosen set S, exactly::

        I[y_S, y_x; w] = H[y_S, y_x] - sum_{j in S} E_w H[y_j|w] - E_w H[y_x|w]

    for every pool point x, shape (N,), float64 (the greedy step's argmax is BatchBALD's next
    pick). ``H[y_S, y_x] = H[y_S] + H[y_x | y_S]`` with all C^|S| configurations of S; an empty S
    gives BALD. For x in S the value treats x as a second, independent label of the same point.
    """
    check_log_probs(log_probs_N_K_C)
    chosen = list(chosen)
    K = log_probs_N_K_C.shape[1]
    conditional_N = conditional_entropy(log_probs_N_K_C)
    log_joint_M_K = exact_configurations(log_probs_N_K_C[chosen])
    log_marginal_M = torch.logsumexp(log_joint_M_K, dim=1) - math.log(K)
    probs_M = log_marginal_M.exp()
    possible_M = probs_M > 0  # skip impossible configurations (0 · log 0 = 0)
    entropy_S = -(probs_M[possible_M] * log_marginal_M[possible_M]).sum()
    entropy_N = entropy_S + entropy_given_configurations(log_joint_M_K, probs_M, log_probs_N_K_C)
    return entropy_N - conditional_N - conditional_N[chosen].sum()


# --------------------------------------------------------------------------------------------------
# consistent against independent MC-dropout masks


def repeated_log_probs(
    model: BayesianModule,
    x_N_: torch.Tensor,
    k: int,
    repeats: int,
    *,
    masks: str = "redrawn",
    points_per_batch: int = 1,
    seed: int = 0,
) -> torch.Tensor:
    """Predict the same N points ``repeats`` times with K MC-dropout samples each:
    ``log_probs_R_N_K_C`` (float32).

    ``masks`` says which networks each repetition uses:

    * ``"fixed"``: consistent masks drawn once and kept -- every repetition is bit-identical;
    * ``"redrawn"``: consistent masks redrawn before each repetition -- each repetition is one
      coherent set of K networks shared by all N points (the blog's "different sets of sampled
      model parameters");
    * ``"independent"``: no consistency, fresh masks for every forward batch of
      ``points_per_batch`` points -- points in different batches see unrelated networks.

    Randomness is seeded by ``seed`` inside :func:`torch.random.fork_rng`, so the caller's global
    RNG is untouched. The model's consistency setting is restored afterwards (which also forgets
    its masks).
    """
    if masks not in MASK_MODES:
        raise ValueError(f"masks must be one of {MASK_MODES}, got {masks!r}")
    if repeats < 1 or k < 1 or points_per_batch < 1:
        raise ValueError("repeats, k and points_per_batch must all be at least 1")
    was_consistent = all(layer.consistent for layer in model.mc_dropout_layers())
    runs = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.set_consistent(masks != "independent")  # also forgets the old masks
        for _ in range(repeats):
            if masks == "redrawn":
                model.redraw_masks()
            batch_size = points_per_batch if masks == "independent" else None
            runs.append(predict_log_probs(model, x_N_, k, batch_size=batch_size, progress=False))
    model.set_consistent(was_consistent)
    return torch.stack(runs)


def repeated_candidate_scores(
    log_probs_R_N_K_C: torch.Tensor, chosen: Sequence[int]
) -> dict[str, torch.Tensor]:
    """Per repetition, BALD ``I[y_x; w]`` and BatchBALD ``I[y_S, y_x; w]`` of every point:
    ``{"bald": scores_R_N, "batchbald": scores_R_N}`` (float64; see
    :func:`batchbald_scores_given`).
    """
    bald = [batchbald_scores_given(lp_N_K_C, []) for lp_N_K_C in log_probs_R_N_K_C]
    batchbald = [batchbald_scores_given(lp_N_K_C, chosen) for lp_N_K_C in log_probs_R_N_K_C]
    return {"bald": torch.stack(bald), "batchbald": torch.stack(batchbald)}


def spread_summary(
    scores_R_N: torch.Tensor,
    *,
    groups_N: torch.Tensor | None = None,
    flagged_N: torch.Tensor | None = None,
) -> dict[str, float]:
    """How much repeated scores of the same N candidates move, against how much they differ.

    * ``"spread"``: ``mean_n std_r score[r, n]`` -- one candidate's score across repetitions;
    * ``"relative spread"``: the same after subtracting each repetition's mean over candidates
      -- only this part can change which candidate wins (a shift shared by all candidates, a
      "band" of the blog's figure, cannot);
    * ``"differences"``: ``std_n mean_r score[r, n]`` -- how far apart the candidates are;
    * ``"top pick agreement"``: the fraction of repetitions whose winner (argmax) is the most
      common winner; with ``groups_N`` winners are compared by group (e.g. original image, so
      that two copies of one image count as the same pick);
    * ``"distinct top picks"``: how many different winners (groups) the repetitions have;
    * ``"flagged top picks"`` (with a boolean ``flagged_N``): the fraction of repetitions whose
      winner is flagged (e.g. a copy of an image already in the batch).
    """
    scores_R_N = scores_R_N.double()
    R, N = scores_R_N.shape
    relative_R_N = scores_R_N - scores_R_N.mean(dim=1, keepdim=True)
    winners_R = scores_R_N.argmax(dim=1)
    groups_N = torch.arange(N) if groups_N is None else torch.as_tensor(groups_N).long()
    counts_G = torch.bincount(groups_N[winners_R])
    summary = {
        "spread": float(0.0 if R == 1 else _std_r(scores_R_N).mean()),
        "relative spread": float(0.0 if R == 1 else _std_r(relative_R_N).mean()),
        "differences": float(scores_R_N.mean(dim=0).std(unbiased=False)),
        "top pick agreement": float(counts_G.max()) / R,
        "distinct top picks": int((counts_G > 0).sum()),
    }
    if flagged_N is not None:
        flagged_N = torch.as_tensor(flagged_N, dtype=torch.bool)
        summary["flagged top picks"] = float(flagged_N[winners_R].double().mean())
    return summary


def _std_r(values_R_N: torch.Tensor) -> torch.Tensor:
    """Population standard deviation over repetitions (dim 0)."""
    return values_R_N.std(dim=0, unbiased=False)


def prediction_correlation(log_probs_2_K_C: torch.Tensor, label: int | None = None) -> float:
    """Correlation over the K samples of ``p(y_1 = c | x_1, w_k)`` and ``p(y_2 = c | x_2, w_k)``.

    ``c = label``, by default the most probable class of ``x_1`` under its predictive
    distribution. Close to 1 for near-duplicates scored with the same K networks; close to 0
    when each point saw its own networks -- the correlation BatchBALD's joint entropy needs.
    Returns 0 when either column is constant.
    """
    check_log_probs(log_probs_2_K_C)
    if log_probs_2_K_C.shape[0] != 2:
        raise ValueError(f"need exactly 2 points, got {log_probs_2_K_C.shape[0]}")
    if label is None:
        label = int(predictive_log_probs(log_probs_2_K_C[:1]).argmax())
    probs_2_K = log_probs_2_K_C[:, :, label].double().exp()
    centred_2_K = probs_2_K - probs_2_K.mean(dim=1, keepdim=True)
    norms_2 = centred_2_K.norm(dim=1)
    if bool((norms_2 == 0).any()):
        return 0.0
    return float((centred_2_K[0] * centred_2_K[1]).sum() / (norms_2[0] * norms_2[1]))


# --------------------------------------------------------------------------------------------------
# notebook 06: stochastic batch acquisition between random and top-b


def coldness_sweep(
    log_probs_N_K_C: torch.Tensor,
    original_N: torch.Tensor,
    batch_size: int,
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
    from bbal_tutorial.acquisition import acquire

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    top = get_bald_batch(log_probs_N_K_C, batch_size).indices
    top_set = set(top)

    def stats(batches: Sequence[Sequence[int]]) -> dict[str, float]:
        share = sum(len(top_set.intersection(b)) / len(b) for b in batches) / len(batches)
        rep = sum(count_repeats(b, original_N) for b in batches) / len(batches)
        return {"top_b_share": share, "repeats": rep}

    sweep: dict = {
        "coldness": list(coldnesses),
        "batch_size": batch_size,
        "repeats": repeats,
        "modes": {},
        "top_b": stats([top]),
        "random": stats(
            [
                acquire("random", log_probs_N_K_C, batch_size, seed=seed + r).indices
                for r in range(repeats)
            ]
        ),
    }
    if with_batchbald:
        batch = get_batchbald_batch(log_probs_N_K_C, batch_size, num_samples=num_samples, seed=seed)
        sweep["batchbald"] = stats([batch.indices])
    for mode in modes:
        rows = [
            stats(
                [
                    acquire(
                        f"{mode}-bald", log_probs_N_K_C, batch_size, seed=seed + r, coldness=beta
                    ).indices
                    for r in range(repeats)
                ]
            )
            for beta in coldnesses
        ]
        sweep["modes"][mode] = {key: [row[key] for row in rows] for key in rows[0]}
    return sweep
