"""Acquisition functions: choose which pool points to label next, from ``log_probs_N_K_C``.

Every function takes ``(log_probs_N_K_C, acquisition_size, *, ...)`` and returns a
:class:`CandidateBatch` with pool indices in selection order. Information quantities are
float64 (see :mod:`bbal_tutorial.information`); computation happens on the input's device.

* ``random``             uniformly without replacement (scores are all 0)
* ``max-entropy``        top-b of ``H[y]``
* ``variation-ratios``   top-b of ``1 - max_c p(y=c|x)``
* ``mean-std``           top-b of ``1/C sum_c std_k p(y=c|x,w_k)``
* ``bald``               top-b of ``I[y;w]`` (summing scores double-counts shared information)
* ``batchbald``          greedy ``argmax_x I[y_S, y_x; w]``; scores are the cumulative joint MI
* ``power-bald`` / ``softmax-bald`` / ``softrank-bald``: stochastic batch acquisition (Kirsch
  et al., TMLR 2023), sampling b points without replacement with ``p ∝ score^β``,
  ``p ∝ exp(β·score)`` or ``p ∝ rank^-β`` via Gumbel-top-k.
* ``epig``               top-b of EPIG, ``E_{x*} I[y; y* | x, x*]`` (Bickford Smith et al., 2023):
  information about the labels of M target inputs x* instead of about w
* ``power-epig``         the power mode above with EPIG scores, ``p ∝ EPIG^β``

The EPIG methods need the targets' predictions under the same K posterior samples as the pool,
``target_log_probs_M_K_C``; the other methods take no targets.

Ties go to the lowest pool index. Randomness comes from a private ``torch.Generator`` seeded with
``seed`` (fresh entropy when ``None``); torch's global RNG is never touched.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import torch

from bbal_tutorial.information import (
    DEFAULT_MEMORY_BUDGET,
    ChosenConfigurations,
    check_log_probs,
    conditional_entropy,
    entropy,
    epig,
    make_generator,
    mutual_information,
    mutual_information_sampled_prefixes,
    per_point,
    predictive_log_probs,
)

__all__ = [
    "ACQUISITION_NAMES",
    "EPIG_ACQUISITIONS",
    "CandidateBatch",
    "acquire",
    "get_bald_batch",
    "get_batchbald_batch",
    "get_epig_batch",
    "get_max_entropy_batch",
    "get_mean_std_batch",
    "get_random_batch",
    "get_stochastic_batch",
    "get_variation_ratios_batch",
]


ACQUISITION_NAMES: tuple[str, ...] = (
    "random",
    "max-entropy",
    "variation-ratios",
    "mean-std",
    "bald",
    "batchbald",
    "power-bald",
    "softmax-bald",
    "softrank-bald",
    "epig",
    "power-epig",
)


#: The methods that score the pool against target inputs (they need ``target_log_probs_M_K_C``).
EPIG_ACQUISITIONS: tuple[str, ...] = ("epig", "power-epig")


STOCHASTIC_MODES: tuple[str, ...] = ("power", "softmax", "softrank")


#: BatchBALD treats candidates whose gains differ by less than this (nats) as tied and takes the
#: lowest index (float64 rounding differs between tiles, so exact duplicates may differ by ~1e-15).
TIE_TOLERANCE = 1e-10


#: With float32 products, every candidate within this many nats of the best is re-scored in
#: float64 before picking. Measured float32 errors are <= 2e-6 nats (N=1000, K=100, C=10,
#: M=10,000), so the pick is the float64 pick; without this step near-duplicates (gaps ~1e-6)
#: were ordered by rounding.
RESCORE_MARGIN = 1e-4


# Power mode: scores are clamped to this before taking logs, so points with BALD or EPIG = 0 (or
# rounding below it) keep a tiny, equal chance instead of log(0) = -inf.
_POWER_SCORE_FLOOR = 1e-12


@dataclass
class CandidateBatch:
    """Chosen pool indices in selection order and their scores (meaning depends on the method)."""

    indices: list[int]
    scores: list[float]


def _check(log_probs_N_K_C: torch.Tensor, acquisition_size: int) -> int:
    """Validate the common arguments; return the acquisition size as an int."""
    check_log_probs(log_probs_N_K_C)
    acquisition_size = operator.index(acquisition_size)
    N = log_probs_N_K_C.shape[0]
    if not 0 <= acquisition_size <= N:
        raise ValueError(
            f"acquisition_size must be between 0 and the pool size N = {N}, got {acquisition_size}"
        )
    return acquisition_size


def _top_b(scores_N: torch.Tensor, acquisition_size: int) -> CandidateBatch:
    """The ``acquisition_size`` highest scores; a stable sort puts ties in index order."""
    order_N = torch.sort(scores_N, descending=True, stable=True).indices[:acquisition_size]
    return CandidateBatch(order_N.tolist(), scores_N[order_N].tolist())


def get_random_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int, *, seed: int | None = None
) -> CandidateBatch:
    """``acquisition_size`` pool points uniformly at random without replacement; scores are 0."""
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    generator = make_generator(seed)
    indices = torch.randperm(log_probs_N_K_C.shape[0], generator=generator)[:acquisition_size]
    return CandidateBatch(indices.tolist(), [0.0] * acquisition_size)


def get_max_entropy_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int, *, seed: int | None = None
) -> CandidateBatch:
    """Top-b predictive entropy ``H[y] = -sum_c p(c|x) log p(c|x)`` (``seed`` is unused)."""
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    return _top_b(entropy(log_probs_N_K_C, check=False), acquisition_size)


def _variation_ratio(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """``1 - max_c p(y=c|x)``, shape (N,), float64."""
    return 1.0 - predictive_log_probs(log_probs_N_K_C, check=False).exp().amax(dim=1)


def get_variation_ratios_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int, *, seed: int | None = None
) -> CandidateBatch:
    """Top-b variation ratio ``1 - max_c p(y=c|x)`` (Gal et al., 2017) (``seed`` is unused)."""
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    return _top_b(per_point(_variation_ratio, log_probs_N_K_C), acquisition_size)


def _mean_std(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """``1/C sum_c sqrt(E_k[p_k(c)^2] - E_k[p_k(c)]^2)``, shape (N,), float64."""
    probs_N_K_C = log_probs_N_K_C.double().exp()
    # population variance over the K samples (0 for K = 1); clamp rounding below 0 before sqrt
    variance_N_C = (probs_N_K_C.square().mean(dim=1) - probs_N_K_C.mean(dim=1).square()).clamp_min(
        0
    )
    return variance_N_C.sqrt().mean(dim=1)


def get_mean_std_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int, *, seed: int | None = None
) -> CandidateBatch:
    """Top-b mean standard deviation ``1/C sum_c sqrt(E_k[p_k(c)^2] - E_k[p_k(c)]^2)``
    (Kampffmeyer et al., 2016) (``seed`` is unused)."""
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    return _top_b(per_point(_mean_std, log_probs_N_K_C), acquisition_size)


def get_bald_batch(
    log_probs_N_K_C: torch.Tensor, acquisition_size: int, *, seed: int | None = None
) -> CandidateBatch:
    """Top-b BALD, ``I[y;w] = H[y] - E_w H[y|w]``; scores are the individual BALD scores."""
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    return _top_b(mutual_information(log_probs_N_K_C, check=False), acquisition_size)


def get_epig_batch(
    log_probs_N_K_C: torch.Tensor,
    acquisition_size: int,
    *,
    target_log_probs_M_K_C: torch.Tensor,
    seed: int | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> CandidateBatch:
    """Top-b EPIG, ``E_{x*} I[y; y* | x, x*] = 1/M sum_m (H[y] + H[y*_m] - H[y, y*_m])``; scores
    are the individual EPIG scores (``seed`` is unused).

    ``target_log_probs_M_K_C``: predictions for M target inputs x* under the same K posterior
    samples as the pool (:func:`~bbal_tutorial.information.epig`). Like top-b BALD, summing
    single-point scores double-counts what a batch's points tell about the same targets.
    """
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    scores_N = epig(log_probs_N_K_C, target_log_probs_M_K_C, memory_budget=memory_budget)
    return _top_b(scores_N, acquisition_size)


def _argmax_lowest_index(scores_N: torch.Tensor, tolerance: float) -> int:
    """Index of the maximum; among scores within ``tolerance`` of it, the lowest index."""
    best = scores_N.max()
    return int(torch.nonzero(scores_N >= best - tolerance)[0, 0])


def _score_sampled_steps(
    log_probs_N_K_C: torch.Tensor,
    indices: list[int],
    scores: list[float],
    num_samples: int,
    generator: torch.Generator,
) -> list[float]:
    """The scores with each sampled step's ``I[y_1..y_i; w]`` estimated afresh.

    A sampled step's winner won partly because its estimate came out high: scored from the
    samples that chose it, its score is biased upwards (the winner's curse), and reused samples
    carry that bias into later steps. An independent estimate of the chosen set is unbiased;
    :func:`~bbal_tutorial.information.mutual_information_sampled_prefixes` (one new draw for all
    sampled steps) also has a far smaller spread. Steps with ``C^i <= num_samples`` chosen points
    before them keep their exact scores.
    """
    C = log_probs_N_K_C.shape[2]
    exact_steps = sum(1 for step in range(len(scores)) if C**step <= num_samples)
    if exact_steps == len(scores):
        return scores
    sampled = mutual_information_sampled_prefixes(
        log_probs_N_K_C[indices], num_samples, first=exact_steps + 1, generator=generator
    )
    return scores[:exact_steps] + sampled.tolist()


@torch.no_grad()
def get_batchbald_batch(
    log_probs_N_K_C: torch.Tensor,
    acquisition_size: int,
    *,
    num_samples: int = 10_000,
    seed: int | None = None,
    matmul_dtype: torch.dtype = torch.float32,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> CandidateBatch:
    """Greedy BatchBALD (Kirsch et al., 2019).

    Step i picks ``argmax_x I[y_S, y_x; w]`` over the points not yet chosen (S = the i chosen
    points), that is the largest gain ``I[y_x; w | y_S] = H[y_x | y_S] - E_w H[y_x|w]``; step 0
    is BALD. The score after each pick is the cumulative joint mutual information::

        I[y_S; w] = H[y_S] - sum_{j in S} E_w H[y_j|w]

    ``H[y_S, y_x] = H[y_S] + H[y_x | y_S]`` is exact (all C^i configurations of the chosen points)
    while ``C^i <= num_samples``, otherwise estimated from ``num_samples`` sampled configurations
    (:class:`~bbal_tutorial.information.ChosenConfigurations`). Samples are drawn once
    when the estimator switches on, then each is extended with a label for every new pick from its
    own posterior sample, so consecutive steps share samples; repeated samples are merged. The
    score of a sampled step is then estimated afresh, after all picks, from ``num_samples`` new
    configurations as ``H[w] - H[w | y_S]``
    (:func:`~bbal_tutorial.information.mutual_information_sampled`): unbiased, where the estimate
    that chose the point is biased upwards (the winner's curse), and with a far smaller spread
    (``benchmarks/estimator.py``). Memory: ``num_samples × K`` float64 for the configurations
    plus ``memory_budget`` for the products.

    ``matmul_dtype`` is the dtype of the big ``(M × K) @ (K × N·C)`` products. float32 (the
    default) is about twice as fast; it screens the candidates, and those within
    :data:`RESCORE_MARGIN` of the best are re-scored in float64, so picks and scores are those of
    float64 (tested). All sums and scores are float64. ``memory_budget`` bounds the working memory
    of the products in bytes. Gains within :data:`TIE_TOLERANCE` of the best count as ties,
    resolved to the lowest index.
    """
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if matmul_dtype not in (torch.float32, torch.float64):
        raise ValueError(f"matmul_dtype must be torch.float32 or torch.float64, got {matmul_dtype}")
    log_probs_N_K_C = log_probs_N_K_C.detach()
    conditional_entropy_N = conditional_entropy(log_probs_N_K_C, check=False)
    generator = make_generator(seed)
    chosen = ChosenConfigurations(
        log_probs_N_K_C,
        num_samples=num_samples,
        generator=generator,
        matmul_dtype=matmul_dtype,
        memory_budget=memory_budget,
    )
    available_N = torch.ones(len(log_probs_N_K_C), dtype=torch.bool, device=log_probs_N_K_C.device)
    scores: list[float] = []
    for _ in range(acquisition_size):
        # I[y_S, y_x; w] = H[y_S, y_x] - sum_{j in S} E_w H[y_j|w] - E_w H[y_x|w] for every x;
        # its argmax is the argmax of the gain I[y_x; w | y_S] (H[y_S] and the sum are shared)
        chosen_conditional_entropy = conditional_entropy_N[chosen.indices].sum()
        mutual_information_N = (
            chosen.joint_entropy_with_each_candidate()
            - conditional_entropy_N
            - chosen_conditional_entropy
        ).masked_fill(~available_N, -math.inf)
        if chosen.screens:  # float32 products: re-score the close contenders in float64
            best = mutual_information_N.max()
            contenders = torch.nonzero(mutual_information_N >= best - RESCORE_MARGIN).squeeze(1)
            mutual_information_N[contenders] = (
                chosen.joint_entropy_with(contenders)
                - conditional_entropy_N[contenders]
                - chosen_conditional_entropy
            )
        pick = _argmax_lowest_index(mutual_information_N, TIE_TOLERANCE)
        available_N[pick] = False
        scores.append(float(mutual_information_N[pick]))
        chosen.add(pick)
    # after all picks, so the draws that made them are those of the greedy loop alone
    scores = _score_sampled_steps(log_probs_N_K_C, chosen.indices, scores, num_samples, generator)
    return CandidateBatch(list(chosen.indices), scores)


def _gumbel_top_b(
    log_weights_N: torch.Tensor, acquisition_size: int, generator: torch.Generator
) -> torch.Tensor:
    """Sample ``acquisition_size`` indices without replacement with ``p ∝ exp(log_weights)``.

    Gumbel-top-k: the top-b of ``log_weights + Gumbel(0, 1)`` noise is such a sample, in the order
    sequential sampling would draw it. Noise is drawn on the CPU (device-independent results).
    """
    gumbel_N = (
        -torch.empty(log_weights_N.shape[0], dtype=torch.float64)
        .exponential_(generator=generator)
        .log()
    )
    keys_N = log_weights_N.double() + gumbel_N.to(log_weights_N.device)
    return torch.sort(keys_N, descending=True, stable=True).indices[:acquisition_size]


def get_stochastic_batch(
    log_probs_N_K_C: torch.Tensor,
    acquisition_size: int,
    *,
    mode: str = "power",
    coldness: float = 1.0,
    seed: int | None = None,
    target_log_probs_M_K_C: torch.Tensor | None = None,
) -> CandidateBatch:
    """Stochastic batch acquisition from single-point scores (Kirsch et al., TMLR 2023): BALD, or
    EPIG against the targets ``target_log_probs_M_K_C`` when they are given.

    Samples b points without replacement with probability proportional to

    * ``mode="power"``:    ``score^β``          (scores clamped to 1e-12 first)
    * ``mode="softmax"``:  ``exp(β · score)``
    * ``mode="softrank"``: ``rank^-β``          (rank 1 = highest score)

    with ``β = coldness`` (0: uniform; large: top-b of the scores). Scores are the picks' scores.
    """
    acquisition_size = _check(log_probs_N_K_C, acquisition_size)
    if mode not in STOCHASTIC_MODES:
        raise ValueError(f"mode must be one of {STOCHASTIC_MODES}, got {mode!r}")
    if not (math.isfinite(coldness) and coldness >= 0):
        raise ValueError(f"coldness must be a finite number >= 0, got {coldness}")
    if target_log_probs_M_K_C is None:
        scores_N = mutual_information(log_probs_N_K_C, check=False)
    else:
        scores_N = epig(log_probs_N_K_C, target_log_probs_M_K_C)
    if mode == "power":
        log_weights_N = coldness * scores_N.clamp_min(_POWER_SCORE_FLOOR).log()
    elif mode == "softmax":
        log_weights_N = coldness * scores_N
    else:
        order_N = torch.sort(scores_N, descending=True, stable=True).indices
        ranks_N = torch.empty_like(scores_N)
        ranks_N[order_N] = torch.arange(1, len(scores_N) + 1, dtype=scores_N.dtype).to(
            scores_N.device
        )
        log_weights_N = -coldness * ranks_N.log()
    indices_b = _gumbel_top_b(log_weights_N, acquisition_size, make_generator(seed))
    return CandidateBatch(indices_b.tolist(), scores_N[indices_b].tolist())


def acquire(
    name: str,
    log_probs_N_K_C: torch.Tensor,
    acquisition_size: int,
    *,
    seed: int | None = None,
    num_samples: int = 10_000,
    coldness: float = 1.0,
    target_log_probs_M_K_C: torch.Tensor | None = None,
) -> CandidateBatch:
    """Run the acquisition function called ``name`` (one of :data:`ACQUISITION_NAMES`).

    ``num_samples`` is used by ``batchbald`` only, ``coldness`` by the stochastic modes
    (``*-bald``, ``power-epig``). ``target_log_probs_M_K_C``, the predictions for the target
    inputs under the same K posterior samples as the pool, is required by ``epig`` and
    ``power-epig`` (:data:`EPIG_ACQUISITIONS`) and ignored by the other methods.
    """
    if name in EPIG_ACQUISITIONS:
        if target_log_probs_M_K_C is None:
            raise ValueError(
                f"acquisition {name!r} needs target_log_probs_M_K_C: the predictions for the M "
                "target inputs x*, made with the same K posterior samples as the pool"
            )
        if name == "epig":
            return get_epig_batch(
                log_probs_N_K_C,
                acquisition_size,
                target_log_probs_M_K_C=target_log_probs_M_K_C,
                seed=seed,
            )
        return get_stochastic_batch(
            log_probs_N_K_C,
            acquisition_size,
            mode="power",
            coldness=coldness,
            seed=seed,
            target_log_probs_M_K_C=target_log_probs_M_K_C,
        )
    simple = {
        "random": get_random_batch,
        "max-entropy": get_max_entropy_batch,
        "variation-ratios": get_variation_ratios_batch,
        "mean-std": get_mean_std_batch,
        "bald": get_bald_batch,
    }
    if name in simple:
        return simple[name](log_probs_N_K_C, acquisition_size, seed=seed)
    if name == "batchbald":
        return get_batchbald_batch(
            log_probs_N_K_C, acquisition_size, num_samples=num_samples, seed=seed
        )
    if name in ("power-bald", "softmax-bald", "softrank-bald"):
        mode = name.removesuffix("-bald")
        return get_stochastic_batch(
            log_probs_N_K_C, acquisition_size, mode=mode, coldness=coldness, seed=seed
        )
    raise ValueError(f"unknown acquisition function {name!r}; valid names: {ACQUISITION_NAMES}")
