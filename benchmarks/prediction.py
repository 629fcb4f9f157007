"""Benchmark K-sample prediction: the plain K-pass forward against the exact fast path.

    OMP_NUM_THREADS=1 python benchmarks/prediction.py              # 512 images, K = 10 and 100
    OMP_NUM_THREADS=1 python benchmarks/prediction.py --n 1024 --repeats 5

Single-threaded, in one process, for the MNIST and the EMNIST CNN (randomly initialised: the
cost does not depend on the weights) on ``--n`` random 1x28x28 images. Each row times
``predict_log_probs`` as the loop calls it (default chunking), as the best of ``--repeats``
process CPU times:

* ``one pass``: the plain forward with k = 1 (one deterministic network), the unit of cost;
* ``plain K``: the plain K-pass forward (``fast=False``), what every public implementation does;
* ``fast K``: :meth:`BayesianModule.fast_forward` (the default), same masks, same values up to
  float32 rounding (``max |Δ|`` is measured against the plain rows).

Next to the times: the multiply-accumulates (MACs) each path does, counted analytically layer by
layer, as a multiple of one pass ("FLOP × one pass"), and the time the MACs would take at this
machine's single-threaded float32 matmul rate, measured in the same process ("roofline ×" =
time ÷ that). For the EMNIST CNN the FLOP table also shows what the channel-mixing algebra alone
allows ("algebra only": every conv output computed) next to the path as implemented, which also
skips the rows and columns that floor max-pooling drops (only the top-left 22x22 pixels of an
input reach the output).

Writes a markdown table to stdout and ``benchmarks/results/prediction.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import machine  # benchmarks/machine.py
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bbal_tutorial.models import (  # noqa: E402
    BayesianEMNISTCNN,
    BayesianMNISTCNN,
    BayesianModule,
    predict_log_probs,
)

RESULTS = Path(__file__).parent / "results" / "prediction.json"


def conv_macs(conv: torch.nn.Conv2d, out_side: int) -> int:
    """MACs of a convolution producing ``out_side x out_side`` outputs."""
    kh, kw = conv.kernel_size
    return conv.out_channels * conv.in_channels * kh * kw * out_side**2


def mixing_macs(conv: torch.nn.Conv2d, out_side: int) -> int:
    """MACs of mixing per-input-channel partials with one mask: ``in x out x positions``."""
    return conv.in_channels * conv.out_channels * out_side**2


def fc_macs(fc: torch.nn.Linear) -> int:
    return fc.in_features * fc.out_features


def path_macs(model: BayesianModule, k: int) -> dict[str, int]:
    """MACs per input image of one pass and of each K-sample path (28x28 inputs)."""
    if isinstance(model, BayesianMNISTCNN):
        once = conv_macs(model.conv1, 24)
        per_sample = conv_macs(model.conv2, 8) + fc_macs(model.fc1) + fc_macs(model.fc2)
        fast_once = once + conv_macs(model.conv2, 8)  # the 32 partial convolutions
        fast_per_sample = mixing_macs(model.conv2, 8) + fc_macs(model.fc1) + fc_macs(model.fc2)
        return {
            "one pass": once + per_sample,
            "plain": once + k * per_sample,
            "algebra only": fast_once + k * fast_per_sample,
            "fast": fast_once + k * fast_per_sample,
        }
    assert isinstance(model, BayesianEMNISTCNN)
    once = conv_macs(model.conv1, 26)
    tail = fc_macs(model.fc1) + fc_macs(model.fc2)
    per_sample = conv_macs(model.conv2, 11) + conv_macs(model.conv3, 3) + tail
    algebra_once = once + conv_macs(model.conv2, 11)
    algebra_per_sample = mixing_macs(model.conv2, 11) + conv_macs(model.conv3, 3) + tail
    # as implemented: only the outputs that reach the 1x1 conv3 pool (conv1 20x20, conv2 8x8,
    # conv3 2x2)
    fast_once = conv_macs(model.conv1, 20) + conv_macs(model.conv2, 8)
    fast_per_sample = mixing_macs(model.conv2, 8) + conv_macs(model.conv3, 2) + tail
    return {
        "one pass": once + per_sample,
        "plain": once + k * per_sample,
        "algebra only": algebra_once + k * algebra_per_sample,
        "fast": fast_once + k * fast_per_sample,
    }


def matmul_gflops() -> float:
    """Best float32 matmul rate (GFLOP/s, process CPU time) at the current thread count."""
    return machine.matmul_gflops(n=1024, clock=time.process_time)


def best_cpu_seconds(call: Callable[[], torch.Tensor], repeats: int) -> tuple[float, torch.Tensor]:
    """Best process CPU time of ``repeats`` calls (after one warm-up call) and the last result."""
    result = call()
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        result = call()
        best = min(best, time.process_time() - start)
    return best, result


def bench_model(model: BayesianModule, x_N: torch.Tensor, ks: list[int], repeats: int) -> list:
    def predict(k: int, fast: bool) -> Callable[[], torch.Tensor]:
        return lambda: predict_log_probs(model, x_N, k, fast=fast, progress=False)

    one_pass_s, _ = best_cpu_seconds(predict(1, fast=False), repeats)
    fast_1_s, _ = best_cpu_seconds(predict(1, fast=True), repeats)
    rows = [
        dict(k=1, path="one pass", seconds=one_pass_s),
        dict(k=1, path="fast", seconds=fast_1_s),
    ]
    for k in ks:
        plain_s, plain = best_cpu_seconds(predict(k, fast=False), repeats)
        fast_s, fast = best_cpu_seconds(predict(k, fast=True), repeats)
        max_diff = (fast - plain).abs().max().item()
        rows.append(dict(k=k, path="plain", seconds=plain_s))
        rows.append(dict(k=k, path="fast", seconds=fast_s, speedup=plain_s / fast_s, diff=max_diff))
    for row in rows:
        row["x_one_pass"] = row["seconds"] / one_pass_s
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=512, help="images (default 512)")
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    x_N = torch.randn(args.n, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    gflops_before = matmul_gflops()

    results = {}
    for name, cls in (("mnist-cnn", BayesianMNISTCNN), ("emnist-cnn", BayesianEMNISTCNN)):
        torch.manual_seed(0)
        model = cls().eval()
        results[name] = bench_model(model, x_N, args.ks, args.repeats)
        for row in results[name]:
            macs = path_macs(model, row["k"])
            key = "one pass" if row["path"] == "one pass" else row["path"]
            row["macs_per_image"] = macs[key]
            row["flop_x_one_pass"] = macs[key] / macs["one pass"]
        results[name + " flops"] = {
            k: {
                path: macs / path_macs(model, k)["one pass"]
                for path, macs in path_macs(model, k).items()
            }
            for k in args.ks
        }
    gflops = max(gflops_before, matmul_gflops())
    load_after = os.getloadavg()

    print(
        f"\n{datetime.date.today()}, {platform.processor() or platform.machine()}, 1 thread, "
        f"N = {args.n} images, best of {args.repeats}; float32 matmul {gflops:.0f} GFLOP/s; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print(
        "| model | K | path | CPU s | × one pass | speedup vs plain | FLOP × one pass "
        "| roofline × | max abs Δ vs plain |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("mnist-cnn", "emnist-cnn"):
        for row in results[name]:
            roofline_s = 2.0 * row["macs_per_image"] * args.n / (gflops * 1e9)
            row["roofline_x"] = row["seconds"] / roofline_s
            speedup = f"{row['speedup']:.1f}×" if "speedup" in row else ""
            diff = f"{row['diff']:.1e}" if "diff" in row else ""
            print(
                f"| {name} | {row['k']} | {row['path']} | {row['seconds']:.3f} "
                f"| {row['x_one_pass']:.2f} | {speedup} | {row['flop_x_one_pass']:.2f} "
                f"| {row['roofline_x']:.1f} | {diff} |"
            )
    print("\nFLOP count (MACs) as a multiple of one pass, per path:\n")
    print("| model | K | plain | algebra only | fast (as implemented) | FLOP speedup |")
    print("|---|---|---|---|---|---|")
    for name in ("mnist-cnn", "emnist-cnn"):
        for k, ratios in results[name + " flops"].items():
            print(
                f"| {name} | {k} | {ratios['plain']:.2f} | {ratios['algebra only']:.2f} "
                f"| {ratios['fast']:.2f} | {ratios['plain'] / ratios['fast']:.1f}× |"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(
        date=str(datetime.date.today()),
        n=args.n,
        repeats=args.repeats,
        threads=1,
        matmul_gflops=gflops,
        load_average=[load_before[0], load_after[0]],
        torch=torch.__version__,
    )
    RESULTS.write_text(json.dumps(dict(meta=meta, results=results), indent=2) + "\n")


if __name__ == "__main__":
    main()
