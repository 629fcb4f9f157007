"""Small explicit examples for the intuition notebooks: a handful of posterior samples, by hand.

Everything here builds ``log_probs_K_C`` (one point) or ``log_probs_2_K_C`` (two points) from a
few readable knobs, so that a student can move a slider and watch the information quantities of
:mod:`bbal_tutorial.information` move.  K posterior samples ``w_1..w_K`` are equally likely (the
empirical posterior), so ``H[w] = log K``.

The building block is a *peaked* distribution over C classes: probability ``confidence`` on one
favourite class and ``(1 - confidence) / (C - 1)`` on each of the others.  ``confidence = 1/C`` is
the uniform distribution (an unsure sample), ``confidence = 1`` a one-hot (a certain sample).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from bbal_tutorial import information

__all__ = [
    "peaked_probs",
    "sample_predictions_log_probs",
    "two_points_log_probs",
    "batch_information",
    "parity_joint",
]


def _as_per_sample(value: float | Sequence[float], num_samples: int, name: str) -> torch.Tensor:
    """A float or K floats as a float64 tensor of shape (K,), each checked to lie in [0, 1]."""
    values_K = torch.as_tensor(value, dtype=torch.float64).flatten()
    if values_K.numel() == 1:
        values_K = values_K.expand(num_samples)
    if values_K.numel() != num_samples:
        raise ValueError(f"{name} needs 1 or K = {num_samples} values, got {values_K.numel()}")
    if not bool(((values_K >= 0) & (values_K <= 1)).all()):
        raise ValueError(f"{name} must lie in [0, 1], got {values_K.tolist()}")
    return values_K.clone()


def peaked_probs(
    favourite_K: Sequence[int] | torch.Tensor,
    confidence: float | Sequence[float],
    num_classes: int,
) -> torch.Tensor:
    """``q_k(c) = confidence_k`` if ``c = favourite_k`` else ``(1 - confidence_k) / (C - 1)``.

    Shape (K, C), float64; each row sums to 1. With ``C = 1`` the only class gets probability 1.
    """
    favourite_K = torch.as_tensor(favourite_K, dtype=torch.long).flatten()
    K, C = favourite_K.numel(), num_classes
    if C < 1:
        raise ValueError(f"num_classes must be at least 1, got {C}")
    if not bool(((favourite_K >= 0) & (favourite_K < C)).all()):
        raise ValueError(f"favourite classes must lie in 0..{C - 1}, got {favourite_K.tolist()}")
    confidence_K = _as_per_sample(confidence, K, "confidence")
    if C == 1:
        return torch.ones((K, 1), dtype=torch.float64)
    probs_K_C = ((1 - confidence_K) / (C - 1))[:, None].repeat(1, C)
    probs_K_C[torch.arange(K), favourite_K] = confidence_K
    return probs_K_C


def _log(probs: torch.Tensor) -> torch.Tensor:
    # log 0 = -inf is a valid log-probability (information handles 0 · log 0 = 0).
    return probs.clamp(min=0).log()


def sample_predictions_log_probs(
    num_samples: int = 4,
    num_classes: int = 3,
    *,
    disagreement: float = 0.5,
    confidence: float | Sequence[float] = 0.9,
    favourites: Sequence[int] | None = None,
) -> torch.Tensor:
    """K samples' predictions for one point: ``log p(y | x, w_k)``, shape (K, C), float64.

    Each sample mixes a shared opinion with its own::

        p(y | w_k) = (1 - disagreement) · q_k(class 0) + disagreement · q_k(favourite_k)

    where ``q_k(j)`` is the peaked distribution with sample k's ``confidence`` on class j
    (:func:`peaked_probs`) and ``favourite_k = k mod C`` unless ``favourites`` is given.
    ``disagreement = 0``: every sample predicts the same ``q(class 0)``, so BALD ``I[y;w] = 0``
    whatever the confidence; ``disagreement = 1`` and ``confidence = 1``: each sample is certain of
    its own favourite, so ``E_w H[y|w] = 0`` and BALD equals ``H[y]``.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if not 0 <= disagreement <= 1:
        raise ValueError(f"disagreement must lie in [0, 1], got {disagreement}")
    K, C = num_samples, num_classes
    favourite_K = torch.arange(K) % max(C, 1) if favourites is None else favourites
    shared_K_C = peaked_probs([0] * K, confidence, C)
    own_K_C = peaked_probs(favourite_K, confidence, C)
    return _log((1 - disagreement) * shared_K_C + disagreement * own_K_C)


def two_points_log_probs(
    shift: int, *, num_samples: int = 8, confidence: float = 1.0
) -> torch.Tensor:
    """Two points whose labels split the K samples in two halves, one split rotated by ``shift``.

    Picture the K samples on a circle. Point x1's favourite class (binary, C = 2) is 1 for
    ``w_k`` with ``k < K/2`` and 0 for the rest; point x2 uses the same split rotated by ``shift``
    samples, ``favourite_2(k) = favourite_1((k - shift) mod K)``; every sample puts ``confidence``
    on its favourite. Each point alone has the same BALD score whatever the shift (its split
    still halves the samples); what changes is how much their labels overlap:

    * ``shift = 0``: x2 is a copy of x1. With certain samples (``confidence = 1``) its label adds
      nothing, ``I[y1,y2;w] = I[y1;w]``; with noisy ones a second label of the same point (drawn
      independently given w) still adds a little, but far less than BALD's sum claims;
    * ``shift = K/4`` (K divisible by 4): the two splits are independent, ``I[y1;y2] = 0``
      and ``I[y1,y2;w] = I[y1;w] + I[y2;w]``;
    * ``shift = K/2``: x2's favourite is always the *other* class, as redundant as a copy.

    Returns ``log_probs_2_K_C`` (float64), K = ``num_samples`` (even), C = 2.
    """
    K = num_samples
    if K < 2 or K % 2:
        raise ValueError(f"num_samples must be even and at least 2, got {K}")
    if not 0 <= shift <= K:
        raise ValueError(f"shift must lie in 0..{K}, got {shift}")
    k = torch.arange(K)
    favourite_1_K = (k < K // 2).long()
    favourite_2_K = favourite_1_K[(k - shift) % K]
    probs_2_K_C = torch.stack(
        [peaked_probs(favourite_1_K, confidence, 2), peaked_probs(favourite_2_K, confidence, 2)]
    )
    return _log(probs_2_K_C)


def batch_information(log_probs_2_K_C: torch.Tensor) -> dict[str, float]:
    """BALD's sum against BatchBALD for two points, in nats.

    * ``"I[y1;w]"``, ``"I[y2;w]"``: the individual BALD scores;
    * ``"BALD sum"`` ``= I[y1;w] + I[y2;w]`` (what top-b BALD maximises);
    * ``"I[y1,y2;w]"`` ``= H[y1,y2] - E_w H[y1|w] - E_w H[y2|w]`` (BatchBALD; the conditional
      entropies add because the labels are independent given w);
    * ``"double-counted"`` ``= BALD sum - I[y1,y2;w]``, the centre ``I[y1;y2;w]`` of the
      three-variable diagram, counted twice by the sum (here equal to ``I[y1;y2] >= 0``).
    """
    information.check_log_probs(log_probs_2_K_C)
    if log_probs_2_K_C.shape[0] != 2:
        raise ValueError(f"need exactly 2 points, got {log_probs_2_K_C.shape[0]}")
    bald_2 = information.mutual_information(log_probs_2_K_C)
    joint = information.joint_entropy_exact(log_probs_2_K_C)
    batchbald = float(joint - information.conditional_entropy(log_probs_2_K_C).sum())
    bald_sum = float(bald_2.sum())
    return {
        "I[y1;w]": float(bald_2[0]),
        "I[y2;w]": float(bald_2[1]),
        "BALD sum": bald_sum,
        "I[y1,y2;w]": batchbald,
        "double-counted": bald_sum - batchbald,
    }


def parity_joint() -> torch.Tensor:
    """A joint ``p(y1, y2, w)`` whose information diagram has a negative centre (``-log 2``).

    ``y1`` and ``w`` are independent fair bits and ``y2 = y1 XOR w``: each label alone says
    nothing about w (``I[y1;w] = I[y2;w] = 0``) but the pair reveals it (``I[y1,y2;w] = log 2``),
    so the centre ``I[y1;y2;w] = I[y1;w] - I[y1;w|y2] = -log 2``. This needs labels that are
    *not* independent given w; a Bayesian classifier's labels are, which keeps its centre
    ``>= 0``. Shape (2, 2, 2) indexed ``[y1, y2, w]``, float64.
    """
    probs_Y1_Y2_W = torch.zeros((2, 2, 2), dtype=torch.float64)
    for y1 in range(2):
        for w in range(2):
            probs_Y1_Y2_W[y1, y1 ^ w, w] = 0.25
    return probs_Y1_Y2_W
