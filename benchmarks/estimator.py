"""Accuracy of BatchBALD's sampled scores: ours against batchbald_redux, against brute force.

    python benchmarks/estimator.py                     # ours and batchbald_redux, every problem
    python benchmarks/estimator.py --ablation          # plus the controlled A/B variants below
    python benchmarks/estimator.py --seeds 8 --problems realistic-C10  # a quick look
    python benchmarks/estimator.py --ablation --output benchmarks/results/estimator-ablation.json

On small problems where the greedy steps after the first few sample ``M = num_samples``
configurations (``C^b`` exceeds M), each implementation picks b points with the same M, and the
final reported score ``I[y_1..y_b; w]`` is compared with the exact mutual information of the
picked set, by enumerating all ``C^b`` configurations
(:func:`bbal_tutorial.information.batch_mutual_information`). Per problem and implementation,
over ``--seeds`` seeds (one pool per seed; the estimator seeded with the same number): mean
absolute error, mean signed error (bias) and their standard errors, and the mean exact mutual
information of the picked sets (how good the picks are). Both see identical float32 inputs.

``--ablation`` adds variants, each changing one thing (see VARIANTS), to show what drives the
differences. "ours before" is our greedy loop reporting the estimate that picked each point, as
before this benchmark; against it: samples drawn afresh at every step instead of extended
(as batchbald_redux), components drawn independently instead of stratified over the K posterior
samples, repeated configurations not merged, and the picked set scored afresh with the same
estimator (removes the winner's curse); batchbald_redux's picks scored afresh with either
estimator. "ours" scores sampled steps afresh with ``H[w] - H[w | y_S]``
(:func:`bbal_tutorial.information.mutual_information_sampled`).

Writes a markdown table to stdout and ``benchmarks/results/estimator.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import machine  # benchmarks/machine.py
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TQDM_DISABLE", "1")

from bbal_tutorial import _kernels, acquisition, information  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "estimator.json"

#: (N, K, C, b, M): M divisible by K (batchbald_redux draws M // K configurations per sample) and
#: C^(b-1) > M, so the last steps sample; C^b · K small enough to enumerate.
PROBLEMS = {
    "realistic-C10": dict(kind="realistic", N=300, K=20, C=10, b=5, M=2_000),
    "realistic-C10-b6": dict(kind="realistic", N=300, K=20, C=10, b=6, M=5_000),
    "realistic-C4": dict(kind="realistic", N=300, K=50, C=4, b=8, M=2_000),
    "realistic-C2": dict(kind="realistic", N=300, K=20, C=2, b=14, M=1_000),
    "dirichlet-C10": dict(kind="dirichlet", N=300, K=20, C=10, b=5, M=2_000),
    "dirichlet-C3": dict(kind="dirichlet", N=300, K=50, C=3, b=10, M=3_000),
}


def realistic_log_probs(N: int, K: int, C: int, seed: int, d: int = 8) -> torch.Tensor:
    """Correlated samples like MC dropout (as tests/test_acquisition.py): logits = mean + scale_n ·
    A_n z_k with z_k shared by all points; 10% near-duplicates of other points; float32."""
    rng = np.random.default_rng(seed)
    mean = np.log(rng.dirichlet(np.full(C, 0.3), size=N) + 1e-6)
    z_K_d = rng.standard_normal((K, d))
    A_N_d_C = rng.standard_normal((N, d, C)) / math.sqrt(d)
    logits = mean[:, None, :] + rng.gamma(1.0, 1.0, N)[:, None, None] * np.einsum(
        "kd,ndc->nkc", z_K_d, A_N_d_C
    )
    n_dup = N // 10
    dup, src = rng.choice(N, n_dup, replace=False), rng.choice(N, n_dup)
    logits[dup] = logits[src] + 0.01 * rng.standard_normal((n_dup, K, C))
    return torch.log_softmax(torch.from_numpy(logits), dim=-1).float()


def dirichlet_log_probs(N: int, K: int, C: int, seed: int, alpha: float = 0.5) -> torch.Tensor:
    """Dirichlet(alpha) probabilities per (point, sample), independent across samples; float32."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(C, alpha), size=(N, K)).clip(1e-30)
    return torch.log_softmax(torch.from_numpy(np.log(p)), dim=-1).float()


def make_problem(name: str, seed: int) -> torch.Tensor:
    cfg = PROBLEMS[name]
    make = realistic_log_probs if cfg["kind"] == "realistic" else dirichlet_log_probs
    return make(cfg["N"], cfg["K"], cfg["C"], seed)


# --------------------------------------------------------------------------------------------------
# the implementations: each returns (picked indices, final reported score)

Run = Callable[[torch.Tensor, int, int, int], tuple[list[int], float]]


def ours(log_probs_N_K_C: torch.Tensor, b: int, M: int, seed: int) -> tuple[list[int], float]:
    batch = acquisition.get_batchbald_batch(log_probs_N_K_C, b, num_samples=M, seed=seed)
    return batch.indices, batch.scores[-1]


_REDUX_CALLS: dict[tuple, tuple[list[int], float]] = {}


def redux(log_probs_N_K_C: torch.Tensor, b: int, M: int, seed: int) -> tuple[list[int], float]:
    """batchbald_redux; the variants that rescore its picks reuse its call for the same input."""
    from batchbald_redux import batchbald

    key = (tuple(log_probs_N_K_C.shape), float(log_probs_N_K_C.sum()), b, M, seed)
    if key not in _REDUX_CALLS:
        torch.manual_seed(seed)  # batchbald_redux samples with the global RNG
        batch = batchbald.get_batchbald_batch(log_probs_N_K_C, b, M)
        _REDUX_CALLS.clear()
        _REDUX_CALLS[key] = batch.indices, batch.scores[-1]
    return _REDUX_CALLS[key]


def entropy_route_score(
    log_probs_N_K_C: torch.Tensor, indices: list[int], M: int, seed: int
) -> float:
    """``I[y_S; w] = H[y_S] - sum_j E_w H[y_j|w]`` of the picked set from M fresh configurations
    (:func:`information.joint_entropy_sampled`, the estimator both greedy loops use), independent of
    the picks."""
    log_probs_b_K_C = log_probs_N_K_C[indices]
    generator = information.make_generator(10_000 + seed)
    joint = information.joint_entropy_sampled(log_probs_b_K_C, M, generator=generator)
    return float(joint - information.conditional_entropy(log_probs_b_K_C).sum())


def posterior_route_score(
    log_probs_N_K_C: torch.Tensor, indices: list[int], M: int, seed: int
) -> float:
    """``I[y_S; w] = H[w] - H[w | y_S]`` of the picked set from M fresh configurations
    (:func:`information.mutual_information_sampled`), independent of the picks."""
    generator = information.make_generator(10_000 + seed)
    return float(
        information.mutual_information_sampled(log_probs_N_K_C[indices], M, generator=generator)
    )


def rescored(run: Run, score: Callable[[torch.Tensor, list[int], int, int], float]) -> Run:
    """``run``'s picks, scored by ``score`` (same M) instead of its own estimate."""

    def rescored_run(log_probs_N_K_C, b, M, seed):
        indices, _ = run(log_probs_N_K_C, b, M, seed)
        return indices, score(log_probs_N_K_C, indices, M, seed)

    return rescored_run


class FreshEachStep(information.ChosenConfigurations):
    """Draws M new configurations of all chosen points at every sampled step (as batchbald_redux)
    instead of extending the previous step's."""

    def _add_to_configurations(self, indices: list[int]) -> None:
        if self.log_probs_N_K_C.shape[2] ** len(indices) <= self.num_samples:
            super()._add_to_configurations(indices)
        else:
            self._log_joint_M_K, self._components_M = information.sample_configurations(
                self.log_probs_N_K_C[indices], self.num_samples, self.generator
            )


def unstratified_sample_configurations(log_probs_n_K_C, num_samples, generator):
    """As :func:`information.sample_configurations`, but each component drawn independently."""
    n, K, C = log_probs_n_K_C.shape
    components_M = torch.randint(K, (num_samples,), generator=generator)
    log_joint_M_K = log_probs_n_K_C.new_zeros((num_samples, K), dtype=torch.float64)
    for j in range(n):
        log_joint_M_K = information.extend_sampled_configurations(
            log_joint_M_K, components_M, log_probs_n_K_C[j], generator
        )
    return log_joint_M_K, components_M


def patched(run: Run, *patches: tuple[object, str, object]) -> Run:
    """``run`` with ``(module, attribute, value)`` replacements in place during the call."""

    def patched_run(*args):
        saved = [
            (module, attribute, getattr(module, attribute)) for module, attribute, _ in patches
        ]
        for module, attribute, value in patches:
            setattr(module, attribute, value)
        try:
            return run(*args)
        finally:
            for module, attribute, value in saved:
                setattr(module, attribute, value)

    return patched_run


IMPLEMENTATIONS: dict[str, Run] = {"ours": ours, "redux": redux}

# "before": ours as it was before this benchmark, its score the greedy estimate that picked the
# last point (the new code only adds the fresh scoring of sampled steps, so the picks are equal)
SCORE_FROM_PICKING_SAMPLES = (acquisition, "_score_sampled_steps", lambda lp, i, scores, *_: scores)
NOT_MERGED = (
    _kernels,
    "merge_identical_configurations",
    lambda log_joint, weights: (log_joint, weights),
)

#: One change each, against "ours before" (or "redux"): the controlled A/B of each suspect.
VARIANTS: dict[str, Run] = {
    "ours before": patched(ours, SCORE_FROM_PICKING_SAMPLES),
    "ours before, fresh each step": patched(
        ours, SCORE_FROM_PICKING_SAMPLES, (acquisition, "ChosenConfigurations", FreshEachStep)
    ),
    "ours before, unstratified": patched(
        ours,
        SCORE_FROM_PICKING_SAMPLES,
        (information, "sample_configurations", unstratified_sample_configurations),
    ),
    "ours before, not merged": patched(ours, SCORE_FROM_PICKING_SAMPLES, NOT_MERGED),
    "ours before, rescored by entropy": rescored(ours, entropy_route_score),
    "redux, rescored by entropy": rescored(redux, entropy_route_score),
    "redux, rescored by posterior": rescored(redux, posterior_route_score),
}


# --------------------------------------------------------------------------------------------------


def mean_and_se(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values)
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(len(array)))


def measure(problem: str, runs: dict[str, Run], seeds: int) -> dict:
    cfg = PROBLEMS[problem]
    errors: dict[str, list[float]] = {name: [] for name in runs}
    exact_mi: dict[str, list[float]] = {name: [] for name in runs}
    seconds: dict[str, float] = {name: 0.0 for name in runs}
    for seed in range(seeds):
        log_probs_N_K_C = make_problem(problem, seed)
        exact_of_picks: dict[tuple[int, ...], float] = {}
        for name, run in runs.items():
            start = time.process_time()
            indices, score = run(log_probs_N_K_C, cfg["b"], cfg["M"], seed)
            seconds[name] += time.process_time() - start
            if tuple(indices) not in exact_of_picks:
                exact_of_picks[tuple(indices)] = information.batch_mutual_information(
                    log_probs_N_K_C[indices].double()
                )
            exact = exact_of_picks[tuple(indices)]
            errors[name].append(score - exact)
            exact_mi[name].append(exact)
    rows = {}
    for name in runs:
        abs_mean, abs_se = mean_and_se([abs(e) for e in errors[name]])
        bias, bias_se = mean_and_se(errors[name])
        rows[name] = {
            "mean_abs_error": abs_mean,
            "mean_abs_error_se": abs_se,
            "bias": bias,
            "bias_se": bias_se,
            "exact_mi_of_picks": float(np.mean(exact_mi[name])),
            "cpu_seconds_per_call": seconds[name] / seeds,
            "errors": errors[name],
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--ablation", action="store_true", help="also run the A/B variants")
    parser.add_argument("--no-redux", action="store_true", help="skip batchbald_redux")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = dict(IMPLEMENTATIONS)
    if args.ablation:
        runs |= VARIANTS
    if args.no_redux:
        runs = {name: run for name, run in runs.items() if "redux" not in name}

    lines = [
        "| problem (N, K, C, b, M) | implementation | mean abs error (nats) | bias (nats) "
        "| ÷ redux abs error | exact MI of picks | CPU s/call (rescored: reuses the call) |",
        "|---|---|---|---|---|---|---|",
    ]
    records = {}
    for problem in args.problems:
        cfg = PROBLEMS[problem]
        rows = measure(problem, runs, args.seeds)
        records[problem] = {"config": cfg, "rows": rows}
        label = f"{problem} ({cfg['N']}, {cfg['K']}, {cfg['C']}, {cfg['b']}, {cfg['M']:,})"
        for name, row in rows.items():
            ratio = (
                f"{row['mean_abs_error'] / rows['redux']['mean_abs_error']:.2f}"
                if "redux" in rows
                else "—"
            )
            lines.append(
                f"| {label} | {name} "
                f"| {row['mean_abs_error']:.4f} ± {row['mean_abs_error_se']:.4f} "
                f"| {row['bias']:+.4f} ± {row['bias_se']:.4f} | {ratio} "
                f"| {row['exact_mi_of_picks']:.4f} | {row['cpu_seconds_per_call']:.2f} |"
            )
        print("\n".join(lines[-len(rows) :]), flush=True)
    table = "\n".join(lines)
    print()
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "estimator",
                "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"
                ),
                "seeds": args.seeds,
                "machine": machine.machine_info(),
                "records": records,
                "table_markdown": table,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
