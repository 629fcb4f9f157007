"""Single-threaded CPU time of greedy BatchBALD: ours with the fresh rescoring of the sampled
steps, ours without it, and batchbald_redux, on the small size of benchmarks/acquisition.py
(N = 2,000, K = 100, C = 10, b = 10, M = 10,000), in one process.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/estimator_speed.py

Needs batchbald_redux: ``.venv/bin/python -m pip install --no-deps batchbald_redux toma``.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from acquisition import make_log_probs  # noqa: E402  (benchmarks/acquisition.py)
from batchbald_redux import batchbald  # noqa: E402

import bbal_tutorial.acquisition as acq  # noqa: E402

N, K, C, B, M = 2000, 100, 10, 10, 10_000


def cpu_seconds(run) -> tuple[float, object]:
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def main() -> None:
    torch.set_num_threads(1)
    log_probs_N_K_C = make_log_probs(N, K, C)
    rescoring = acq._score_sampled_steps
    seconds_new, seconds_old = [], []
    for _ in range(3):
        acq._score_sampled_steps = rescoring
        t, new = cpu_seconds(
            lambda: acq.get_batchbald_batch(log_probs_N_K_C, B, num_samples=M, seed=0)
        )
        seconds_new.append(t)
        acq._score_sampled_steps = lambda log_probs, indices, scores, *_: scores  # rescoring off
        t, old = cpu_seconds(
            lambda: acq.get_batchbald_batch(log_probs_N_K_C, B, num_samples=M, seed=0)
        )
        seconds_old.append(t)
    acq._score_sampled_steps = rescoring
    torch.manual_seed(0)
    t_redux, redux = cpu_seconds(lambda: batchbald.get_batchbald_batch(log_probs_N_K_C, B, M))
    print(
        f"ours (rescored) {min(seconds_new):.2f} s, ours (rescoring off) {min(seconds_old):.2f} s, "
        f"batchbald_redux {t_redux:.1f} s (CPU time, best of 3 for ours)"
    )
    print(
        f"speed-up over redux: {t_redux / min(seconds_new):.1f}x rescored, "
        f"{t_redux / min(seconds_old):.1f}x without; same picks with and without rescoring: "
        f"{new.indices == old.indices}; first 5 picks as redux's: "
        f"{new.indices[:5] == redux.indices[:5]}"
    )


if __name__ == "__main__":
    main()
