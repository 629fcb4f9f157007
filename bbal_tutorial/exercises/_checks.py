"""The machinery shared by every exercise check: run the student's code, compare with known answers,
print ``✓``/``✗`` with a hint, raise in strict mode; small constructors of test inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from bbal_tutorial import information

#: Absolute tolerance (nats) when comparing entropies and scores with the known answers: float64
#: arithmetic on float32 inputs agrees to ~1e-12; a float32 computation to ~1e-7.
ATOL = 1e-6

#: Tolerance (nats) of the per-point checks that ask for float64 (:func:`_check_vector`): float64
#: arithmetic agrees with the known answers to ~1e-15, a float32 computation cast to float64 at
#: the end misses them by ~1e-8 to 1e-7 (already ``log 2`` in float32 is 2e-9 off), so a result
#: within :data:`ATOL` but not within this was computed (partly) in float32.
FLOAT64_ATOL = 1e-10


class _MismatchError(Exception):
    """The student's answer differs from the known one; the message is the hint."""


def _report(name: str, run: Callable[[], str], strict: bool) -> bool | None:
    """Run the cases of one check and print ``✓ name: ...`` or ``✗ name: hint``.

    Returns True or False; with ``strict``, None on success (see the module docstring) and
    ``AssertionError`` on failure.
    """
    try:
        success = run()
    except _MismatchError as mismatch:
        message = f"✗ {name}: {mismatch}"
        if strict:
            raise AssertionError(message) from None
        print(message)
        return False
    print(f"✓ {name}: {success}")
    return None if strict else True


def _call(fn: Callable[..., Any], *args: Any, context: str = "") -> Any:
    """Call the student's function; its exceptions become hints (NotImplementedError propagates)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # the student's code failed: say how, as a hint
        where = f" {context}" if context else ""
        raise _MismatchError(
            f"your function raised {type(error).__name__}{where}: {error} "
            "(call it yourself on the same input to see the traceback)"
        ) from error


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _log_probs(probs: Sequence) -> torch.Tensor:
    """log of a nested list of probabilities, float64; ``log 0 = -inf``."""
    return torch.tensor(probs, dtype=torch.float64).log()


def _certain(labels_K: Sequence[int], num_classes: int) -> torch.Tensor:
    """``log_probs_K_C`` of K samples, each certain of its own label (``-inf`` elsewhere)."""
    probs_K_C = torch.zeros(len(labels_K), num_classes, dtype=torch.float64)
    probs_K_C[torch.arange(len(labels_K)), torch.tensor(labels_K)] = 1.0
    return probs_K_C.log()


def _h(*probs: float) -> float:
    """Entropy (nats) of a hand-written distribution, ``0 log 0 = 0``: the predictive entropy of
    one point with one posterior sample."""
    return float(information.entropy(_log_probs([[probs]]))[0])


def _random_log_probs(N: int, K: int, C: int, seed: int, sharpness: float = 3.0) -> torch.Tensor:
    """Random, varied predictions (float32, as ``predict_log_probs`` returns them)."""
    generator = torch.Generator().manual_seed(seed)
    logits = sharpness * torch.randn(N, K, C, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1).float()


def _check_vector(
    got: Any,
    expected_N: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    descriptions: Sequence[str],
    variants: dict[str, torch.Tensor],
    what: str,
) -> None:
    """Raise a :class:`_MismatchError` naming what is off in a per-point result ``got``."""
    N = expected_N.shape[0]
    if not isinstance(got, torch.Tensor):
        raise _MismatchError(
            f"returned a {type(got).__name__}; return a torch.Tensor of shape ({N},), one {what} "
            "per pool point"
        )
    if tuple(got.shape) != (N,):
        raise _MismatchError(
            f"returned shape {tuple(got.shape)} for log_probs_N_K_C of shape "
            f"{tuple(log_probs_N_K_C.shape)}; expected ({N},), one {what} per point: reduce over "
            "K (dim 1) and C (dim 2), keep N (dim 0)"
        )
    if got.dtype != torch.float64:
        raise _MismatchError(
            f"returned {got.dtype}; return float64 (start with log_probs_N_K_C.double()): model "
            "outputs are float32, and differences of entropies lose most of their digits in float32"
        )
    got = got.detach().cpu()
    nan = torch.isnan(got)
    if nan.any():
        n = int(nan.nonzero()[0, 0])
        if torch.isneginf(log_probs_N_K_C[n]).any():
            raise _MismatchError(
                f"NaN for point {n}, which has probabilities of exactly 0 (log p = -inf): "
                "0 · log 0 must count as 0; exp(-inf) · -inf is NaN in floating point, so use "
                "torch.special.entr(p) or torch.where(p > 0, ...)"
            )
        raise _MismatchError(f"NaN for point {n} ({descriptions[n]})")
    error = float((got - expected_N).abs().max())
    if error <= FLOAT64_ATOL:
        return
    if error <= ATOL:
        n = int((got - expected_N).abs().argmax())
        raise _MismatchError(
            f"point {n} ({descriptions[n]}) is off by {error:.1e}: right to float32 precision, "
            f"but float64 arithmetic agrees to {FLOAT64_ATOL:g}. Compute in float64 throughout: "
            "call .double() on log_probs_N_K_C before exp, log or mean (casting the result at "
            "the end is too late), and add no epsilon inside the log"
        )
    for hint, variant_N in variants.items():
        if torch.allclose(got, variant_N.double(), rtol=0, atol=ATOL, equal_nan=True):
            raise _MismatchError(hint)
    n = int((got - expected_N).abs().argmax())
    raise _MismatchError(
        f"point {n} ({descriptions[n]}): expected {_fmt(expected_N[n])}, got {_fmt(got[n])}"
    )


def _as_float(got: Any, what: str) -> float:
    """A Python float from a number or a one-element tensor; a hint otherwise."""
    if isinstance(got, torch.Tensor):
        if got.numel() != 1:
            raise _MismatchError(
                f"returned a tensor of shape {tuple(got.shape)}; {what} is one number "
                "(sum over everything, then return float(...))"
            )
        return float(got)
    try:
        return float(got)
    except (TypeError, ValueError):
        raise _MismatchError(f"returned a {type(got).__name__}; return a float ({what})") from None
