"""Exercise of notebook 03: consistent MC-dropout masks."""

from __future__ import annotations

from collections.abc import Callable

import torch

from bbal_tutorial.exercises._checks import _call, _MismatchError, _report


def check_consistent_masks(
    fn: Callable[[int, int, float, torch.Generator], Callable[[torch.Tensor], torch.Tensor]],
    *,
    strict: bool = False,
) -> bool | None:
    """Check ``fn(num_features, k, p, generator) -> dropout``, where ``dropout(h_B_F) -> h_B_K_F``
    applies k MC-dropout masks that are drawn once (with ``generator``) and then reused.

    ``dropout`` must multiply every point's features by the same k masks, on every call and for
    any batch: ``h_B_K_F[b, j] = h_B_F[b] * mask_j`` with ``mask_j`` entries 0 (probability p) or
    ``1 / (1 - p)`` (inverted dropout, as ``torch.nn.Dropout``). Checks: the shape, the values,
    one mask per sample shared by all points, the same masks on a second call and for a split
    batch, different masks for different samples, the kept fraction ``1 - p`` (50 x 200 draws,
    within 0.03, six standard errors), p = 0, and reproducibility from the generator's seed.
    """

    def make(num_features: int, k: int, p: float, seed: int) -> Callable:
        generator = torch.Generator().manual_seed(seed)
        dropout = _call(fn, num_features, k, p, generator, context=f"for k = {k}, p = {p}")
        if not callable(dropout):
            raise _MismatchError(
                f"returned a {type(dropout).__name__}; return a function dropout(h_B_F) that "
                "applies the k masks"
            )
        return dropout

    def apply(dropout: Callable, h_B_F: torch.Tensor, k: int, what: str) -> torch.Tensor:
        out = _call(dropout, h_B_F.clone(), context=f"when dropout was applied to {what}")
        B, F = h_B_F.shape
        if not isinstance(out, torch.Tensor):
            raise _MismatchError(f"dropout returned a {type(out).__name__}; return a torch.Tensor")
        if tuple(out.shape) != (B, k, F):
            hint = ""
            if tuple(out.shape) == (B * k, F):
                hint = " (the k samples flattened into the batch: unflatten them into dim 1)"
            raise _MismatchError(
                f"dropout returned shape {tuple(out.shape)} for h_B_F of shape {(B, F)}; "
                f"expected (B, k, F) = {(B, k, F)}{hint}"
            )
        return out.detach()

    def run() -> str:
        B, F, k, p = 5, 40, 6, 0.5
        h_B_F = torch.rand(B, F, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
        h_B_F = h_B_F + 0.5  # no zero features: a 0 in the output then always means "dropped"
        dropout = make(F, k, p, seed=0)
        out = apply(dropout, h_B_F, k, "a batch of 5 points")
        ratio = out / h_B_F[:, None, :]
        if torch.isclose(ratio, torch.ones_like(ratio)).all():
            raise _MismatchError("nothing was dropped: multiply by masks of 0s and 1/(1-p)s")
        values = ratio.unique()
        scale = 1.0 / (1.0 - p)
        ok = torch.isclose(
            values, torch.tensor(0.0, dtype=values.dtype), atol=1e-6
        ) | torch.isclose(values, torch.tensor(scale, dtype=values.dtype))
        if not ok.all():
            if torch.isclose(values, torch.tensor(1.0, dtype=values.dtype)).any():
                raise _MismatchError(
                    f"kept features must be scaled by 1/(1-p) = {scale:g} (inverted dropout, as "
                    "nn.Dropout does), so that the expected activation stays the same"
                )
            raise _MismatchError(
                f"each output must be the input times 0 or 1/(1-p) = {scale:g}; found factors "
                f"{values[:5].tolist()}"
            )
        kept_B_K_F = out != 0
        if not (kept_B_K_F == kept_B_K_F[:1]).all():
            raise _MismatchError(
                "different points got different masks: sample j must be the same network "
                "(the same mask_j) for every point of the pool"
            )
        kept_K_F = kept_B_K_F[0]
        if (kept_K_F == kept_K_F[:1]).all():
            raise _MismatchError(
                "all k samples use the same mask, so the k networks are identical (and BALD is "
                "0): draw k different masks"
            )
        again = apply(dropout, h_B_F, k, "the same batch a second time")
        if not torch.equal(again, out):
            raise _MismatchError(
                "a second call gave different outputs: the masks are redrawn on every call. Draw "
                "the k masks once (when the dropout function is made) and reuse them"
            )
        halves = torch.cat(
            [apply(dropout, h_B_F[:2], k, "points 0-1"), apply(dropout, h_B_F[2:], k, "points 2-4")]
        )
        if not torch.equal(halves, out):
            raise _MismatchError(
                "scoring the pool in two batches gave different outputs than in one: every "
                "batch must see the same k masks"
            )
        if not torch.equal(
            apply(make(F, k, p, seed=0), h_B_F, k, "a batch, with a new generator seeded alike"),
            out,
        ):
            raise _MismatchError(
                "two dropout functions made from generators with the same seed differ: draw "
                "the masks with the generator argument (torch.bernoulli(..., generator=generator))"
            )
        if torch.equal(apply(make(F, k, p, seed=1), h_B_F, k, "a batch (seed 1)"), out):
            raise _MismatchError("a generator with a different seed gave the same masks")
        for p_kept in (0.5, 0.2):
            big = apply(make(200, 50, p_kept, seed=2), torch.ones(1, 200), 50, "ones(1, 200)")
            kept = float((big != 0).double().mean())
            if abs(kept - (1 - p_kept)) > 0.03:
                raise _MismatchError(
                    f"with p = {p_kept}, {kept:.1%} of the features were kept; dropout drops each "
                    f"feature with probability p, so about {1 - p_kept:.0%} should be kept"
                )
        none_dropped = apply(make(F, k, 0.0, seed=3), h_B_F, k, "a batch with p = 0")
        if not torch.allclose(none_dropped, h_B_F[:, None, :].expand(B, k, F)):
            raise _MismatchError(
                "with p = 0 nothing may be dropped: the output is h repeated k times"
            )
        return (
            "the same k masks for every point and every batch, scaled by 1/(1-p), kept fraction "
            "1 - p, reproducible from the generator"
        )

    return _report("consistent masks", run, strict)
