"""Reproduce many runs: one after another in this process, spread over local worker processes
(``--jobs N``), or over a Dask cluster (``--scheduler``), each single-threaded so that every
engine writes identical records.

:func:`reproduce_jobs` lists the cached runs of :data:`~bbal_tutorial.presets.EXPERIMENTS`;
:func:`reproduce` runs them (the ``reproduce`` command); :func:`run_many` is the in-process engine
(also behind ``demo``), :func:`run_parallel` the one with worker processes, :func:`run_on_dask`
the one for a Dask cluster (an optional extra: ``pip install -e .[cluster]``).
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
from bbal_tutorial.loop import (
    ExperimentData,
    next_round,
    prepare_data,
    resumable_run,
    run_experiment,
    start_run,
)
from bbal_tutorial.models import resolve_device
from bbal_tutorial.presets import EXPERIMENTS, experiment_config, experiment_runs
from bbal_tutorial.results import RunRecord, load_results, result_name, run_summary, save_results

try:  # Dask is an optional extra; only --scheduler needs it
    import distributed
except ImportError:
    distributed = None

#: What --scheduler says when Dask is not installed.
DASK_MISSING = (
    "--scheduler needs Dask: pip install -e '.[cluster]' (or pip install 'dask[distributed]')"
)

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
    scheduler: str | None = None,
    download: bool = False,
    data_dir: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
) -> list[Path]:
    """Compute (or complete) the cached runs of ``experiments`` into ``out_dir``, single-threaded:
    in this process (``jobs=1``), in ``jobs`` worker processes, or on a Dask cluster
    (``scheduler``: its address, or ``"local"`` for a ``LocalCluster`` of ``jobs`` workers).
    Complete runs (finished, with the same settings) are left untouched; unfinished ones resume.
    Prints how many were complete, each computed run's summary and a closing line; returns the
    paths of all the runs."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if scheduler is not None and distributed is None:
        raise RuntimeError(DASK_MISSING)
    if download and jobs > 1 and scheduler is None:
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
    if scheduler is not None:
        run_on_dask(
            todo,
            out_dir,
            scheduler=scheduler,
            workers=jobs,
            data_dir=data_dir,
            download=download,
            device=device,
            progress=progress,
        )
    elif jobs == 1:
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


#: A Dask worker's prepared dataset (one at a time, so that its memory stays bounded): rounds of
#: runs on the same data follow each other on a worker without loading it again.
_worker_data: dict[tuple[Any, ...], ExperimentData] = {}


def advance_run(
    config_dict: dict[str, Any],
    run_dict: dict[str, Any] | None,
    data_dir: str | None,
    download: bool,
    device: str,
) -> dict[str, Any]:
    """One round of one run, as a Dask task: the record of the run so far (``None``: not
    started) in, the record with one more round out. Runs on one torch thread, like every
    engine, so the rounds are the ones any engine computes; the worker reads the data from
    ``data_dir`` (else its ``$BBAL_DATA_DIR``) and downloads it only when ``download`` is set."""
    torch.set_num_threads(1)
    config = ExperimentConfig.from_dict(config_dict)
    key = data_key(config)
    if key not in _worker_data:
        _worker_data.clear()
        _worker_data[key] = prepare_data(config, data_dir=data_dir, download=download or None)
    experiment = _worker_data[key]
    device_ = resolve_device(device)
    run = RunRecord.from_dict(run_dict) if run_dict is not None else None
    run = next_round(start_run(config, experiment, run, device=device_), experiment, device=device_)
    return run.to_dict()


def run_on_dask(
    jobs: Sequence[Job],
    out_dir: Path,
    *,
    scheduler: str,
    workers: int = 1,
    data_dir: str | Path | None = None,
    download: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> list[Path]:
    """Run the jobs on a Dask cluster, one task per round (:func:`advance_run`).

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``) or ``"local"``:
    a ``LocalCluster`` of ``workers`` single-threaded worker processes on this machine. This
    process owns ``out_dir`` and is its only writer: after every round it writes the run's record
    atomically, then sends the next round. A worker that dies loses only the round it was
    computing (Dask gives the task to another worker); if this process stops, every finished
    round is on disk and the same command resumes each run where it stopped. One progress bar
    counts finished runs; a line is printed per finished or failed run. Raises ``RuntimeError``
    naming the failed runs at the end (their finished rounds are kept)."""
    if distributed is None:
        raise RuntimeError(DASK_MISSING)
    ordered = sorted(jobs, key=lambda job: -job[1].label_budget / job[1].acquisition_size)
    folder = None if data_dir is None else str(data_dir)
    cluster = None
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    failed: list[str] = []
    try:
        with distributed.Client(cluster if cluster is not None else scheduler) as client:

            def submit(config: ExperimentConfig, run: RunRecord | None) -> Any:
                run_dict = None if run is None else run.to_dict()
                return client.submit(
                    advance_run, config.to_dict(), run_dict, folder, download, device, pure=False
                )

            pending: dict[Any, tuple[str, ExperimentConfig, float]] = {}
            for name, config in ordered:
                out = out_dir / name
                run = resumable_run(load_results(out), config, out) if out.exists() else None
                pending[submit(config, run)] = (name, config, time.perf_counter())
            finished_runs = distributed.as_completed(list(pending))
            with tqdm(total=len(ordered), desc="runs", disable=not progress) as bar:
                for future in finished_runs:
                    name, config, started = pending.pop(future)
                    out = out_dir / name
                    try:
                        run = RunRecord.from_dict(future.result())
                    except Exception as error:  # noqa: BLE001 (reported, the others go on)
                        failed.append(name)
                        tqdm.write(f"failed: {name}: {type(error).__name__}: {error}")
                        bar.update(1)
                        continue
                    save_results(run, out)
                    if run.finished:
                        tqdm.write(run_summary(run, out, time.perf_counter() - started))
                        bar.update(1)
                    else:
                        follow = submit(config, run)
                        pending[follow] = (name, config, started)
                        finished_runs.add(follow)
    finally:
        if cluster is not None:
            cluster.close()
    if failed:
        raise RuntimeError(
            f"{len(failed)} run(s) failed: {', '.join(failed)}. Their finished rounds are saved "
            "in place; fix the cause (see the lines above) and run the same command again."
        )
    return [out_dir / name for name, _ in jobs]
