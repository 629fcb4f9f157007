"""What the benchmarks record about the machine, and its float32 matmul rate (the roofline)."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable

import torch


def matmul_gflops(
    n: int = 1024, repeats: int = 5, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Best float32 ``n × n`` matmul rate (GFLOP/s) with torch's current threads, timed with
    ``clock`` (``time.perf_counter``: wall time; ``time.process_time``: this process's CPU time)."""
    a = torch.rand(n, n)
    out = torch.empty(n, n)
    torch.mm(a, a, out=out)
    best = math.inf
    for _ in range(repeats):
        start = clock()
        torch.mm(a, a, out=out)
        best = min(best, clock() - start)
    return 2.0 * n**3 / best / 1e9


def machine_info() -> dict[str, object]:
    """Platform, processor, CPU count, torch version and threads, for a results file."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
