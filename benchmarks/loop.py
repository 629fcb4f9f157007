"""Time per active-learning round, split into train / evaluate / predict / select, against each
phase's FLOP count and this machine's measured matmul and convolution rates.

    python benchmarks/loop.py [--rounds 3] [--datasets repeated-mnist mnist] [--threads 1]
    python benchmarks/loop.py --threads 1 --clock cpu --datasets repeated-mnist \\
        --baseline /tmp/old --repeats 3      # A/B: this tree against an export of an older one

Runs a few rounds of random, BALD and BatchBALD with the *teaching* presets on whatever data is
available (the offline MNIST sample here) and prints two markdown tables, and writes
benchmarks/results/loop.json with the configuration, data source and date:

* the mean seconds per acquiring round of each phase;
* each phase next to its FLOP count and its *roofline*: the time its FLOPs take at this machine's
  convolution rate (conv2 of the MNIST CNN, batch 64) and float32 matmul rate, both measured in
  this process with the same threads, before and after the runs (the best of both). The FLOPs are
  counted per layer from the model's shapes (2 per multiply-add). *train*: every epoch's
  ``samples_per_epoch`` forward and backward passes (backward = weight gradients of every layer +
  input gradients of every layer but the first) and its validation pass; *eval* and *predict*:
  ``N`` points × ``K`` samples, the first convolution once per point (*plain*), and the floor of
  the exact fast consistent-dropout path (*fast*: both convolutions once per point, then per
  sample a (K × 32) channel-mixing product, fc1 and fc2); *select*: BatchBALD's standard
  joint-entropy products ``sum_i 2 · min(C^i, M) · K · N · C`` at the matmul rate plus their
  ``p log p`` entries at the measured element-wise rate (ours merges repeated configurations and
  may do fewer). Time ÷ roofline is given against both counts.

``--clock cpu`` records each phase in process CPU seconds instead of wall seconds (robust to a
shared machine when single-threaded). ``--baseline DIR`` also runs the package found in ``DIR``
(e.g. ``git archive HEAD | tar -x -C DIR``), alternating fresh subprocesses of the two trees
``--repeats`` times, and prints the best round of each side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

PHASES = ("train_seconds", "eval_seconds", "predict_seconds", "select_seconds")
METHODS = ("random", "bald", "batchbald")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "loop.json"


def measure(dataset: str, method: str, rounds: int, seed: int, clock: str = "wall") -> dict:
    """Run ``rounds`` acquiring rounds; mean phase seconds and what the FLOP counts need."""
    from bbal_tutorial import loop
    from bbal_tutorial.loop import prepare_data, run_experiment
    from bbal_tutorial.presets import make_config

    if clock == "cpu":  # the loop times its phases with time.perf_counter: count CPU time instead
        loop.time = type("CpuClock", (), {"perf_counter": staticmethod(time.process_time)})
    probe = make_config("teaching", dataset, acquisition=method, seed=seed)
    initial = probe.initial_per_class * 10
    config = make_config(
        "teaching",
        dataset,
        acquisition=method,
        seed=seed,
        label_budget=initial + probe.acquisition_size * rounds,
    )
    experiment = prepare_data(config)
    start, cpu_start = time.perf_counter(), time.process_time()
    run = run_experiment(config, experiment=experiment, progress=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    acquiring = [r for r in run.rounds if r.acquired_indices]
    row = {p: statistics.mean(getattr(r, p) for r in acquiring) for p in PHASES}
    phase_total = sum(getattr(r, p) for r in run.rounds for p in PHASES)
    row.update(
        dataset=dataset,
        method=method,
        rounds=len(acquiring),
        pool_size=run.pool_size,
        test_size=run.test_size,
        validation_size=len(run.validation_indices),
        wall_seconds=wall,
        cpu_seconds=cpu,
        clock=clock,
        threads=torch.get_num_threads(),
        # per acquiring round: epochs trained, pool size scored, points acquired
        epochs=[r.train_epochs for r in acquiring],
        pools=[run.pool_size - r.n_labeled + len(run.initial_indices) for r in acquiring],
        acquired=[len(r.acquired_indices) for r in acquiring],
        # what no phase covers (model construction, bookkeeping), per round, same clock
        other_seconds=((cpu if clock == "cpu" else wall) - phase_total) / len(run.rounds),
        source=run.dataset_source,
        config=run.config.to_dict(),
    )
    row["round_seconds"] = sum(row[p] for p in PHASES)
    return row


def layer_flops(model_name: str, num_classes: int) -> dict[str, tuple[str, float, int]]:
    """Forward FLOPs per (point, MC sample) of each conv / linear layer, from the model's shapes:
    name -> (kind, flops, taps), ``taps`` the kernel's spatial size (1 for a linear layer)."""
    from bbal_tutorial.models import make_model

    model = make_model(model_name, num_classes).eval()
    flops: dict[str, tuple[str, float, int]] = {}

    def count(name: str):
        def hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
            if isinstance(module, nn.Conv2d):
                taps = math.prod(module.kernel_size)
                macs = output[0].numel() * module.in_channels // module.groups * taps
                flops[name] = ("conv", 2.0 * macs, taps)
            else:
                flops[name] = ("dense", 2.0 * module.in_features * module.out_features, 1)

        return hook

    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    hooks = [m.register_forward_hook(count(n)) for n, m in layers]
    with torch.inference_mode():
        model(torch.zeros(1, 1, 28, 28), 1)
    for hook in hooks:
        hook.remove()
    return flops


def predict_flops(layers: dict[str, tuple[str, float, int]], k: int) -> dict[str, dict[str, float]]:
    """FLOPs per point of ``k`` samples, split conv / dense: the plain K-pass forward (first conv
    once per point) and the exact fast path's floor (MNIST CNN: see the module docstring)."""
    conv = {n: f for n, (kind, f, _) in layers.items() if kind == "conv"}
    dense = sum(f for kind, f, _ in layers.values() if kind == "dense")
    first = next(iter(conv))
    plain = {"conv": conv[first] + k * (sum(conv.values()) - conv[first]), "dense": k * dense}
    if set(conv) != {"conv1", "conv2"}:  # the floor below is the MNIST CNN's algebra
        return {"plain": plain, "fast": plain}
    # per point: (K x in_channels) @ (in_channels x conv2's outputs) = K · conv2 flops / taps
    mixing = k * conv["conv2"] / layers["conv2"][2]
    fast = {"conv": sum(conv.values()), "dense": mixing + k * dense}
    return {"plain": plain, "fast": fast}


def phase_work(row: dict) -> dict[str, dict[str, dict[str, float]]]:
    """Mean work of an acquiring round: phase -> count (plain / fast) -> conv, dense, p log p."""
    cfg = row["config"]
    classes = 47 if cfg["model"] == "emnist-cnn" else 10
    layers = layer_flops(cfg["model"], classes)
    first_conv = next(f for kind, f, _ in layers.values() if kind == "conv")
    # forward + weight gradients of every layer + input gradients of every layer but the first
    per_image = {
        kind: 3 * sum(f for kd, f, _ in layers.values() if kd == kind)
        - (first_conv if kind == "conv" else 0.0)
        for kind in ("conv", "dense")
    }
    epochs = statistics.mean(row["epochs"])
    pool = statistics.mean(row["pools"])
    val = predict_flops(layers, cfg["validation_mc_samples"])
    test = predict_flops(layers, cfg["test_mc_samples"])
    pred = predict_flops(layers, cfg["mc_samples"])
    b = statistics.mean(row["acquired"])
    k, m = cfg["mc_samples"], cfg["num_samples"]
    steps = [min(classes**i, m) for i in range(1, round(b))] if row["method"] == "batchbald" else []
    products = sum(2.0 * s * k * pool * classes for s in steps)
    entries = sum(s * pool * classes for s in steps) + pool * k * classes  # + BALD's terms
    if row["method"] == "random":
        products = entries = 0.0
    work: dict[str, dict[str, dict[str, float]]] = {}
    for count in ("plain", "fast"):
        train = {
            kind: epochs * (cfg["samples_per_epoch"] * per_image[kind])
            + epochs * row["validation_size"] * val[count][kind]
            for kind in ("conv", "dense")
        }
        scored = 0.0 if row["method"] == "random" else pool
        work[count] = {
            "train": train,
            "eval": {kd: row["test_size"] * f for kd, f in test[count].items()},
            "predict": {kd: scored * f for kd, f in pred[count].items()},
            "select": {"conv": 0.0, "dense": products, "elementwise": entries},
        }
    return work


def measure_rates(repeats: int = 5) -> dict[str, float]:
    """This machine's rates with torch's current threads: conv and matmul GFLOP/s (float32), and
    element-wise ``p log p`` entries per second (Gentries/s) on a cache-sized tensor."""

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, 12, 12, generator=gen)
    w = torch.randn(64, 32, 5, 5, generator=gen)
    conv = 2.0 * 64 * 64 * 8 * 8 * 32 * 25 / best(lambda: F.conv2d(x, w)) / 1e9
    a = torch.rand(2048, 2048, generator=gen)
    matmul = 2.0 * 2048**3 / best(lambda: a @ a) / 1e9
    p = torch.rand(2**20, generator=gen)
    entries = 2**20 / best(lambda: p * p.log()) / 1e9
    return {"conv_gflops": conv, "matmul_gflops": matmul, "elementwise_gentries": entries}


def roofline_rows(row: dict, rates: dict[str, float]) -> list[dict]:
    """Seconds per phase against the FLOPs it needs at this machine's rates."""
    work = phase_work(row)

    def seconds(w: dict[str, float]) -> float:
        return (
            w.get("elementwise", 0.0) / rates["elementwise_gentries"]
            + w["conv"] / rates["conv_gflops"]
            + w["dense"] / rates["matmul_gflops"]
        ) / 1e9

    out = []
    for phase in ("train", "eval", "predict", "select"):
        measured = row[f"{phase}_seconds"]
        plain, fast = work["plain"][phase], work["fast"][phase]
        out.append(
            dict(
                phase=phase,
                seconds=measured,
                gflop_plain=(plain["conv"] + plain["dense"]) / 1e9,
                gflop_fast=(fast["conv"] + fast["dense"]) / 1e9,
                gentries=plain.get("elementwise", 0.0) / 1e9,
                roofline_plain=seconds(plain),
                roofline_fast=seconds(fast),
            )
        )
    return out


def roofline_table(rows: list[dict], rates: dict[str, float]) -> str:
    lines = [
        f"Rates measured in this process ({rows[0]['threads']} thread(s)): conv "
        f"{rates['conv_gflops']:.0f} GFLOP/s, matmul {rates['matmul_gflops']:.0f} GFLOP/s, "
        f"p·log p {rates['elementwise_gentries']:.2f} G entries/s; clock: {rows[0]['clock']}.",
        "",
        "| dataset | method | phase | s / round | GFLOP plain / fast | roofline s plain / fast "
        "| time ÷ roofline plain / fast |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for r in row["roofline"]:
            entries = f" + {r['gentries']:.2f} G p·log p" if r["gentries"] else ""
            ratio = "—"
            if r["roofline_plain"] > 0:
                plain, fast = r["seconds"] / r["roofline_plain"], r["seconds"] / r["roofline_fast"]
                ratio = f"{plain:.1f}× / {fast:.1f}×"
            lines.append(
                f"| {row['dataset']} | {row['method']} | {r['phase']} | {r['seconds']:.2f} "
                f"| {r['gflop_plain']:.1f} / {r['gflop_fast']:.1f}{entries} "
                f"| {r['roofline_plain']:.2f} / {r['roofline_fast']:.2f} | {ratio} |"
            )
        lines.append(
            f"| {row['dataset']} | {row['method']} | other (per round) | "
            f"{row['other_seconds']:.3f} | | | |"
        )
    return "\n".join(lines)


def seconds_table(rows: list[dict]) -> str:
    lines = [
        "| dataset (teaching) | method | pool | K | train s | eval s | predict s | select s "
        "| round s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['method']} | {r['pool_size']:,} "
            f"| {r['config']['mc_samples']} | "
            f"{r['train_seconds']:.1f} | {r['eval_seconds']:.1f} | {r['predict_seconds']:.1f} | "
            f"{r['select_seconds']:.2f} | {r['round_seconds']:.1f} |"
        )
    return "\n".join(lines)


def run_worker(tree: Path, args: argparse.Namespace, dataset: str, method: str) -> dict:
    """``measure`` in a fresh subprocess that imports ``bbal_tutorial`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "TQDM_DISABLE": "1"}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    spec = dict(dataset=dataset, method=method, rounds=args.rounds, seed=args.seed)
    command = [sys.executable, __file__, "--worker", json.dumps({**spec, "clock": args.clock})]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> tuple[str, list[dict]]:
    """Best round (lowest round seconds) of each tree over ``--repeats`` alternating runs."""
    results = []
    for dataset in args.datasets:
        for method in args.methods:
            runs: dict[str, list[dict]] = {"baseline": [], "this tree": []}
            for _ in range(args.repeats):
                runs["baseline"].append(run_worker(args.baseline, args, dataset, method))
                runs["this tree"].append(run_worker(ROOT, args, dataset, method))
            for side, rows in runs.items():
                best = min(rows, key=lambda r: r["round_seconds"])
                all_seconds = [r["round_seconds"] for r in rows]
                results.append({**best, "side": side, "all_round_seconds": all_seconds})
    lines = [
        f"| dataset | method | tree | train s | eval s | predict s | select s | round s (best of "
        f"{args.repeats}) | all runs s | epochs per round |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        runs_s = ", ".join(f"{s:.1f}" for s in r["all_round_seconds"])
        lines.append(
            f"| {r['dataset']} | {r['method']} | {r['side']} | {r['train_seconds']:.2f} "
            f"| {r['eval_seconds']:.2f} | {r['predict_seconds']:.2f} | {r['select_seconds']:.2f} "
            f"| **{r['round_seconds']:.2f}** | {runs_s} | {r['epochs']} |"
        )
    return "\n".join(lines), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["repeated-mnist", "mnist"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--baseline", type=Path, default=None, help="a tree to compare against")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per tree (A/B)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(measure(**json.loads(args.worker))))
        return
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    load = os.getloadavg()
    rates_before = measure_rates()
    rows = [
        measure(d, m, args.rounds, args.seed, args.clock)
        for d in args.datasets
        for m in args.methods
    ]
    rates_after = measure_rates()
    rates = {name: max(rates_before[name], rates_after[name]) for name in rates_before}
    for row in rows:
        row["roofline"] = roofline_rows(row, rates)
    table, roofline = seconds_table(rows), roofline_table(rows, rates)
    print(table, roofline, sep="\n\n")
    payload = {
        "measured": started,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "load_average_at_start": load,
        "rounds_per_run": args.rounds,
        "rates": rates,
        "rows": rows,
        "table": table,
        "roofline_table": roofline,
    }
    if args.baseline is not None:
        ab_table, ab_rows = compare(args)
        print(f"\nA/B against {args.baseline}:\n\n{ab_table}")
        payload.update(ab_table=ab_table, ab_rows=ab_rows, baseline=str(args.baseline))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
