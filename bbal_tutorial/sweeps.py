"""Reproduce many runs: one after another in this process, or spread over local worker processes
(``--jobs N``), each single-threaded so that every engine writes identical records.

:func:`reproduce_jobs` lists the cached runs of :data:`~bbal_tutorial.presets.EXPERIMENTS`;
:func:`reproduce` runs them (the ``reproduce`` command); :func:`run_many` is the in-process engine
(also behind ``demo``), :func:`run_parallel` the one with worker processes.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from bbal_tutorial.config import ExperimentConfig, data_key
from bbal_tutorial.loop import ExperimentData, prepare_data, run_experiment
from bbal_tutorial.presets import EXPERIMENTS, experiment_config, experiment_runs
from bbal_tutorial.results import load_results, result_name, run_summary

#: One job: the results file name and the config of its run.
Job = tuple[str, ExperimentConfig]


def reproduce_jobs(
    experiments: Sequence[str] | None = None, seeds: Sequence[int] | None = None
) -> list[Job]:
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


@contextmanager
def _single_threaded() -> Iterator[None]:
    """torch on one thread, as in the worker processes of :func:`run_parallel`: torch's CPU
    results depend on the thread count, and results/ must come out the same however it is made."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def reproduce(
    out_dir: str | Path,
    *,
    experiments: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    jobs: int = 1,
    download: bool = False,
    data_dir: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
) -> list[Path]:
    """Compute (or complete) the cached runs of ``experiments`` into ``out_dir``, single-threaded:
    in this process (``jobs=1``) or in ``jobs`` worker processes. Complete runs (finished, with
    the same settings) are left untouched; unfinished ones resume. Prints how many were complete,
    each computed run's summary and a closing line; returns the paths of all the runs."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if download and jobs > 1:
        raise ValueError("--download needs --jobs 1 (one process fetches the dataset)")
    out_dir = Path(out_dir)
    every = reproduce_jobs(experiments, seeds)
    todo = [(name, config) for name, config in every if not _is_complete(out_dir / name, config)]
    paths = [out_dir / name for name, _ in every]
    if len(todo) < len(every):
        print(f"{len(every) - len(todo)} of {len(every)} runs are complete in {out_dir}/")
    if not todo:
        print("All runs are complete; nothing to do.")
        return paths
    start = time.perf_counter()
    if jobs == 1:
        with _single_threaded():
            run_many(
                todo,
                out_dir,
                data_dir=data_dir,
                download=download,
                device=device,
                progress=progress,
            )
    else:
        run_parallel(todo, out_dir, workers=jobs, data_dir=data_dir, device=device)
    print(f"\n{len(todo)} runs in {time.perf_counter() - start:.0f} s, written to {out_dir}/")
    return paths


def _is_complete(path: Path, config: ExperimentConfig) -> bool:
    """Whether ``path`` holds a finished run of ``config`` (anything else goes to the loop, which
    resumes or extends it, or says what is wrong with the file)."""
    if not path.exists():
        return False
    try:
        run = load_results(path)
    except ValueError:
        return False
    return bool(run.finished) and run.config == config


def run_many(
    jobs: Sequence[Job],
    out_dir: Path,
    *,
    data_dir: str | Path | None = None,
    download: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> list[Path]:
    """Run the jobs one after another into ``out_dir`` (each resumable), printing each summary."""
    paths = []
    prepared: dict[tuple[Any, ...], ExperimentData] = {}
    for name, config in jobs:
        out = out_dir / name
        # Runs that agree on the data settings share one loaded dataset and its splits.
        key = data_key(config)
        if key not in prepared:
            prepared[key] = prepare_data(config, data_dir=data_dir, download=download or None)
        start = time.perf_counter()
        run = run_experiment(
            config, out, device=device, progress=progress, experiment=prepared[key]
        )
        print(run_summary(run, out, time.perf_counter() - start), flush=True)
        paths.append(out)
    return paths


def _run_one_single_threaded(
    name: str, config_dict: dict[str, Any], out_dir: str, data_dir: str | None, device: str
) -> str:
    """One run in a worker process, on one thread (the setting results/ is reproducible at)."""
    torch.set_num_threads(1)
    out = Path(out_dir) / name
    start = time.perf_counter()
    run = run_experiment(
        ExperimentConfig.from_dict(config_dict),
        out,
        data_dir=data_dir,
        device=device,
        progress=False,
    )
    return run_summary(run, out, time.perf_counter() - start)


def run_parallel(
    jobs: Sequence[Job],
    out_dir: Path,
    *,
    workers: int,
    data_dir: str | Path | None = None,
    device: str = "auto",
) -> list[Path]:
    """Run the jobs in ``workers`` single-threaded processes, longest first; print each summary
    as its run finishes."""
    # Longest first (rounds ~ labels / b), so that no long run starts last.
    ordered = sorted(jobs, key=lambda job: -job[1].label_budget / job[1].acquisition_size)
    # "spawn": forking a process that has already started torch's thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(
                _run_one_single_threaded,
                name,
                config.to_dict(),
                str(out_dir),
                None if data_dir is None else str(data_dir),
                device,
            )
            for name, config in ordered
        ]
        for future in tqdm(as_completed(futures), total=len(futures), desc="runs"):
            print(future.result(), flush=True)
    return [out_dir / name for name, _ in jobs]
