"""Performance only: the tiled, memory-bounded products behind the joint entropies.

Nothing here defines a quantity; :mod:`bbal_tutorial.information` states every formula and calls
these functions to compute some of them fast and within a memory budget. The one heavy step is
``p(y_n = c | c_m) = sum_k p(w_k | c_m) p(y_n = c | w_k)`` for M configurations and all N
candidates, followed by ``sum_m weights_m sum_c -p log p``: a matrix product
``(M × K) @ (K × N·C)`` done in tiles (:func:`entropy_given_posterior`). The rest: tile shapes,
the candidates' probabilities computed once for many products
(:func:`precompute_candidate_probs`), merging repeated configurations
(:func:`merge_identical_configurations`) and chunking per-point quantities (:func:`per_point`).
Tiles, flush levels and merging never change a result beyond the dtype's resolution, and the
precomputed and per-tile paths give the same bits.

Imports torch and math only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "candidate_probs",
    "entropy_given_posterior",
    "max_tile_buffer_bytes",
    "merge_identical_configurations",
    "per_point",
    "precompute_candidate_probs",
    "tile_shape",
]


#: Working memory (bytes) for the tiles of :func:`entropy_given_posterior`.
DEFAULT_MEMORY_BUDGET = 256 * 2**20


# On a CPU, moderate tiles (8 MB buffers, inside the L3 cache) ran 10-30% faster than tiles of
# hundreds of MB on the benchmark machine; on a GPU, larger is better and the budget alone decides.
CPU_TILE_ROWS = 1024


CPU_TILE_ELEMENTS = 2**21


# Points per chunk in the per-point quantities: bounds the float64 temporaries to ~100 MB.
PER_POINT_CHUNK_ELEMENTS = 2**22


# Tiles of the product: probabilities (posterior and candidate) below `flush` are set to 0 and
# `floor` is added to every candidate probability. With both, every product of two entries is a
# normal number (denormals are slow on x86) and no conditional probability is 0. Effect on an
# entropy: < C · K · flush · |log flush| + C · floor · |log floor|, ~1e-12 nats for float32 (below
# its resolution) and ~1e-95 for float64.
FLUSH_AND_FLOOR = {torch.float32: (1e-15, 1e-20), torch.float64: (1e-100, 1e-150)}


def per_point(
    function: Callable[[torch.Tensor], torch.Tensor], log_probs_N_K_C: torch.Tensor
) -> torch.Tensor:
    """Apply a per-point ``function`` to chunks of points, so float64 copies stay small."""
    N, K, C = log_probs_N_K_C.shape
    step = max(1, PER_POINT_CHUNK_ELEMENTS // max(1, K * C))
    if N <= step:
        return function(log_probs_N_K_C)
    return torch.cat([function(log_probs_N_K_C[i : i + step]) for i in range(0, N, step)])


def tile_shape(
    M: int, N: int, K: int, C: int, itemsize: int, budget: int, on_cpu: bool
) -> tuple[int, int]:
    """Rows (configurations) and candidates per tile within ``budget`` bytes of working memory.

    A tile of r rows and n candidates needs two (r × n·C) buffers plus the candidates'
    (K × n·C) probabilities: ``itemsize · C · n · (2 r + K)`` bytes. At least one row and one
    candidate, whatever the budget.
    """
    rows = min(M, CPU_TILE_ROWS) if on_cpu else M
    rows = max(1, min(rows, (budget // (itemsize * C) - K) // 2))
    candidates = max(1, min(N, budget // (itemsize * C * (2 * rows + K))))
    if on_cpu:
        candidates = max(1, min(candidates, CPU_TILE_ELEMENTS // (rows * C)))
    return rows, candidates


def max_tile_buffer_bytes(C: int, itemsize: int, budget: int, on_cpu: bool) -> int:
    """Upper bound on the two (rows × candidates·C) buffers of :func:`tile_shape`, for any M and N.

    Within ``budget`` (unless it is too small for one row and one candidate); on a CPU also at
    most ``CPU_TILE_ELEMENTS`` entries each, or one candidate of ``CPU_TILE_ROWS`` rows.
    """
    if not on_cpu:
        return budget
    return min(budget, 2 * itemsize * max(CPU_TILE_ELEMENTS, CPU_TILE_ROWS * C))


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


def candidate_probs(log_probs_N_K_C: torch.Tensor, compute_dtype: torch.dtype) -> torch.Tensor:
    """``p(y_n = c | w_k)`` as the right-hand side of the big product: ``probs_K_W``, W = N·C.

    Column ``n·C + c`` holds candidate n's class c. Probabilities below the dtype's flush level are
    set to 0 and a floor is added to all (``FLUSH_AND_FLOOR``): then no product of two entries is
    a slow denormal, and 0 · log 0 = 0 needs no clamping pass per tile, because the floor adds
    exactly ``floor`` to each ``p(y | c_m)`` (posterior rows sum to 1), so no entry is 0; it
    shifts the entropy by < C · floor · |log floor|, far below the dtype's resolution.
    """
    N, K, C = log_probs_N_K_C.shape
    flush, floor = FLUSH_AND_FLOOR[compute_dtype]
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
    tiles = max_tile_buffer_bytes(C, itemsize, memory_budget, on_cpu=device.type == "cpu")
    if itemsize * N * K * C + tiles > memory_budget:
        return None
    probs_K_W = torch.empty((K, N * C), dtype=compute_dtype, device=device)
    step = max(1, PER_POINT_CHUNK_ELEMENTS // max(1, K * C))
    for start in range(0, N, step):
        end = min(N, start + step)
        probs_K_W[:, start * C : end * C] = candidate_probs(
            log_probs_N_K_C[start:end], compute_dtype
        )
    return probs_K_W


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
    flush, _ = FLUSH_AND_FLOOR[compute_dtype]
    posterior_M_K = posterior_M_K.masked_fill(posterior_M_K < flush, 0.0).to(compute_dtype)
    weights_M = weights_M.to(compute_dtype)

    itemsize = torch.finfo(compute_dtype).bits // 8
    rows, candidates = tile_shape(M, N, K, C, itemsize, memory_budget, on_cpu=device.type == "cpu")
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
