"""Information quantities for Bayesian active learning, computed from ``log_probs_N_K_C``.

Shapes: N pool points, K posterior samples ``w_1..w_K`` (e.g. MC-dropout masks), C classes.
``log_probs_N_K_C[n, k, c] = log p(y_n = c | x_n, w_k)``. The posterior over ``w`` is the empirical,
uniform distribution over the K samples, so ``H[w] = log K`` and every expectation over ``w`` is a
mean over k.

All results are float64 and computed in log space; ``0 · log 0 = 0``, so log-probabilities of
``-inf`` (zero probabilities) give finite, correct results. Functions validate their input with
:func:`check_log_probs`; the per-point ones take ``check=False`` for callers that already did.

Per point (shape N):

* predictive distribution  ``log p(y|x) = logsumexp_k log p(y|x,w_k) - log K``
* entropy                  ``H[y] = -sum_c p(y=c|x) log p(y=c|x)``
* expected cond. entropy   ``E_w H[y|w] = -1/K sum_k sum_c p(c|x,w_k) log p(c|x,w_k)``
* BALD                     ``I[y;w] = H[y] - E_w H[y|w]``

Joint entropy of a set S of n points (labels ``Y_S = (y_1..y_n)``; the y's are independent given w):

* ``p(Y_S = c_1..c_n) = 1/K sum_k prod_j p(y_j = c_j | w_k)``, ``H[Y_S] = -sum p log p``
* exact: enumerate all C^n configurations, built up one point at a time;
* sampled (the BatchBALD paper's estimator): draw M configurations of the first n-1 points from
  ``p(Y_S')`` (pick a sample ``w_k`` uniformly, then each label from ``p(y_j|w_k)``), evaluate
  each under all K samples, and sum the last point's C labels exactly, importance-weighted by
  ``1/q(c_m)``::

      H[Y_S] ≈ 1/M sum_m sum_y -p(c_m, y)/q(c_m) · log p(c_m, y)       q(c_m) = p(Y_S' = c_m)
             = 1/M sum_m ( -log q(c_m) + H[y | Y_S' = c_m] )

  The second line is the same number (``sum_y p(c_m, y) = q(c_m)``) and is what we compute: it
  only handles the conditional ``p(y | c_m)``, a proper distribution with entries in [0, 1], so it
  is safe in float32 even when ``p(c_m, y)`` underflows.

BatchBALD's score of a batch, :func:`batch_mutual_information`:
``I[y_1..y_n; w] = H[y_1..y_n] - sum_i E_w H[y_i|w]`` (the conditional entropies add up because
the y's are independent given w). Sampled, it is better estimated as what the labels remove
from the posterior's entropy, ``H[w] - H[w | y_1..y_n]`` (:func:`mutual_information_sampled`):
each sampled term then lies in ``[0, log K]`` instead of carrying the spread of ``-log p(c_m)``.
Greedy BatchBALD needs ``H[y_S, y_x]`` of the chosen points S with
every candidate x, step after step: :class:`ChosenConfigurations` keeps S's configurations (exact,
then sampled) for that. The tiled products behind it live in :mod:`bbal_tutorial._kernels`
(performance only).

Beyond BatchBALD, prediction-oriented: :func:`epig`, the expected predictive information gain
(Bickford Smith et al., AISTATS 2023), scores a pool point x by what its label y tells about the
labels y* of M target inputs x* (samples of the inputs we want to predict well on)::

    EPIG(x) = E_{x*} I[y; y* | x, x*] ≈ 1/M sum_m ( H[y] + H[y*_m] - H[y, y*_m] )
    p(y = c, y* = d) = 1/K sum_k p(c | x, w_k) p(d | x*, w_k)

with the same K posterior samples for pool and targets (y and y* are coupled through w only).

Information diagrams: :func:`two_variable_regions` (y and w of one point) and
:func:`three_variable_regions` (y1, y2 and w: seven regions, centre = co-information).

This module is longer than ~400 lines on purpose: it is the one place where every formula of the
course is written, each once, and they build on each other (entropies → configurations → joint
entropies → the greedy state → diagrams); split up, a reader would chase one derivation across
files. The performance machinery is already out, in :mod:`bbal_tutorial._kernels`.
"""

from __future__ import annotations

import math

import torch

from bbal_tutorial import _kernels
from bbal_tutorial._kernels import DEFAULT_MEMORY_BUDGET, per_point

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "MAX_EXACT_CONFIGURATIONS",
    "NORMALISATION_ATOL",
    "ChosenConfigurations",
    "batch_mutual_information",
    "check_log_probs",
    "conditional_entropy",
    "configuration_posterior",
    "entropy",
    "entropy_given_configurations",
    "epig",
    "exact_configurations",
    "extend_exact_configurations",
    "extend_sampled_configurations",
    "joint_entropy",
    "joint_entropy_exact",
    "joint_entropy_sampled",
    "log_marginal",
    "make_generator",
    "mutual_information",
    "mutual_information_sampled",
    "mutual_information_sampled_prefixes",
    "neg_p_log_p",
    "per_point",
    "predictive_log_probs",
    "sample_configurations",
    "three_variable_regions",
    "three_variable_regions_from_joint",
    "two_variable_regions",
    "two_variable_regions_from_joint",
]


#: Largest |logsumexp_c log p - 0| accepted by :func:`check_log_probs`. float32 ``log_softmax`` is
#: off by ~1e-6 even for C = 47; logits or probabilities passed by mistake are off by far more.
NORMALISATION_ATOL = 1e-3


#: :func:`joint_entropy_exact` refuses to enumerate more configurations than this (memory: M × K).
MAX_EXACT_CONFIGURATIONS = 2**20


def check_log_probs(
    log_probs_N_K_C: torch.Tensor,
    *,
    atol: float = NORMALISATION_ATOL,
    name: str = "log_probs_N_K_C",
) -> None:
    """Raise ``ValueError`` (``TypeError`` for a non-tensor) naming what is wrong with the input.

    Checks: a floating-point tensor of 3 dimensions (N, K, C) with K >= 1 and C >= 1, no NaN, no
    ``+inf`` (``-inf`` is a valid log-probability: a zero probability), and every row normalised:
    ``|logsumexp_c log p(y=c|x,w_k)| <= atol`` (at least ``8 eps`` of the dtype, for float16 and
    bfloat16 inputs). Messages call the tensor ``name`` (e.g. ``log_probs_M_K_C`` for targets).
    """
    if not isinstance(log_probs_N_K_C, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(log_probs_N_K_C)}")
    if log_probs_N_K_C.dim() != 3:
        raise ValueError(
            f"{name} must be 3-D (N points, K posterior samples, C classes); "
            f"got shape {tuple(log_probs_N_K_C.shape)}"
        )
    if not log_probs_N_K_C.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {log_probs_N_K_C.dtype}")
    N, K, C = log_probs_N_K_C.shape
    if K < 1:
        raise ValueError(f"need at least K = 1 posterior sample, got K = {K}")
    if C < 1:
        raise ValueError(f"need at least C = 1 class, got C = {C}")
    if N == 0:
        return
    if torch.isnan(log_probs_N_K_C).any():
        raise ValueError(f"{name} contains NaN")
    if torch.isposinf(log_probs_N_K_C).any():
        raise ValueError(f"{name} contains +inf (a log-probability is at most 0)")
    # half precision rounds each log-prob by up to eps: widen the tolerance accordingly
    atol = max(atol, 8 * torch.finfo(log_probs_N_K_C.dtype).eps)
    log_norm_N_K = torch.logsumexp(
        log_probs_N_K_C.to(torch.promote_types(log_probs_N_K_C.dtype, torch.float32)), dim=2
    )
    deviation = log_norm_N_K.abs().max().item()
    if not deviation <= atol:  # also catches rows that are all -inf (deviation = inf)
        raise ValueError(
            f"{name} rows are not normalised: logsumexp over classes deviates from 0 by "
            f"{deviation:.3g} (tolerance {atol:g}); pass log-probabilities (log_softmax), "
            "not logits or probabilities"
        )


def neg_p_log_p(log_p: torch.Tensor) -> torch.Tensor:
    """``-p log p`` from ``log p``, with ``0 · log 0 = 0`` (``exp(-inf) · -inf`` would be NaN)."""
    return torch.where(torch.isneginf(log_p), 0.0, -log_p.exp() * log_p)


def make_generator(seed: int | None) -> torch.Generator:
    """A private CPU generator: reproducible under ``seed``; never touches torch's global RNG."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


# --------------------------------------------------------------------------------------------------
# per point: each public function checks its input, then applies the formula (the private function
# below it) to chunks of points (_kernels.per_point), so float64 copies of huge pools stay small


def predictive_log_probs(log_probs_N_K_C: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """``log p(y|x) = logsumexp_k log p(y|x,w_k) - log K``, shape (N, C), float64."""
    if check:
        check_log_probs(log_probs_N_K_C)
    return per_point(_predictive_log_probs, log_probs_N_K_C)


def _predictive_log_probs(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    log_probs_N_K_C = log_probs_N_K_C.double()
    K = log_probs_N_K_C.shape[1]
    return torch.logsumexp(log_probs_N_K_C, dim=1) - math.log(K)


def entropy(log_probs_N_K_C: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Entropy of the predictive distribution, ``H[y] = -sum_c p(c|x) log p(c|x)``, shape (N,)."""
    if check:
        check_log_probs(log_probs_N_K_C)
    return per_point(_entropy, log_probs_N_K_C)


def _entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return neg_p_log_p(_predictive_log_probs(log_probs_N_K_C)).sum(dim=1)


def conditional_entropy(log_probs_N_K_C: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Expected conditional entropy ``E_w H[y|w] = 1/K sum_k H[y|x,w_k]``, shape (N,)."""
    if check:
        check_log_probs(log_probs_N_K_C)
    return per_point(_conditional_entropy, log_probs_N_K_C)


def _conditional_entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return neg_p_log_p(log_probs_N_K_C.double()).sum(dim=2).mean(dim=1)


def mutual_information(log_probs_N_K_C: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """BALD: ``I[y;w] = H[y] - E_w H[y|w]``, shape (N,).

    Non-negative up to rounding (the entropy of a mixture is at least the mean entropy); exactly 0
    for K = 1. Bounded by ``min(log C, log K)``.
    """
    if check:
        check_log_probs(log_probs_N_K_C)
    return per_point(_mutual_information, log_probs_N_K_C)


def _mutual_information(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return _entropy(log_probs_N_K_C) - _conditional_entropy(log_probs_N_K_C)


# --------------------------------------------------------------------------------------------------
# label configurations of a set of points: log p(c_m | w_k), shape (M, K)


def extend_exact_configurations(
    log_joint_M_K: torch.Tensor, log_probs_K_C: torch.Tensor
) -> torch.Tensor:
    """Add one point to every configuration: all M · C extensions, shape (M·C, K).

    ``log p(c_m, y = c | w_k) = log p(c_m | w_k) + log p(y = c | w_k)``, since the y's are
    independent given w. Row ``m·C + c`` extends configuration m with label c.
    """
    M, K = log_joint_M_K.shape
    log_joint_M_C_K = log_joint_M_K[:, None, :] + log_probs_K_C.double().t()[None, :, :]
    return log_joint_M_C_K.reshape(M * log_probs_K_C.shape[1], K)


def exact_configurations(log_probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """All C^n label configurations of n points: ``log p(Y_S = c_m | w_k)``, shape (C^n, K).

    Built one point at a time (row index = the configuration read as a base-C number, first point
    most significant). n = 0 gives the single empty configuration with probability 1.
    """
    n, K, C = log_probs_n_K_C.shape
    log_joint_M_K = log_probs_n_K_C.new_zeros((1, K), dtype=torch.float64)
    for j in range(n):
        log_joint_M_K = extend_exact_configurations(log_joint_M_K, log_probs_n_K_C[j])
    return log_joint_M_K


def extend_sampled_configurations(
    log_joint_M_K: torch.Tensor,
    components_M: torch.Tensor,
    log_probs_K_C: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """Add one point to sampled configurations: draw ``y_m ~ p(y | w_{components_M[m]})``.

    Each configuration m was drawn from one posterior sample ``k_m = components_M[m]``; extending it
    from the same ``w_{k_m}`` keeps it an exact draw from the joint ``p(Y_S, y)``. Returns the new
    ``log p(c_m, y_m | w_k)`` for all k, shape (M, K). Sampling happens on the CPU with
    ``generator``, so results do not depend on the device.
    """
    log_probs_cpu_K_C = log_probs_K_C.detach().double().cpu()
    probs_M_C = log_probs_cpu_K_C[components_M.cpu()].exp()
    labels_M = torch.multinomial(probs_M_C, 1, generator=generator).squeeze(1)
    labels_M = labels_M.to(log_probs_K_C.device)
    # rows of the (C, K) table, gathered contiguously: 5x faster than columns of (K, C), same bits
    return log_joint_M_K + log_probs_K_C.double().t().contiguous()[labels_M]


def sample_configurations(
    log_probs_n_K_C: torch.Tensor, num_samples: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``num_samples`` configurations of n points from ``p(Y_S) = mean_k prod_j p(y_j|w_k)``.

    The mixture component ``k_m`` of sample m is stratified: ``k_m = (m + offset) mod K`` with a
    random offset, so every ``w_k`` is used equally often (lower variance) while each ``k_m`` is
    still uniform.
    Returns ``(log_joint_M_K, components_M)`` with ``log_joint_M_K[m, k] = log p(c_m | w_k)``.
    """
    n, K, C = log_probs_n_K_C.shape
    offset = int(torch.randint(K, (1,), generator=generator))
    components_M = (torch.arange(num_samples) + offset) % K
    log_joint_M_K = log_probs_n_K_C.new_zeros((num_samples, K), dtype=torch.float64)
    for j in range(n):
        log_joint_M_K = extend_sampled_configurations(
            log_joint_M_K, components_M, log_probs_n_K_C[j], generator
        )
    return log_joint_M_K, components_M


def log_marginal(log_joint_M_K: torch.Tensor) -> torch.Tensor:
    """The configurations' probabilities: ``log p(c_m) = logsumexp_k log p(c_m|w_k) - log K``."""
    return torch.logsumexp(log_joint_M_K, dim=1) - math.log(log_joint_M_K.shape[1])


def configuration_posterior(log_joint_M_K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(posterior_M_K, log_marginal_M)``: ``p(w_k | c_m)`` and ``log p(c_m)``, float64.

    ``p(w_k | c_m) = p(c_m | w_k) / (K p(c_m))`` (Bayes with the uniform prior over the K samples);
    each row sums to 1. Rows of configurations with ``p(c_m) = 0`` are NaN: drop them first.
    """
    log_marginal_M = log_marginal(log_joint_M_K)
    posterior_M_K = (log_joint_M_K - log_marginal_M[:, None]).exp() / log_joint_M_K.shape[1]
    return posterior_M_K, log_marginal_M


def entropy_given_configurations(
    log_joint_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    *,
    compute_dtype: torch.dtype = torch.float64,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> torch.Tensor:
    """For every candidate n: ``sum_m weights_m · H[y_n | Y_S = c_m]``, shape (N,), float64.

    ``p(y_n = c | c_m) = sum_k p(w_k | c_m) p(y_n = c | w_k)``. With all configurations and
    ``weights_m = p(c_m)`` this is the conditional entropy ``H[y_n | Y_S]``; with M sampled
    configurations and ``weights_m = 1/M`` it is its Monte-Carlo estimate. Either way
    ``H[Y_S, y_n] = H[Y_S] + result[n]``. Configurations with ``p(c_m) = 0`` are skipped (they can
    only carry weight 0). The product runs in tiles of ``memory_budget`` bytes in
    ``compute_dtype`` (:func:`bbal_tutorial._kernels.entropy_given_posterior`).
    """
    posterior_M_K, log_marginal_M = configuration_posterior(log_joint_M_K)
    possible_M = torch.isfinite(log_marginal_M)
    return _kernels.entropy_given_posterior(
        posterior_M_K[possible_M],
        weights_M[possible_M],
        log_probs_N_K_C,
        compute_dtype=compute_dtype,
        memory_budget=memory_budget,
    )


# --------------------------------------------------------------------------------------------------
# joint entropies and the batch mutual information


def joint_entropy_exact(log_probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """``H[y_1..y_n]`` by enumerating all C^n configurations (0-dim float64 tensor).

    ``H = -sum_m p(c_m) log p(c_m)`` with ``p(c_m) = 1/K sum_k prod_j p(y_j = c_mj | w_k)``.
    Raises ``ValueError`` above :data:`MAX_EXACT_CONFIGURATIONS` configurations.
    """
    check_log_probs(log_probs_n_K_C)
    n, K, C = log_probs_n_K_C.shape
    if C**n > MAX_EXACT_CONFIGURATIONS:
        raise ValueError(
            f"C^n = {C}^{n} configurations exceed {MAX_EXACT_CONFIGURATIONS}; "
            "use joint_entropy_sampled"
        )
    return neg_p_log_p(log_marginal(exact_configurations(log_probs_n_K_C))).sum()


def joint_entropy_sampled(
    log_probs_n_K_C: torch.Tensor,
    num_samples: int,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte-Carlo estimate of ``H[y_1..y_n]`` from ``num_samples`` configurations (0-dim float64).

    The paper's estimator: sample configurations ``c_m`` of the first n-1 points from their joint,
    sum the last point's C labels exactly with importance weights ``1/q(c_m)`` — computed as
    ``1/M sum_m (-log q(c_m) + H[y_n | c_m])`` (see the module docstring). Unbiased for
    ``E[-log q]`` and with standard error ``≈ std(-log q(c) + H[y_n|c]) / sqrt(M)``.
    ``generator`` (a CPU ``torch.Generator``) overrides ``seed``.
    """
    check_log_probs(log_probs_n_K_C)
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    n, K, C = log_probs_n_K_C.shape
    if n == 0:
        return torch.zeros((), dtype=torch.float64, device=log_probs_n_K_C.device)
    generator = generator if generator is not None else make_generator(seed)
    log_joint_M_K, _ = sample_configurations(log_probs_n_K_C[:-1], num_samples, generator)
    weights_M = torch.full((num_samples,), 1.0 / num_samples, dtype=torch.float64)
    weights_M = weights_M.to(log_probs_n_K_C.device)
    entropy_first = (-log_marginal(log_joint_M_K)).mean()
    log_joint_U_K, weights_U = _kernels.merge_identical_configurations(log_joint_M_K, weights_M)
    entropy_last = entropy_given_configurations(log_joint_U_K, weights_U, log_probs_n_K_C[-1:])
    return entropy_first + entropy_last[0]


def mutual_information_sampled(
    log_probs_n_K_C: torch.Tensor,
    num_samples: int,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte-Carlo estimate of ``I[y_1..y_n; w]`` from ``num_samples`` configurations (0-dim).

    The mutual information as the entropy the labels remove from the posterior over the K samples::

        I[y_1..y_n; w] = H[w] - H[w | y_1..y_n] = log K - E_c E_{y_n|c} H[w | c, y_n]
        E_{y_n|c} H[w | c, y_n] = H[w | c] - H[y_n | c] + sum_k p(w_k | c) H[y_n | w_k]

    with configurations ``c_m`` of the first n-1 points drawn as in :func:`sample_configurations`
    and the last point's labels summed exactly (the second line). Unbiased, like
    ``joint_entropy_sampled - sum_j E_w H[y_j|w]``, but every term lies in ``[0, log K]``, so the
    standard error is at most ``log K / (2 sqrt(M))`` however many points there are; the entropy
    route carries the spread of ``-log p(c_m)``, which grows with n (5-15× the standard deviation
    on benchmarks/estimator.py's problems). float64. ``generator`` (a CPU ``torch.Generator``)
    overrides ``seed``.
    """
    n = log_probs_n_K_C.shape[0]
    if n == 0:
        check_log_probs(log_probs_n_K_C)
        return torch.zeros((), dtype=torch.float64, device=log_probs_n_K_C.device)
    return mutual_information_sampled_prefixes(
        log_probs_n_K_C, num_samples, first=n, seed=seed, generator=generator
    )[-1]


def mutual_information_sampled_prefixes(
    log_probs_n_K_C: torch.Tensor,
    num_samples: int,
    *,
    first: int = 1,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """:func:`mutual_information_sampled` of the prefixes ``y_1..y_i``, ``i = first..n``, shape
    ``(n - first + 1,)``, float64.

    One draw of configurations of the first n-1 points serves them all: its first i-1 labels are
    a draw of the first i-1 points, so each estimate is unbiased (they are correlated).
    """
    check_log_probs(log_probs_n_K_C)
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    n, K, C = log_probs_n_K_C.shape
    if not 1 <= first <= n:
        raise ValueError(f"first must be between 1 and n = {n}, got {first}")
    generator = generator if generator is not None else make_generator(seed)
    log_joint_M_K, components_M = sample_configurations(
        log_probs_n_K_C[: first - 1], num_samples, generator
    )
    estimates = []
    for i in range(first - 1, n):  # log_joint_M_K holds configurations of the first i points
        if i > first - 1:
            log_joint_M_K = extend_sampled_configurations(
                log_joint_M_K, components_M, log_probs_n_K_C[i - 1], generator
            )
        posterior_M_K, _ = configuration_posterior(log_joint_M_K)
        log_probs_K_C = log_probs_n_K_C[i].double()
        entropy_w_given_c_M = torch.special.entr(posterior_M_K).sum(dim=1)
        entropy_y_given_c_M = torch.special.entr(posterior_M_K @ log_probs_K_C.exp()).sum(dim=1)
        entropy_y_given_w_K = neg_p_log_p(log_probs_K_C).sum(dim=1)
        posterior_entropy_M = (
            entropy_w_given_c_M - entropy_y_given_c_M + posterior_M_K @ entropy_y_given_w_K
        )
        estimates.append(math.log(K) - posterior_entropy_M.mean())
    return torch.stack(estimates)


def joint_entropy(
    log_probs_n_K_C: torch.Tensor, *, num_samples: int = 10_000, seed: int | None = None
) -> torch.Tensor:
    """``H[y_1..y_n]``: exact while ``C^n <= num_samples``, else sampled with ``num_samples``."""
    n, K, C = log_probs_n_K_C.shape
    if C**n <= num_samples:
        return joint_entropy_exact(log_probs_n_K_C)
    return joint_entropy_sampled(log_probs_n_K_C, num_samples, seed=seed)


def batch_mutual_information(log_probs_n_K_C: torch.Tensor) -> float:
    """BatchBALD's score of a batch, exactly: ``I[y_1..y_n; w] = H[y_1..y_n] - sum_i E_w H[y_i|w]``.

    The joint entropy enumerates all C^n label configurations (:func:`joint_entropy_exact`);
    ``n = 0`` gives 0.
    """
    check_log_probs(log_probs_n_K_C)
    if log_probs_n_K_C.shape[0] == 0:
        return 0.0
    joint = joint_entropy_exact(log_probs_n_K_C)
    return float(joint - conditional_entropy(log_probs_n_K_C, check=False).sum())


class ChosenConfigurations:
    """Label configurations of the points chosen so far, for ``H[y_S, y_x]`` with every candidate x.

    The state of greedy BatchBALD. ``H[y_S, y_x] = H[y_S] + H[y_x | y_S]``, from the configurations
    ``c_m`` of the chosen points S:

    * exact while ``C^|S| <= num_samples``: all C^|S| configurations (those of probability 0
      dropped), weighted by ``p(c_m)``, and ``H[y_S] = -sum_m p(c_m) log p(c_m)``;
    * then sampled: ``num_samples`` configurations drawn from ``p(y_S)`` when the estimator switches
      on, each then extended with a label for every new point from its own posterior sample (so
      consecutive steps share samples); equal weights, ``H[y_S] ≈ mean_m -log p(c_m)``. Repeated
      samples are merged (:func:`bbal_tutorial._kernels.merge_identical_configurations`).

    ``H[y_x | y_S]`` of all candidates is one big product
    (:func:`bbal_tutorial._kernels.entropy_given_posterior`) in ``matmul_dtype`` within
    ``memory_budget`` bytes; the candidates' probabilities are computed once, if they fit.
    :meth:`add` only records a point: the configurations (and the draws from ``generator``) are
    made at the next query, so a last pick costs nothing. Memory: ``num_samples × K`` float64.
    """

    def __init__(
        self,
        log_probs_N_K_C: torch.Tensor,
        *,
        num_samples: int,
        generator: torch.Generator,
        matmul_dtype: torch.dtype = torch.float32,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> None:
        self.log_probs_N_K_C = log_probs_N_K_C
        self.num_samples = num_samples
        self.generator = generator
        self.matmul_dtype = matmul_dtype
        self.memory_budget = memory_budget
        self.indices: list[int] = []
        K = log_probs_N_K_C.shape[1]
        self._log_joint_M_K = torch.zeros(
            (1, K), dtype=torch.float64, device=log_probs_N_K_C.device
        )  # the empty configuration
        self._components_M: torch.Tensor | None = None  # the posterior sample behind each sample
        self._num_in_configurations = 0
        self._probs_K_W: torch.Tensor | None = None
        self._probs_K_W_tried = False
        # set by _update from the configurations: p(w_k | c_m), their weights and H[y_S]
        self._posterior_M_K: torch.Tensor | None = None
        self._weights_M: torch.Tensor | None = None
        self._joint_entropy_S: torch.Tensor | None = None

    @property
    def screens(self) -> bool:
        """Whether :meth:`joint_entropy_with_each_candidate` runs its products in float32.

        That is a fast screening: close calls deserve re-scoring with :meth:`joint_entropy_with`.
        """
        return bool(self.indices) and self.matmul_dtype != torch.float64

    def add(self, index: int) -> None:
        """Add pool point ``index`` to the chosen points S."""
        self.indices.append(index)

    def joint_entropy_with_each_candidate(self) -> torch.Tensor:
        """``H[y_S, y_x]`` for every pool point x, shape (N,), float64; products in matmul_dtype."""
        if not self.indices:
            return entropy(self.log_probs_N_K_C, check=False)  # H[y_x]: BALD's first step
        self._update()
        if not self._probs_K_W_tried:  # the same right-hand side at every step: computed once
            self._probs_K_W = _kernels.precompute_candidate_probs(
                self.log_probs_N_K_C, self.matmul_dtype, self.memory_budget
            )
            self._probs_K_W_tried = True
        return self._joint_entropy_S + _kernels.entropy_given_posterior(
            self._posterior_M_K,
            self._weights_M,
            self.log_probs_N_K_C,
            compute_dtype=self.matmul_dtype,
            memory_budget=self.memory_budget,
            probs_K_W=self._probs_K_W,
        )

    def joint_entropy_with(self, candidates_n: torch.Tensor) -> torch.Tensor:
        """``H[y_S, y_x]`` for the pool points ``candidates_n``, float64 products throughout."""
        if not self.indices:
            return entropy(self.log_probs_N_K_C[candidates_n], check=False)
        self._update()
        return self._joint_entropy_S + _kernels.entropy_given_posterior(
            self._posterior_M_K,
            self._weights_M,
            self.log_probs_N_K_C[candidates_n],
            memory_budget=self.memory_budget,
        )

    def _update(self) -> None:
        """Bring the configurations up to date with :attr:`indices`; weights, posterior, H[y_S]."""
        if self._num_in_configurations == len(self.indices):
            return
        while self._num_in_configurations < len(self.indices):
            self._num_in_configurations += 1
            self._add_to_configurations(self.indices[: self._num_in_configurations])
        if self._components_M is None:  # exact: weight each configuration by its probability
            self._posterior_M_K, log_marginal_M = configuration_posterior(self._log_joint_M_K)
            self._weights_M = log_marginal_M.exp()
            self._joint_entropy_S = neg_p_log_p(log_marginal_M).sum()
        else:  # sampled from p(y_S): equal weights, H[y_S] ≈ mean of -log p(c_m)
            self._joint_entropy_S = -log_marginal(self._log_joint_M_K).mean()
            log_joint_U_K, self._weights_M = _kernels.merge_identical_configurations(
                self._log_joint_M_K,
                torch.full_like(self._log_joint_M_K[:, 0], 1.0 / self.num_samples),
            )
            self._posterior_M_K, _ = configuration_posterior(log_joint_U_K)

    def _add_to_configurations(self, indices: list[int]) -> None:
        """Extend the configurations by ``indices[-1]``: exact (all C^i, minus those of probability
        0) while ``C^i <= num_samples``; then sampled: drawn afresh at the switch, then extended."""
        log_probs_N_K_C = self.log_probs_N_K_C
        latest_K_C = log_probs_N_K_C[indices[-1]]
        if log_probs_N_K_C.shape[2] ** len(indices) <= self.num_samples:
            log_joint_M_K = extend_exact_configurations(self._log_joint_M_K, latest_K_C)
            self._log_joint_M_K = log_joint_M_K[torch.isfinite(log_marginal(log_joint_M_K))]
        elif self._components_M is None:
            self._log_joint_M_K, self._components_M = sample_configurations(
                log_probs_N_K_C[indices], self.num_samples, self.generator
            )
        else:
            self._log_joint_M_K = extend_sampled_configurations(
                self._log_joint_M_K, self._components_M, latest_K_C, self.generator
            )


# --------------------------------------------------------------------------------------------------
# EPIG: information about the labels of target inputs, not about w


def epig(
    log_probs_N_K_C: torch.Tensor,
    log_probs_M_K_C: torch.Tensor,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> torch.Tensor:
    """EPIG, the expected predictive information gain of every pool point, shape (N,), float64.

    Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth (AISTATS 2023)::

        EPIG(x) = E_{x* ~ p*(x*)} I[y; y* | x, x*] ≈ 1/M sum_m I[y; y*_m]
        I[y; y*] = H[y] + H[y*] - H[y, y*]
        p(y = c, y* = d | x, x*) = 1/K sum_k p(y = c | x, w_k) p(y* = d | x*, w_k)

    ``log_probs_M_K_C`` holds the predictions for M target inputs ``x*_m`` drawn from the input
    distribution ``p*`` we want to predict well on, under the *same* K posterior samples
    ``w_1..w_K`` as the pool (sample k must be the same network in both tensors: y and y* are
    independent given w and coupled only through it). BALD asks what y tells about w; EPIG asks
    what it tells about the predictions that matter. Since y → w → y*, ``0 <= I[y; y*] <=
    min(I[y; w], I[y*; w])``: EPIG(x) is at most BALD(x) and at most the targets' mean BALD.

    The joint is computed in log space, ``log p(c, d) = a_c + b_d - log K + log sum_k
    exp(log p(c|x,w_k) - a_c) exp(log p(d|x*,w_k) - b_d)`` with ``a_c``, ``b_d`` the maxima over k
    (logsumexp's shift: the scaled probabilities lie in [0, 1], each possible class has a 1, so
    probabilities far below float64's range keep their logarithm), for all pairs of a tile in one
    matrix product ``(n·C × K) @ (K × m·C)``; ``0 · log 0 = 0``. The N × M × C × C joint is never
    held at once: tiles of n pool points × m targets take at most ``memory_budget`` bytes (at
    least one pair; on a CPU at most ~2^17 joint entries, for the cache), besides float64 copies
    of the two inputs. Cost: ``N · M · C² · K`` multiply-adds and ``N · M · C²`` logarithms. Rows
    are renormalised in float64 first, so float32 inputs also give exactly 0 for a point that
    tells nothing (their sums' rounding would shift every score by ~1e-7 · H).
    """
    check_log_probs(log_probs_N_K_C, name="log_probs_N_K_C")
    check_log_probs(log_probs_M_K_C, name="log_probs_M_K_C")
    N, K, C = log_probs_N_K_C.shape
    M, K_targets, C_targets = log_probs_M_K_C.shape
    if K_targets != K:
        raise ValueError(
            f"log_probs_N_K_C and log_probs_M_K_C must share the K posterior samples (the same K "
            f"networks predict pool and targets); got K = {K} and K = {K_targets}"
        )
    if C_targets != C:
        raise ValueError(
            f"log_probs_N_K_C and log_probs_M_K_C must have the same C classes; "
            f"got C = {C} and C = {C_targets}"
        )
    if M == 0:
        raise ValueError("empty target set: log_probs_M_K_C has M = 0 target inputs")
    if memory_budget < 1:
        raise ValueError(f"memory_budget must be at least 1 byte, got {memory_budget}")
    device = log_probs_N_K_C.device
    log_probs_M_K_C = log_probs_M_K_C.to(device)
    # H[y] + H[y*] - H[y, y*], averaged over the targets: mean_m H[y*_m] is shared by all x
    joint_entropy_N = _mean_joint_entropy_with_targets(
        log_probs_N_K_C, log_probs_M_K_C, memory_budget
    )
    target_entropy = per_point(_renormalised_entropy, log_probs_M_K_C).mean()
    return per_point(_renormalised_entropy, log_probs_N_K_C) + target_entropy - joint_entropy_N


def _renormalised(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """float64 log-probabilities whose rows sum to 1 to float64 precision.

    float32 rows sum to 1 only within ~1e-7, and ``H[y] + H[y*] - H[y, y*]`` is off by
    ``(1 - sum) · H``: EPIG of a point that tells nothing would come out as -1e-8, not 0.
    """
    log_probs_N_K_C = log_probs_N_K_C.double()
    return log_probs_N_K_C - torch.logsumexp(log_probs_N_K_C, dim=2, keepdim=True)


def _renormalised_entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return _entropy(_renormalised(log_probs_N_K_C))


def _scaled_probs(log_probs_N_K_C: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(exp(log p - a), a)`` with ``a = max_k log p`` per point and class, float64.

    The scaled probabilities lie in [0, 1] with a 1 in every column that is possible at all; a
    class impossible under every sample (``a = -inf``) gets shift 0 and scaled probabilities 0.
    """
    log_probs_N_K_C = _renormalised(log_probs_N_K_C)
    shift_N_1_C = log_probs_N_K_C.amax(dim=1, keepdim=True)
    shift_N_1_C = torch.where(torch.isfinite(shift_N_1_C), shift_N_1_C, 0.0)
    return (log_probs_N_K_C - shift_N_1_C).exp(), shift_N_1_C.squeeze(1)


# Working memory per (pool point, target) pair of a tile, in bytes per entry of its C × C joint:
# the log joint and at most three float64 temporaries of neg_p_log_p beside it, plus its mask.
_EPIG_BYTES_PER_ENTRY = 40


# On a CPU, tiles of ~2^17 joint entries (1 MB buffers, inside the L2/L3 cache) ran 2-3x faster
# than tiles of the default budget (N=1000, M=100, K=20, C=10, one thread); on a GPU the budget
# alone decides.
_EPIG_CPU_TILE_ENTRIES = 2**17


def _mean_joint_entropy_with_targets(
    log_probs_N_K_C: torch.Tensor, log_probs_M_K_C: torch.Tensor, memory_budget: int
) -> torch.Tensor:
    """``1/M sum_m H[y_n, y*_m]`` for every pool point n, shape (N,), float64, in tiles."""
    N, K, C = log_probs_N_K_C.shape
    M = log_probs_M_K_C.shape[0]
    result_N = torch.zeros(N, dtype=torch.float64, device=log_probs_N_K_C.device)
    if N == 0:
        return result_N
    pairs = memory_budget // (_EPIG_BYTES_PER_ENTRY * C * C)
    if log_probs_N_K_C.device.type == "cpu":
        pairs = min(pairs, _EPIG_CPU_TILE_ENTRIES // (C * C))
    pairs = max(1, pairs)
    targets = min(M, pairs)  # all targets in one tile while a single pool point allows it
    points = max(1, min(N, pairs // targets))
    # (K, m·C) right-hand sides, one per chunk of targets, computed once for all pool points
    scaled_M_K_C, shift_M_C = _scaled_probs(log_probs_M_K_C)
    rhs_chunks = [
        (
            scaled_M_K_C[t : t + targets].permute(1, 0, 2).reshape(K, -1),
            shift_M_C[t : t + targets],
        )
        for t in range(0, M, targets)
    ]
    log_K = math.log(K)
    for start in range(0, N, points):
        scaled_n_K_C, shift_n_C = _scaled_probs(log_probs_N_K_C[start : start + points])
        n = scaled_n_K_C.shape[0]
        lhs_nC_K = scaled_n_K_C.transpose(1, 2).reshape(n * C, K)
        for rhs_K_mC, shift_m_C in rhs_chunks:
            m = shift_m_C.shape[0]
            # log p(y_n = c, y*_m = d), laid out (n, c, m, d)
            log_joint_n_C_m_C = torch.mm(lhs_nC_K, rhs_K_mC).log_().view(n, C, m, C)
            log_joint_n_C_m_C.add_(shift_n_C[:, :, None, None] - log_K)
            log_joint_n_C_m_C.add_(shift_m_C[None, None, :, :])
            result_N[start : start + n] += neg_p_log_p(log_joint_n_C_m_C).sum(dim=(1, 2, 3))
    return result_N / M


# --------------------------------------------------------------------------------------------------
# information diagrams


def _entropy_of_table(probs: torch.Tensor, dims: tuple[int, ...]) -> float:
    """Entropy of the marginal of a joint probability table over the axes ``dims``."""
    others = tuple(d for d in range(probs.dim()) if d not in dims)
    marginal = probs.sum(dim=others) if others else probs
    return float(torch.special.entr(marginal).sum())


def two_variable_regions_from_joint(
    probs_A_B: torch.Tensor, names: tuple[str, str] = ("a", "b")
) -> dict[str, float]:
    """The three regions of the information diagram of two variables, from their joint table.

    ``H[a|b] = H[a,b] - H[b]``, ``I[a;b] = H[a] + H[b] - H[a,b]``, ``H[b|a] = H[a,b] - H[a]``; the
    totals ``H[a]``, ``H[b]``, ``H[a,b]`` are included. Keys use ``names``. Entropies in nats.
    """
    a, b = names
    probs_A_B = probs_A_B.double()
    h_a, h_b = _entropy_of_table(probs_A_B, (0,)), _entropy_of_table(probs_A_B, (1,))
    h_ab = _entropy_of_table(probs_A_B, (0, 1))
    return {
        f"H[{a}|{b}]": h_ab - h_b,
        f"I[{a};{b}]": h_a + h_b - h_ab,
        f"H[{b}|{a}]": h_ab - h_a,
        f"H[{a}]": h_a,
        f"H[{b}]": h_b,
        f"H[{a},{b}]": h_ab,
    }


def three_variable_regions_from_joint(
    probs_A_B_Z: torch.Tensor, names: tuple[str, str, str] = ("a", "b", "z")
) -> dict[str, float]:
    """The seven regions of the information diagram of three variables, from their joint table.

    With ``H[..]`` the entropies of the marginals::

        H[a|b,z] = H[a,b,z] - H[b,z]                     (and likewise for b and z)
        I[a;b|z] = H[a,z] + H[b,z] - H[z] - H[a,b,z]      (and likewise for the other pairs)
        I[a;b;z] = H[a] + H[b] + H[z] - H[a,b] - H[a,z] - H[b,z] + H[a,b,z]   (co-information)

    The seven regions sum to ``H[a,b,z]``. The centre, the co-information ``I[a;b] - I[a;b|z]``, can
    be negative for a general joint (``z = a XOR b`` with independent fair bits a, b gives -log 2).
    The totals ``H[a,b,z]`` and the three single entropies are included. Entropies in nats.
    """
    a, b, z = names
    p = probs_A_B_Z.double()
    h = {dims: _entropy_of_table(p, dims) for dims in [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2)]}
    h_abz = _entropy_of_table(p, (0, 1, 2))
    h_a, h_b, h_z = h[(0,)], h[(1,)], h[(2,)]
    h_ab, h_az, h_bz = h[(0, 1)], h[(0, 2)], h[(1, 2)]
    return {
        f"H[{a}|{b},{z}]": h_abz - h_bz,
        f"H[{b}|{a},{z}]": h_abz - h_az,
        f"H[{z}|{a},{b}]": h_abz - h_ab,
        f"I[{a};{b}|{z}]": h_az + h_bz - h_z - h_abz,
        f"I[{a};{z}|{b}]": h_ab + h_bz - h_b - h_abz,
        f"I[{b};{z}|{a}]": h_ab + h_az - h_a - h_abz,
        f"I[{a};{b};{z}]": h_a + h_b + h_z - h_ab - h_az - h_bz + h_abz,
        f"H[{a},{b},{z}]": h_abz,
        f"H[{a}]": h_a,
        f"H[{b}]": h_b,
        f"H[{z}]": h_z,
    }


def two_variable_regions(log_probs_K_C: torch.Tensor) -> dict[str, float]:
    """Information diagram of one point's label y and the model parameters w.

    The joint is ``p(y = c, w = w_k) = p(c | w_k) / K``, so ``H[w] = log K``. Keys: ``H[y|w]``
    (expected conditional entropy, "aleatoric"), ``I[y;w]`` (BALD, "epistemic"), ``H[w|y]``,
    plus the totals ``H[y]``, ``H[w]``, ``H[y,w]``.
    """
    check_log_probs(log_probs_K_C[None])
    K = log_probs_K_C.shape[0]
    probs_C_K = log_probs_K_C.double().exp().t() / K
    return two_variable_regions_from_joint(probs_C_K, names=("y", "w"))


def three_variable_regions(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """The seven regions of the information diagram of ``y1``, ``y2`` (two points) and ``w``.

    The joint is ``p(y1, y2, w_k) = p(y1 | w_k) p(y2 | w_k) / K``: ``H[w] = log K``,
    ``H[y1,y2|w] = H[y1|w] + H[y2|w]`` and, because the labels are independent given w,
    ``I[y1;y2|w] = 0`` — so here the centre ``I[y1;y2;w] = I[y1;y2] >= 0`` is exactly what top-b
    BALD double-counts: ``I[y1;w] + I[y2;w] - I[y1,y2;w]``. Keys as in
    :func:`three_variable_regions_from_joint` with names ``("y1", "y2", "w")``.
    """
    check_log_probs(log_probs_2_K_C)
    if log_probs_2_K_C.shape[0] != 2:
        raise ValueError(f"need exactly 2 points, got {log_probs_2_K_C.shape[0]}")
    K = log_probs_2_K_C.shape[1]
    probs_2_K_C = log_probs_2_K_C.double().exp()
    probs_C_C_K = torch.einsum("kc,kd->cdk", probs_2_K_C[0], probs_2_K_C[1]) / K
    return three_variable_regions_from_joint(probs_C_C_K, names=("y1", "y2", "w"))
