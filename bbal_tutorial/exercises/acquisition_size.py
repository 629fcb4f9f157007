"""Exercise of notebook 06: stochastic (power) acquisition."""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch

from bbal_tutorial.exercises._checks import _call, _MismatchError, _report

#: :func:`check_power_acquisition` draws this many batches per coldness and compares the
#: frequency of each first pick with its probability.
POWER_DRAWS = 2_000


#: ... and accepts a frequency within this many standard errors, ``sqrt(p (1 - p) / draws)``, of
#: the probability ``p`` (a correct sampler fails one of the 18 comparisons with probability
#: about 1e-5; the wrong samplers the check names are off by more than 10 standard errors).
POWER_Z = 5.0


def check_power_acquisition(
    fn: Callable[[torch.Tensor, int, float, torch.Generator], list[int]], *, strict: bool = False
) -> bool | None:
    """Check ``fn(scores_N, acquisition_size, coldness, generator) -> list[int]``:
    ``acquisition_size`` distinct indices drawn without replacement with
    ``p(n) ∝ score_n^coldness`` (e.g. Gumbel-top-k on ``coldness · log score``).

    Checks the length, distinctness and range; that ``acquisition_size = N`` is a permutation; that
    coldness 10,000 gives the top-b scores; that the generator makes it reproducible; and that
    over :data:`POWER_DRAWS` draws each index's first-pick frequency lies within
    :data:`POWER_Z` standard errors of its probability, for coldness 0 (uniform), 1 and 3.
    """
    scores_N = torch.tensor([0.2, 0.05, 0.9, 0.4, 0.7, 0.1], dtype=torch.float64)
    N = scores_N.shape[0]

    def draw(acquisition_size: int, coldness: float, generator: torch.Generator, what: str) -> list:
        got = _call(
            fn,
            scores_N.clone(),
            acquisition_size,
            coldness,
            generator,
            context=f"for acquisition_size = {acquisition_size}, coldness = {coldness:g} {what}",
        )
        if isinstance(got, torch.Tensor):
            got = got.tolist()
        try:
            indices = [operator.index(i) for i in got]
        except TypeError:
            raise _MismatchError(f"returned {got!r}; return a list of int pool indices") from None
        if len(indices) != acquisition_size:
            raise _MismatchError(
                f"returned {len(indices)} indices for acquisition_size = {acquisition_size} {what}"
            )
        if len(set(indices)) != len(indices):
            raise _MismatchError(
                f"returned repeated indices {indices} {what}: sample without replacement "
                "(Gumbel-top-k: the top-b of coldness·log(score) + Gumbel noise)"
            )
        if not all(0 <= i < N for i in indices):
            raise _MismatchError(f"returned {indices}: indices must lie in 0..{N - 1}")
        return indices

    def first_pick_frequencies(coldness: float) -> torch.Tensor:
        generator = torch.Generator().manual_seed(100 + int(coldness))
        counts_N = torch.zeros(N, dtype=torch.float64)
        for _ in range(POWER_DRAWS):
            counts_N[draw(2, coldness, generator, f"(coldness {coldness})")[0]] += 1
        return counts_N / POWER_DRAWS

    def matches(frequencies_N: torch.Tensor, probs_N: torch.Tensor) -> bool | None:
        standard_error_N = (probs_N * (1 - probs_N) / POWER_DRAWS).sqrt()
        return bool(((frequencies_N - probs_N).abs() <= POWER_Z * standard_error_N + 1e-12).all())

    def run() -> str:
        generator = torch.Generator().manual_seed(0)
        draw(3, 1.0, generator, "")
        permutation = draw(N, 1.0, generator, "(acquisition_size = N)")
        if sorted(permutation) != list(range(N)):
            raise _MismatchError(
                f"acquisition_size = N must return every index once, got {permutation}"
            )
        # whole permutations under three seeds: a sampler that ignores the generator repeats all
        # three only by chance (probability ~1e-6), where one batch of 3 repeats in ~4% of runs
        for seed in (7, 8, 9):
            first = draw(N, 1.0, torch.Generator().manual_seed(seed), "(acquisition_size = N)")
            if draw(N, 1.0, torch.Generator().manual_seed(seed), "(acquisition_size = N)") != first:
                raise _MismatchError(
                    "two generators with the same seed gave different batches: draw all "
                    "randomness from the generator argument (e.g. torch.rand(..., "
                    "generator=generator))"
                )
        for coldness in (0.0, 1.0, 3.0):
            probs_N = scores_N**coldness / (scores_N**coldness).sum()
            frequencies_N = first_pick_frequencies(coldness)
            if matches(frequencies_N, probs_N):
                continue
            shown = ", ".join(f"{f:.3f}" for f in frequencies_N.tolist())
            wanted = ", ".join(f"{p:.3f}" for p in probs_N.tolist())
            diagnosis = ""
            softmax_N = torch.softmax(coldness * scores_N, dim=0)
            linear_N = scores_N / scores_N.sum()
            if coldness > 0 and matches(frequencies_N, softmax_N):
                diagnosis = " -- this is softmax, p ∝ exp(coldness·score), not score^coldness"
            elif coldness != 1 and matches(frequencies_N, linear_N):
                diagnosis = " -- this is p ∝ score: the coldness is ignored"
            elif coldness > 0 and matches(frequencies_N, torch.full_like(probs_N, 1 / N)):
                diagnosis = " -- uniform: the scores are ignored"
            elif float(frequencies_N.max()) == 1.0:
                diagnosis = " -- always the same first pick: add the random (Gumbel) noise"
            raise _MismatchError(
                f"coldness {coldness:g}: the first picks of {POWER_DRAWS} batches had "
                f"frequencies ({shown}), but p ∝ score^coldness is ({wanted}){diagnosis}"
            )
        top = sorted(torch.argsort(scores_N, descending=True)[:3].tolist())
        for seed in range(5):
            got = draw(
                3,
                10_000.0,
                torch.Generator().manual_seed(seed),
                "(coldness 10,000: compute with coldness·log(score); score**coldness underflows)",
            )
            if sorted(got) != top:
                raise _MismatchError(
                    f"with coldness 10,000 the batch must be the top-3 scores {top}, got "
                    f"{sorted(got)}: work with log-weights coldness·log(score), since "
                    "score**coldness underflows to 0"
                )
        return (
            f"distinct indices, top-b at coldness 10,000, and first-pick frequencies within "
            f"{POWER_Z:g} standard errors of p ∝ score^coldness ({POWER_DRAWS} draws each)"
        )

    return _report("power acquisition", run, strict)
