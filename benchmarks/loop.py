"""Time per active-learning round, split into train / evaluate / predict / select.

    python benchmarks/loop.py [--rounds 3] [--datasets repeated-mnist mnist]

Runs a few rounds of random, BALD and BatchBALD with the *teaching* presets on whatever data is
available (the offline MNIST sample here) and prints a markdown table of the mean seconds per
round; also writes benchmarks/results/loop.json with the configuration, data source and date.
Measure on a quiet machine: the numbers are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from bbal_tutorial.loop import prepare_data, run_experiment
from bbal_tutorial.presets import make_config

PHASES = ("train_seconds", "eval_seconds", "predict_seconds", "select_seconds")
METHODS = ("random", "bald", "batchbald")


def measure(dataset: str, method: str, rounds: int, seed: int) -> dict:
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
    start = time.perf_counter()
    run = run_experiment(config, experiment=experiment, progress=False)
    wall = time.perf_counter() - start
    acquiring = [r for r in run.rounds if r.acquired_indices]
    row = {p: statistics.mean(getattr(r, p) for r in acquiring) for p in PHASES}
    row.update(
        dataset=dataset,
        method=method,
        rounds=len(acquiring),
        pool_size=run.pool_size,
        test_size=run.test_size,
        wall_seconds=wall,
        source=run.dataset_source,
        config=run.config.to_dict(),
    )
    row["round_seconds"] = sum(row[p] for p in PHASES)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["repeated-mnist", "mnist"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    rows = [measure(d, m, args.rounds, args.seed) for d in args.datasets for m in METHODS]
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
    table = "\n".join(lines)
    print(table)
    payload = {
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "rounds_per_run": args.rounds,
        "rows": rows,
        "table": table,
    }
    out = Path(__file__).parent / "results" / "loop.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(payload, indent=1))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
