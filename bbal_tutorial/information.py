"""Information quantities for Bayesian active learning, computed from ``log_probs_N_K_C``.

Shapes: N pool points, K posterior samples ``w_1..w_K`` (e.g. MC-dropout masks), C classes.
``log_probs_N_K_C[n, k, c] = log p(y_n = c | x_n, w_k)``. The posterior over ``w`` is the empirical,
uniform distribution over the K samples, so ``H[w] = log K`` and every expectation over ``w`` is a
mean over k.

All results are float64 and computed in log space; ``0 · log 0 = 0``, so log-probabilities of
``-inf`` (zero probabilities) give finite, correct results.

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

Information diagrams: :func:`two_variable_regions` (y and w of one point) and
:func:`three_variable_regions` (y1, y2 and w: seven regions, centre = co-information).
"""

from __future__ import annotations

import math

import torch


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


__all__ = [
    "check_log_probs",
    "predictive_log_probs",
    "entropy",
    "conditional_entropy",
    "mutual_information",
    "exact_configurations",
    "extend_exact_configurations",
    "sample_configurations",
    "extend_sampled_configurations",
    "merge_identical_configurations",
    "configuration_posterior",
    "candidate_probs",
    "precompute_candidate_probs",
    "entropy_given_configurations",
    "entropy_given_posterior",
    "joint_entropy_exact",
    "joint_entropy_sampled",
    "joint_entropy",
    "two_variable_regions",
    "three_variable_regions",
    "two_variable_regions_from_joint",
    "three_variable_regions_from_joint",
]


#: Largest |logsumexp_c log p - 0| accepted by :func:`check_log_probs`. float32 ``log_softmax`` is
#: off by ~1e-6 even for C = 47; logits or probabilities passed by mistake are off by far more.
NORMALISATION_ATOL = 1e-3


#: :func:`joint_entropy_exact` refuses to enumerate more configurations than this (memory: M × K).
MAX_EXACT_CONFIGURATIONS = 2**20


#: Working memory (bytes) for the tiles of :func:`entropy_given_configurations`.
DEFAULT_MEMORY_BUDGET = 256 * 2**20


# On a CPU, moderate tiles (8 MB buffers, inside the L3 cache) ran 10-30% faster than tiles of
# hundreds of MB on the benchmark machine; on a GPU, larger is better and the budget alone decides.
_CPU_TILE_ROWS = 1024


_CPU_TILE_ELEMENTS = 2**21


# Points per chunk in the per-point quantities: bounds the float64 temporaries to ~100 MB.
_PER_POINT_CHUNK_ELEMENTS = 2**22


# Tiles of the product: probabilities (posterior and candidate) below `flush` are set to 0 and
# `floor` is added to every candidate probability. With both, every product of two entries is a
# normal number (denormals are slow on x86) and no conditional probability is 0. Effect on an
# entropy: < C · K · flush · |log flush| + C · floor · |log floor|, ~1e-12 nats for float32 (below
# its resolution) and ~1e-95 for float64.
_FLUSH_AND_FLOOR = {torch.float32: (1e-15, 1e-20), torch.float64: (1e-100, 1e-150)}


def check_log_probs(log_probs_N_K_C: torch.Tensor, *, atol: float = NORMALISATION_ATOL) -> None:
    """Raise ``ValueError`` (``TypeError`` for a non-tensor) naming what is wrong with the input.

    Checks: a floating-point tensor of 3 dimensions (N, K, C) with K >= 1 and C >= 1, no NaN, no
    ``+inf`` (``-inf`` is a valid log-probability: a zero probability), and every row normalised:
    ``|logsumexp_c log p(y=c|x,w_k)| <= atol`` (at least ``8 eps`` of the dtype, for float16 and
    bfloat16 inputs).
    """
    if not isinstance(log_probs_N_K_C, torch.Tensor):
        raise TypeError(f"log_probs_N_K_C must be a torch.Tensor, got {type(log_probs_N_K_C)}")
    if log_probs_N_K_C.dim() != 3:
        raise ValueError(
            "log_probs_N_K_C must be 3-D (N points, K posterior samples, C classes); "
            f"got shape {tuple(log_probs_N_K_C.shape)}"
        )
    if not log_probs_N_K_C.is_floating_point():
        raise ValueError(f"log_probs_N_K_C must be floating point, got {log_probs_N_K_C.dtype}")
    N, K, C = log_probs_N_K_C.shape
    if K < 1:
        raise ValueError(f"need at least K = 1 posterior sample, got K = {K}")
    if C < 1:
        raise ValueError(f"need at least C = 1 class, got C = {C}")
    if N == 0:
        return
    if torch.isnan(log_probs_N_K_C).any():
        raise ValueError("log_probs_N_K_C contains NaN")
    if torch.isposinf(log_probs_N_K_C).any():
        raise ValueError("log_probs_N_K_C contains +inf (a log-probability is at most 0)")
    # half precision rounds each log-prob by up to eps: widen the tolerance accordingly
    atol = max(atol, 8 * torch.finfo(log_probs_N_K_C.dtype).eps)
    log_norm_N_K = torch.logsumexp(
        log_probs_N_K_C.to(torch.promote_types(log_probs_N_K_C.dtype, torch.float32)), dim=2
    )
    deviation = log_norm_N_K.abs().max().item()
    if not deviation <= atol:  # also catches rows that are all -inf (deviation = inf)
        raise ValueError(
            "log_probs_N_K_C rows are not normalised: logsumexp over classes deviates from 0 by "
            f"{deviation:.3g} (tolerance {atol:g}); pass log-probabilities (log_softmax), "
            "not logits or probabilities"
        )


def _neg_p_log_p(log_p: torch.Tensor) -> torch.Tensor:
    """``-p log p`` from ``log p``, with ``0 · log 0 = 0`` (``exp(-inf) · -inf`` would be NaN)."""
    return torch.where(torch.isneginf(log_p), 0.0, -log_p.exp() * log_p)


def _predictive_log_probs(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    log_probs_N_K_C = log_probs_N_K_C.double()
    K = log_probs_N_K_C.shape[1]
    return torch.logsumexp(log_probs_N_K_C, dim=1) - math.log(K)


def _entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return _neg_p_log_p(_predictive_log_probs(log_probs_N_K_C)).sum(dim=1)


def _conditional_entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return _neg_p_log_p(log_probs_N_K_C.double()).sum(dim=2).mean(dim=1)


def _bald(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    return _entropy(log_probs_N_K_C) - _conditional_entropy(log_probs_N_K_C)


def per_point(function, log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """Apply a per-point ``function`` to chunks of points, so float64 copies stay small."""
    N, K, C = log_probs_N_K_C.shape
    step = max(1, _PER_POINT_CHUNK_ELEMENTS // max(1, K * C))
    if N <= step:
        return function(log_probs_N_K_C)
    return torch.cat([function(log_probs_N_K_C[i : i + step]) for i in range(0, N, step)])


def predictive_log_probs(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """``log p(y|x) = logsumexp_k log p(y|x,w_k) - log K``, shape (N, C), float64."""
    check_log_probs(log_probs_N_K_C)
    return per_point(_predictive_log_probs, log_probs_N_K_C)


def entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """Entropy of the predictive distribution, ``H[y] = -sum_c p(c|x) log p(c|x)``, shape (N,)."""
    check_log_probs(log_probs_N_K_C)
    return per_point(_entropy, log_probs_N_K_C)


def conditional_entropy(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """Expected conditional entropy ``E_w H[y|w] = 1/K sum_k H[y|x,w_k]``, shape (N,)."""
    check_log_probs(log_probs_N_K_C)
    return per_point(_conditional_entropy, log_probs_N_K_C)


def mutual_information(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """BALD: ``I[y;w] = H[y] - E_w H[y|w]``, shape (N,).

    Non-negative up to rounding (the entropy of a mixture is at least the mean entropy); exactly 0
    for K = 1. Bounded by ``min(log C, log K)``.
    """
    check_log_probs(log_probs_N_K_C)
    return per_point(_bald, log_probs_N_K_C)


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


def _make_generator(seed: int | None) -> torch.Generator:
    """A private CPU generator: reproducible under ``seed``; never touches torch's global RNG."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


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
    return log_joint_M_K + log_probs_K_C.double()[:, labels_M].t()


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


def _log_marginal(log_joint_M_K: torch.Tensor) -> torch.Tensor:
    """``log p(c_m) = logsumexp_k log p(c_m|w_k) - log K``."""
    return torch.logsumexp(log_joint_M_K, dim=1) - math.log(log_joint_M_K.shape[1])


def _tile_shape(M: int, N: int, K: int, C: int, itemsize: int, budget: int, on_cpu: bool):
    """Rows (configurations) and candidates per tile within ``budget`` bytes of working memory.

    A tile of r rows and n candidates needs two (r × n·C) buffers plus the candidates'
    (K × n·C) probabilities: ``itemsize · C · n · (2 r + K)`` bytes. At least one row and one
    candidate, whatever the budget.
    """
    rows = min(M, _CPU_TILE_ROWS) if on_cpu else M
    rows = max(1, min(rows, (budget // (itemsize * C) - K) // 2))
    candidates = max(1, min(N, budget // (itemsize * C * (2 * rows + K))))
    if on_cpu:
        candidates = max(1, min(candidates, _CPU_TILE_ELEMENTS // (rows * C)))
    return rows, candidates


def _max_tile_buffer_bytes(C: int, itemsize: int, budget: int, on_cpu: bool) -> int:
    """Upper bound on the two (rows × candidates·C) buffers of :func:`_tile_shape`, for any M and N.

    Within ``budget`` (unless it is too small for one row and one candidate); on a CPU also at
    most ``_CPU_TILE_ELEMENTS`` entries each, or one candidate of ``_CPU_TILE_ROWS`` rows.
    """
    if not on_cpu:
        return budget
    return min(budget, 2 * itemsize * max(_CPU_TILE_ELEMENTS, _CPU_TILE_ROWS * C))


def merge_identical_configurations(
    log_joint_M_K: torch.Tensor, weights_M: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge configurations with identical ``log p(c_m | w_k)`` rows, adding up their weights.

    Everything computed from a configuration depends on that row alone, so the weighted sums are
    unchanged; but sampled configurations repeat a lot (10,000 samples of 5 uncertain points held
    ~1,400 distinct ones in the benchmark), and each merged row saves a row of the big product.
    """
    unique_U_K, inverse_M = torch.unique(log_joint_M_K, dim=0, return_inverse=True)
    weights_U = weights_M.new_zeros(unique_U_K.shape[0]).index_add_(0, inverse_M, weights_M)
    return unique_U_K, weights_U


def configuration_posterior(log_joint_M_K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(posterior_M_K, log_marginal_M)``: ``p(w_k | c_m)`` and ``log p(c_m)``, float64.

    ``p(w_k | c_m) = p(c_m | w_k) / (K p(c_m))`` (Bayes with the uniform prior over the K samples);
    each row sums to 1. Rows of configurations with ``p(c_m) = 0`` are NaN: drop them first.
    """
    log_marginal_M = _log_marginal(log_joint_M_K)
    posterior_M_K = (log_joint_M_K - log_marginal_M[:, None]).exp() / log_joint_M_K.shape[1]
    return posterior_M_K, log_marginal_M


def candidate_probs(log_probs_N_K_C: torch.Tensor, compute_dtype: torch.dtype) -> torch.Tensor:
    """``p(y_n = c | w_k)`` as the right-hand side of the big product: ``probs_K_W``, W = N·C.

    Column ``n·C + c`` holds candidate n's class c. Probabilities below the dtype's flush level are
    set to 0 and a floor is added to all (``_FLUSH_AND_FLOOR``): then no product of two entries is
    a slow denormal, and 0 · log 0 = 0 needs no clamping pass per tile, because the floor adds
    exactly ``floor`` to each ``p(y | c_m)`` (posterior rows sum to 1), so no entry is 0; it
    shifts the entropy by < C · floor · |log floor|, far below the dtype's resolution.
    """
    N, K, C = log_probs_N_K_C.shape
    flush, floor = _FLUSH_AND_FLOOR[compute_dtype]
    probs_N_K_C = log_probs_N_K_C.to(compute_dtype).exp()
    probs_N_K_C = probs_N_K_C.masked_fill_(probs_N_K_C < flush, 0.0).add_(floor)
    return probs_N_K_C.permute(1, 0, 2).reshape(K, N * C)


@torch.no_grad()
def precompute_candidate_probs(
    log_probs_N_K_C: torch.Tensor,
    compute_dtype: torch.dtype,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> torch.Tensor | None:
    """:func:`candidate_probs` of all N candidates, or ``None`` if it does not fit the budget.

    For callers that run :func:`entropy_given_posterior` many times on the same candidates (each
    greedy step of BatchBALD): computing the probabilities once saves an ``exp`` and a transposing
    copy of all N·K·C log-probabilities per call. The copy is kept only if it fits in
    ``memory_budget`` next to the largest tiles :func:`entropy_given_posterior` may allocate with
    that budget (any M), so budget and tiles, hence results, are exactly those of the per-tile path.
    Built a chunk of candidates at a time, so the temporaries stay small.
    """
    N, K, C = log_probs_N_K_C.shape
    device = log_probs_N_K_C.device
    itemsize = torch.finfo(compute_dtype).bits // 8
    tiles = _max_tile_buffer_bytes(C, itemsize, memory_budget, on_cpu=device.type == "cpu")
    if itemsize * N * K * C + tiles > memory_budget:
        return None
    probs_K_W = torch.empty((K, N * C), dtype=compute_dtype, device=device)
    step = max(1, _PER_POINT_CHUNK_ELEMENTS // max(1, K * C))
    for start in range(0, N, step):
        end = min(N, start + step)
        probs_K_W[:, start * C : end * C] = candidate_probs(
            log_probs_N_K_C[start:end], compute_dtype
        )
    return probs_K_W


@torch.no_grad()
def entropy_given_configurations(
    log_joint_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    *,
    compute_dtype: torch.dtype = torch.float64,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> torch.Tensor:
    """For every candidate n: ``sum_m weights_m · H[y_n | Y_S = c_m]``, shape (N,), float64.

    With all configurations and ``weights_m = p(c_m)`` this is the conditional entropy
    ``H[y_n | Y_S]``; with M sampled configurations and ``weights_m = 1/M`` it is its Monte-Carlo
    estimate. Either way ``H[Y_S, y_n] = H[Y_S] + result[n]``. Configurations with ``p(c_m) = 0``
    are skipped (they can only carry weight 0). See :func:`entropy_given_posterior`.
    """
    posterior_M_K, log_marginal_M = configuration_posterior(log_joint_M_K)
    possible_M = torch.isfinite(log_marginal_M)
    return entropy_given_posterior(
        posterior_M_K[possible_M],
        weights_M[possible_M],
        log_probs_N_K_C,
        compute_dtype=compute_dtype,
        memory_budget=memory_budget,
    )


@torch.no_grad()
def entropy_given_posterior(
    posterior_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    *,
    compute_dtype: torch.dtype = torch.float64,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    probs_K_W: torch.Tensor | None = None,
) -> torch.Tensor:
    """``sum_m weights_m · H[y_n | c_m]`` for every candidate n, from ``p(w_k | c_m)``; float64.

    ``p(y_n = c | c_m) = sum_k p(w_k | c_m) p(y_n = c | w_k)``: for all candidates at once one
    matrix product ``(M × K) @ (K × N·C)``, done in tiles of rows × candidates that fit
    ``memory_budget`` bytes, each followed by ``sum_m weights_m sum_c -p log p``.
    ``compute_dtype`` is the dtype of the product (float64 or float32: the posterior rows and the
    conditionals lie in [0, 1], so float32 loses only relative precision); sums are float64.
    ``probs_K_W``: :func:`candidate_probs` of ``log_probs_N_K_C`` in ``compute_dtype``, if already
    computed (:func:`precompute_candidate_probs`); otherwise it is computed tile by tile. The result
    is the same to the last bit either way: tiles and arithmetic do not change.
    """
    M, K = posterior_M_K.shape
    N, _, C = log_probs_N_K_C.shape
    device = log_probs_N_K_C.device
    if probs_K_W is not None and (
        probs_K_W.shape != (K, N * C) or probs_K_W.dtype != compute_dtype
    ):
        raise ValueError(
            f"probs_K_W must be candidate_probs(log_probs_N_K_C, {compute_dtype}) of shape "
            f"{(K, N * C)}, got {tuple(probs_K_W.shape)} {probs_K_W.dtype}"
        )
    result_N = torch.zeros(N, dtype=torch.float64, device=device)
    if N == 0 or M == 0:
        return result_N
    flush, _ = _FLUSH_AND_FLOOR[compute_dtype]
    posterior_M_K = posterior_M_K.masked_fill(posterior_M_K < flush, 0.0).to(compute_dtype)
    weights_M = weights_M.to(compute_dtype)

    itemsize = torch.finfo(compute_dtype).bits // 8
    rows, candidates = _tile_shape(M, N, K, C, itemsize, memory_budget, on_cpu=device.type == "cpu")
    buffer = torch.empty(rows * candidates * C, dtype=compute_dtype, device=device)
    log_buffer = torch.empty_like(buffer)
    for start in range(0, N, candidates):
        end = min(N, start + candidates)
        width = (end - start) * C
        if probs_K_W is None:
            tile_probs_K_W = candidate_probs(log_probs_N_K_C[start:end], compute_dtype)
        else:  # a view of the precomputed columns (a strided slice: no copy)
            tile_probs_K_W = probs_K_W[:, start * C : end * C]
        sum_W = torch.zeros(width, dtype=torch.float64, device=device)
        for row in range(0, M, rows):
            row_end = min(M, row + rows)
            height = row_end - row
            # cond_probs[m, (n, c)] = p(y_n = c | c_m)
            cond_probs = buffer[: height * width].view(height, width)
            torch.mm(posterior_M_K[row:row_end], tile_probs_K_W, out=cond_probs)
            # log2 is ~10% faster than log on CPU; the factor ln 2 is applied once, below.
            p_log2_p = log_buffer[: height * width].view(height, width)
            torch.log2(cond_probs, out=p_log2_p).mul_(cond_probs)
            sum_W += (weights_M[row:row_end] @ p_log2_p).double()
        result_N[start:end] = -math.log(2) * sum_W.view(end - start, C).sum(dim=1)
    return result_N


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
    return _neg_p_log_p(_log_marginal(exact_configurations(log_probs_n_K_C))).sum()


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
    generator = generator if generator is not None else _make_generator(seed)
    log_joint_M_K, _ = sample_configurations(log_probs_n_K_C[:-1], num_samples, generator)
    weights_M = torch.full((num_samples,), 1.0 / num_samples, dtype=torch.float64)
    weights_M = weights_M.to(log_probs_n_K_C.device)
    entropy_first = (-_log_marginal(log_joint_M_K)).mean()
    log_joint_U_K, weights_U = merge_identical_configurations(log_joint_M_K, weights_M)
    entropy_last = entropy_given_configurations(log_joint_U_K, weights_U, log_probs_n_K_C[-1:])
    return entropy_first + entropy_last[0]


def joint_entropy(
    log_probs_n_K_C: torch.Tensor, *, num_samples: int = 10_000, seed: int | None = None
) -> torch.Tensor:
    """``H[y_1..y_n]``: exact while ``C^n <= num_samples``, else sampled with ``num_samples``."""
    n, K, C = log_probs_n_K_C.shape
    if C**n <= num_samples:
        return joint_entropy_exact(log_probs_n_K_C)
    return joint_entropy_sampled(log_probs_n_K_C, num_samples, seed=seed)


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
