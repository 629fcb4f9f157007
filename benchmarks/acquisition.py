"""Benchmark BALD and BatchBALD: our implementation against batchbald_redux on identical inputs.

    python benchmarks/acquisition.py            # both sizes (the large one takes several minutes)
    python benchmarks/acquisition.py --small    # the small size only

For each size and method a fresh subprocess generates the same inputs (seeded), times the calls
(ours: best of ``--repeats``; batchbald_redux: one call, it takes minutes) and reports the peak
resident memory (VmHWM, reset just before the call; torch allocations are invisible
to tracemalloc) next to the resident memory before the call (Python, torch and the inputs).
The standard joint-entropy products of BatchBALD are ``sum_{i=1}^{b-1} 2 · min(C^i, M) · K · N · C``
flops (batchbald_redux does these); ours does fewer, because repeated sampled configurations are
merged, and counts them. We report the achieved GFLOP/s on the products each does, this machine's
float32 matmul rate (best of several 4096 × 4096 products, measured in the same process just before
and after the calls, since the machine may be shared) and the ratio of our time to the time our
products alone would take at that rate ("products done"), and to the time the standard products
would take at that rate ("standard": our time against an ideal implementation of the standard
algorithm). The first picks, made while ``C^i <= num_samples`` (exact
joint entropies), must agree with batchbald_redux.

Writes a markdown table to stdout and ``benchmarks/results/acquisition.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import machine  # benchmarks/machine.py
import numpy as np

SIZES = {
    "large": dict(N=10_000, K=100, C=10, b=10, num_samples=10_000),
    "small": dict(N=2_000, K=100, C=10, b=10, num_samples=10_000),
}
METHODS = ("ours-bald", "redux-bald", "ours-batchbald", "redux-batchbald")
RESULTS = Path(__file__).parent / "results" / "acquisition.json"


def make_log_probs(N: int, K: int, C: int, seed: int = 0):
    """Realistic-looking MC-dropout log-probabilities, float32.

    Each point has a Dirichlet(0.3) mean prediction (mostly confident, some not) perturbed by
    ``scale_n · A_n z_k``, where the 16-dim ``z_k`` is shared by all points (one network per
    posterior sample, as with consistent MC dropout) and ``scale_n ~ Gamma(1, 1)`` varies the
    epistemic uncertainty. 10% of the points are near-duplicates of others (logit noise 0.01).
    """
    import torch

    rng = np.random.default_rng(seed)
    mean_N_C = np.log(rng.dirichlet(np.full(C, 0.3), size=N) + 1e-6)
    z_K_d = rng.standard_normal((K, 16))
    A_N_d_C = rng.standard_normal((N, 16, C)) / 4.0
    scale_N = rng.gamma(1.0, 1.0, N)
    logits = mean_N_C[:, None, :] + scale_N[:, None, None] * np.einsum(
        "kd,ndc->nkc", z_K_d, A_N_d_C
    )
    n_dup = N // 10
    dup, src = rng.choice(N, n_dup, replace=False), rng.choice(N, n_dup)
    logits[dup] = logits[src] + 0.01 * rng.standard_normal((n_dup, K, C))
    return torch.log_softmax(torch.from_numpy(logits).float(), dim=-1)


def joint_entropy_flops(N: int, K: int, C: int, b: int, num_samples: int) -> float:
    """Flops of the products (min(C^i, M) × K) @ (K × N·C) for steps i = 1 .. b-1."""
    return sum(2.0 * min(C**i, num_samples) * K * N * C for i in range(1, b))


def matmul_gflops() -> float:
    """Best float32 matmul rate of this machine (GFLOP/s, wall time), torch's default threads."""
    return machine.matmul_gflops(n=4096, clock=time.perf_counter)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB): VmHWM, else ru_maxrss (KiB on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Reset the peak to the current RSS (Linux >= 4.0), so the peak belongs to the timed call."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def worker(method: str, size: str, repeats: int) -> dict:
    """Timed calls in this (fresh) process: the best of ``repeats``."""
    os.environ["TQDM_DISABLE"] = "1"
    import torch

    cfg = SIZES[size]
    log_probs_N_K_C = make_log_probs(cfg["N"], cfg["K"], cfg["C"])
    b, M = cfg["b"], cfg["num_samples"]
    if method.startswith("ours"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from bbal_tutorial import _kernels, acquisition

        # count the products actually done (repeated sampled configurations are merged)
        engine = _kernels.entropy_given_posterior
        done_flops = []

        def counting_engine(posterior_M_K, weights_M, log_probs_n_K_C, **kwargs):
            n, k, c = log_probs_n_K_C.shape
            done_flops.append(2.0 * posterior_M_K.shape[0] * k * n * c)
            return engine(posterior_M_K, weights_M, log_probs_n_K_C, **kwargs)

        _kernels.entropy_given_posterior = counting_engine
        run = {
            "ours-bald": lambda: acquisition.get_bald_batch(log_probs_N_K_C, b),
            "ours-batchbald": lambda: acquisition.get_batchbald_batch(
                log_probs_N_K_C, b, num_samples=M, seed=0
            ),
        }[method]
    else:
        from batchbald_redux import batchbald

        torch.manual_seed(0)  # redux samples with the global RNG
        run = {
            "redux-bald": lambda: batchbald.get_bald_batch(log_probs_N_K_C, b),
            "redux-batchbald": lambda: batchbald.get_batchbald_batch(log_probs_N_K_C, b, M),
        }[method]
    # the machine may be shared: measure the roofline under the same conditions as the calls
    rates = [matmul_gflops()]
    times, peaks = [], []
    for _ in range(repeats):
        if method == "ours-batchbald":
            done_flops.clear()
        reset_peak_rss()  # forget the matmul measurement's memory
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        batch = run()
        times.append(time.perf_counter() - start)
        peaks.append(peak_rss_mb())
        rates.append(matmul_gflops())
    return {
        "seconds": min(times),
        "all_seconds": times,
        "matmul_gflops_alongside": max(rates),
        "indices": [int(i) for i in batch.indices],
        "scores": [float(s) for s in batch.scores],
        "rss_inputs_mb": rss_before,
        "peak_rss_mb": max(peaks),
        "threads": torch.get_num_threads(),
        "products_done_gflop": sum(done_flops) / 1e9 if method == "ours-batchbald" else None,
    }


def run_worker(method: str, size: str, repeats: int) -> dict | None:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--size", size, "--repeats", str(repeats)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(f"{method} ({size}) failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def exact_picks(cfg: dict) -> int:
    """Picks made while C^i <= num_samples, i.e. with exact joint entropies."""
    return sum(1 for i in range(cfg["b"]) if cfg["C"] ** i <= cfg["num_samples"])


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="run the small size only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed calls of our functions (best is reported)"
    )
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, args.repeats)))
        return

    sizes = ["small"] if args.small else ["large", "small"]
    records = []
    for size in sizes:
        cfg = SIZES[size]
        # batchbald_redux takes minutes per call: once
        runs = {
            method: run_worker(method, size, args.repeats if method.startswith("ours") else 1)
            for method in METHODS
        }
        records.append({"size": size, "config": cfg, "runs": runs, "rows": []})

    lines = [
        "| size (N, K, C, b, M) | method | ours (s) | redux (s) | speed-up "
        "| products GFLOP standard / ours | GFLOP/s ours / redux | matmul GFLOP/s "
        "| ours ÷ roofline: products done / standard | peak RSS MB ours / redux (before) "
        "| same picks as redux |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        cfg, runs = record["config"], record["runs"]
        label = f"{cfg['N']:,}, {cfg['K']}, {cfg['C']}, {cfg['b']}, {cfg['num_samples']:,}"
        for name in ("bald", "batchbald"):
            ours, redux = runs[f"ours-{name}"], runs[f"redux-{name}"]
            row = {"method": name}
            if ours:
                row["ours_seconds"] = ours["seconds"]
                row["matmul_gflops"] = ours["matmul_gflops_alongside"]
            if redux:
                row["redux_seconds"] = redux["seconds"]
            if ours and redux:
                row["speedup"] = redux["seconds"] / ours["seconds"]
            if name == "batchbald":
                sizes_only = {k: cfg[k] for k in ("N", "K", "C", "b", "num_samples")}
                row["standard_gflop"] = joint_entropy_flops(**sizes_only) / 1e9
                if ours:
                    # achieved rate on the products ours actually does, and our time against the
                    # time those products alone take at the matmul rate measured alongside
                    row["ours_gflop"] = ours["products_done_gflop"]
                    row["ours_gflops"] = row["ours_gflop"] / ours["seconds"]
                    row["ours_over_roofline"] = row["matmul_gflops"] / row["ours_gflops"]
                    # the same ratio for the standard products (those the algorithm is defined
                    # by, and batchbald_redux performs): merging repeated configurations is part
                    # of our speed, so this is the time against a perfect standard implementation
                    row["ours_over_standard_roofline"] = ours["seconds"] / (
                        row["standard_gflop"] / row["matmul_gflops"]
                    )
                if redux:  # redux does the standard products
                    row["redux_gflops"] = row["standard_gflop"] / redux["seconds"]
            same = "—"
            if ours and redux:
                n = exact_picks(cfg) if name == "batchbald" else cfg["b"]
                agree = ours["indices"][:n] == redux["indices"][:n]
                pairs = zip(ours["indices"], redux["indices"], strict=True)
                overall = sum(a == r for a, r in pairs)
                row["first_exact_picks_agree"], row["exact_picks"] = agree, n
                row["picks_agree_overall"] = overall
                same = f"first {n} (exact): {'yes' if agree else 'NO'}; all: {overall}/{cfg['b']}"
            record["rows"].append(row)
            memory = (
                f"{fmt(ours and ours['peak_rss_mb'], '.0f')} / "
                f"{fmt(redux and redux['peak_rss_mb'], '.0f')} "
                f"({fmt(ours and ours['rss_inputs_mb'], '.0f')})"
            )
            lines.append(
                f"| {label} | {name} | {fmt(row.get('ours_seconds'), '.2f')} "
                f"| {fmt(row.get('redux_seconds'), '.2f')} | {fmt(row.get('speedup'), '.1f')}× "
                f"| {fmt(row.get('standard_gflop'), '.0f')} / {fmt(row.get('ours_gflop'), '.0f')} "
                f"| {fmt(row.get('ours_gflops'), '.0f')} / {fmt(row.get('redux_gflops'), '.0f')} "
                f"| {fmt(row.get('matmul_gflops'), '.0f')} "
                f"| {fmt(row.get('ours_over_roofline'), '.2f')} / "
                f"{fmt(row.get('ours_over_standard_roofline'), '.2f')} | {memory} | {same} |"
            )
    table = "\n".join(lines)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "acquisition",
                "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"
                ),
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
