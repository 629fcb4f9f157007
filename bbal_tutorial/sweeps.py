"""Reproduce many runs: one after another in this process, or spread over local worker processes
(``--jobs N``), each single-threaded so that every engine writes identical records.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.loop import prepare_data, run_experiment
from bbal_tutorial.presets import EXPERIMENTS, experiment_config, experiment_runs
from bbal_tutorial.results import labels_to_reach, result_name


def _summary(results: dict[str, Any], out: Path | None, seconds: float) -> str:

    last = results["rounds"][-1]
    config = results["config"]
    to90 = labels_to_reach(results, 0.9)
    lines = [
        f"{config['acquisition']} on {config['dataset']} (b={config['acquisition_size']}, "
        f"K={config['mc_samples']}, seed {config['seed']}) -- {results['dataset_source']}",
        f"  {len(results['rounds'])} rounds, {last['n_labeled']} labelled points, "
        f"final test accuracy {last['test_accuracy']:.3f} (NLL {last['test_nll']:.3f})",
        f"  labels to reach 90%: {to90 if to90 is not None else 'not reached'}",
        f"  took {seconds:.0f} s" + (f"; results in {out}" if out else ""),
    ]
    return "\n".join(lines)


def _run_many(
    jobs: Sequence[tuple[str, Any]],
    out_dir: Path,
    *,
    args: argparse.Namespace,
) -> list[Path]:
    """Run (name, config) jobs one after another into ``out_dir`` (each resumable)."""

    paths = []
    prepared: dict[tuple, Any] = {}
    for name, config in jobs:
        out = out_dir / name
        # Runs that differ only in acquisition function or size share the same data and splits.
        key = tuple(
            (k, v)
            for k, v in sorted(config.to_dict().items())
            if k not in ("acquisition", "acquisition_size", "coldness", "num_samples")
        )
        if key not in prepared:
            prepared[key] = prepare_data(
                config, data_dir=args.data_dir, download=getattr(args, "download", None) or None
            )
        start = time.perf_counter()
        results = run_experiment(
            config, out, device=args.device, progress=not args.quiet, experiment=prepared[key]
        )
        print(_summary(results, out, time.perf_counter() - start), flush=True)
        paths.append(out)
    return paths


def reproduce_jobs(
    experiments: Sequence[str] | None = None, seeds: Sequence[int] | None = None
) -> list[tuple[str, Any]]:
    """The (file name, config) of every cached run, seed by seed, from presets.EXPERIMENTS."""

    unknown = sorted(set(experiments or ()) - set(EXPERIMENTS))
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; choose from {sorted(EXPERIMENTS)}")
    # Experiments on datasets that must be downloaded run only when named explicitly.
    tags = experiments or [t for t, spec in EXPERIMENTS.items() if not spec.get("needs_download")]
    return [
        (result_name(tag, acquisition, b, seed), experiment_config(tag, acquisition, b, seed))
        for tag in EXPERIMENTS
        if tag in tags
        for acquisition, b, seed in experiment_runs(tag, seeds=seeds)
    ]


def _run_one_single_threaded(
    name: str, config_dict: dict[str, Any], out_dir: str, data_dir: str | None, device: str
) -> str:
    """One run in a worker process, on one thread (the setting results/ is reproducible at)."""
    import torch

    torch.set_num_threads(1)
    out = Path(out_dir) / name
    start = time.perf_counter()
    results = run_experiment(
        ExperimentConfig.from_dict(config_dict),
        out,
        data_dir=data_dir,
        device=device,
        progress=False,
    )
    return _summary(results, out, time.perf_counter() - start)


def _run_parallel(jobs: Sequence[tuple[str, Any]], out_dir: Path, args: argparse.Namespace) -> None:
    """Run the jobs in ``args.jobs`` single-threaded worker processes, longest first."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    # Longest first (rounds ~ labels / b), so that no long run starts last.
    ordered = sorted(jobs, key=lambda job: -job[1].label_budget / job[1].acquisition_size)
    # "spawn": forking a process that has already started torch's thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = [
            pool.submit(
                _run_one_single_threaded,
                name,
                config.to_dict(),
                str(out_dir),
                args.data_dir,
                args.device,
            )
            for name, config in ordered
        ]
        for future in tqdm(as_completed(futures), total=len(futures), desc="runs"):
            print(future.result(), flush=True)
