"""Tests for bbal_tutorial.sweeps: the job list of ``reproduce`` and its engines (the comparison of
the in-process and the ``--jobs`` engine is in tests/test_cli.py, through the command line)."""

import json
import os
import signal
import threading
import time

import pytest

from bbal_tutorial import cli, sweeps
from bbal_tutorial.config import data_key
from bbal_tutorial.presets import EXPERIMENTS, experiment_config, make_config
from bbal_tutorial.results import save_results


def test_reproduce_jobs_cover_every_experiment_but_the_download_only_ones():
    jobs = sweeps.reproduce_jobs()
    names = [name for name, _ in jobs]
    assert "repeated-mnist-variation-ratios-b10-seed2.json" in names
    assert "acquisition-size-bald-b1-seed1.json" in names
    assert not any(name.startswith("emnist") for name in names)
    assert len(names) == len(set(names))
    assert len(jobs) == sum(
        len(spec["runs"]) * len(spec["seeds"])
        for spec in EXPERIMENTS.values()
        if not spec.get("needs_download")
    )
    assert dict(jobs)["acquisition-size-bald-b1-seed1.json"] == experiment_config(
        "acquisition-size", "bald", 1, 1
    )
    emnist = sweeps.reproduce_jobs(["emnist"], [0])
    assert [name for name, _ in emnist] == [
        f"emnist-{m}-b5-seed0.json" for m in ("random", "bald", "batchbald")
    ]
    with pytest.raises(ValueError, match="unknown experiment"):
        sweeps.reproduce_jobs(["emnst"])


@pytest.fixture
def recorded(monkeypatch, run_record):
    """The engine without the work: prepare_data and run_experiment only record their calls."""
    calls = {"prepared": [], "ran": []}

    def prepare_data(config, **kwargs):
        calls["prepared"].append(data_key(config))
        return object()

    def run_experiment(config, out, *, experiment, **kwargs):
        calls["ran"].append((out.name, experiment))
        return run_record(config.acquisition, config.acquisition_size, config.seed, [{}])

    monkeypatch.setattr(sweeps, "prepare_data", prepare_data)
    monkeypatch.setattr(sweeps, "run_experiment", run_experiment)
    return calls


def test_runs_on_the_same_data_share_one_loaded_dataset(tmp_path, recorded, capsys):
    configs = [
        make_config("teaching", "repeated-mnist", acquisition="bald"),
        make_config("teaching", "repeated-mnist", acquisition="random", mc_samples=3),
        make_config("teaching", "repeated-mnist", acquisition="bald", seed=1),
    ]
    jobs = [(f"run{i}.json", config) for i, config in enumerate(configs)]
    paths = sweeps.run_many(jobs, tmp_path, progress=False)
    assert paths == [tmp_path / name for name, _ in jobs]
    assert len(recorded["prepared"]) == 2  # seed 1 has other splits (and noise)
    (_, first), (_, second), (_, third) = recorded["ran"]
    assert first is second and third is not first
    printed = capsys.readouterr().out
    assert printed.count("labels to reach 90%") == 3 and str(tmp_path / "run2.json") in printed


def test_reproduce_checks_its_options_and_reports(tmp_path, recorded, monkeypatch, capsys):
    with pytest.raises(ValueError, match="--jobs must be at least 1"):
        sweeps.reproduce(tmp_path, jobs=0)
    with pytest.raises(ValueError, match="--download needs --jobs 1"):
        sweeps.reproduce(tmp_path, jobs=2, download=True)
    config = make_config("teaching", "repeated-mnist", acquisition="bald")
    monkeypatch.setattr(sweeps, "reproduce_jobs", lambda experiments, seeds: [("a.json", config)])
    assert sweeps.reproduce(tmp_path, progress=False) == [tmp_path / "a.json"]
    assert f"1 runs in 0 s, written to {tmp_path}/" in capsys.readouterr().out
    assert recorded["ran"] == [("a.json", recorded["ran"][0][1])]


def test_reproduce_leaves_complete_runs_alone(tmp_path, recorded, monkeypatch, capsys, run_record):
    configs = [make_config("teaching", "repeated-mnist", acquisition=m) for m in ("bald", "random")]
    monkeypatch.setattr(
        sweeps,
        "reproduce_jobs",
        lambda experiments, seeds: [(f"{c.acquisition}.json", c) for c in configs],
    )
    finished = "2026-11-22T00:00:00+00:00"
    for config in configs:
        run = run_record(config=config.to_dict(), finished=finished, rounds=[{}])
        save_results(run, tmp_path / f"{config.acquisition}.json")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    sweeps.reproduce(tmp_path, progress=False)
    assert recorded["prepared"] == recorded["ran"] == []  # no data loaded, nothing run
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    printed = capsys.readouterr().out
    assert f"2 of 2 runs are complete in {tmp_path}/" in printed and "nothing to do" in printed

    # a run with other settings (here: a larger label budget) is not complete: the loop extends it
    configs[1] = make_config("teaching", "repeated-mnist", acquisition="random", label_budget=300)
    sweeps.reproduce(tmp_path, progress=False)
    assert [name for name, _ in recorded["ran"]] == ["random.json"]
    assert "1 of 2 runs are complete" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------
# The Dask engine (reproduce --scheduler): a LocalCluster of single-threaded worker processes
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serial_records(tmp_path_factory, tiny_sweep, without_timings):
    """The tiny sweep run in this process, single-threaded: the reference every engine meets."""
    out = tmp_path_factory.mktemp("serial")
    with sweeps._single_threaded():
        sweeps.run_many(tiny_sweep, out, progress=False)
    return {name: without_timings(out / name) for name, _ in tiny_sweep}


@pytest.fixture
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_dask_sweep_writes_the_same_records_as_one_process(
    tmp_path, cluster, serial_records, tiny_sweep, without_timings
):
    paths = sweeps.run_on_dask(
        tiny_sweep, tmp_path, scheduler=cluster.scheduler_address, progress=False
    )
    assert paths == [tmp_path / name for name, _ in tiny_sweep]
    for name, _ in tiny_sweep:
        assert without_timings(tmp_path / name) == serial_records[name]
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_worker_loses_nothing_and_the_sweep_completes(
    tmp_path, cluster, serial_records, tiny_sweep, without_timings
):
    distributed = pytest.importorskip("distributed")
    killed = threading.Event()

    def kill_a_worker_mid_run():
        # once a run has a round on disk (and more to come), kill one worker process outright
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed.is_set():
            for path in tmp_path.glob("tiny-*.json"):
                try:
                    rounds = len(json.loads(path.read_text())["rounds"])
                except (ValueError, KeyError, OSError):
                    continue
                if 1 <= rounds < 4:
                    with distributed.Client(cluster.scheduler_address) as client:
                        pids = list(client.run(os.getpid).values())
                    os.kill(pids[0], signal.SIGKILL)
                    killed.set()
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_worker_mid_run, daemon=True)
    killer.start()
    sweeps.run_on_dask(tiny_sweep, tmp_path, scheduler=cluster.scheduler_address, progress=False)
    killer.join(timeout=10)
    assert killed.is_set(), "the sweep finished before a worker could be killed"
    # the same command again: everything is complete, nothing is recomputed
    before = {p.name: p.read_bytes() for p in tmp_path.glob("tiny-*.json")}
    sweeps.run_on_dask(
        [(n, c) for n, c in tiny_sweep if not sweeps._is_complete(tmp_path / n, c)],
        tmp_path,
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert {p.name: p.read_bytes() for p in tmp_path.glob("tiny-*.json")} == before
    for name, _ in tiny_sweep:
        assert without_timings(tmp_path / name) == serial_records[name]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_an_interrupted_sweep_resumes_where_it_stopped(
    tmp_path, cluster, serial_records, monkeypatch, tiny_sweep, without_timings
):
    real_save = sweeps.save_results
    saved = []

    def save_then_stop(run, path):
        real_save(run, path)
        saved.append(path.name)
        if len(saved) == 3:  # the client stops after three rounds are on disk
            raise KeyboardInterrupt

    monkeypatch.setattr(sweeps, "save_results", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        sweeps.run_on_dask(
            tiny_sweep, tmp_path, scheduler=cluster.scheduler_address, progress=False
        )
    partial = {p.name: len(json.loads(p.read_text())["rounds"]) for p in tmp_path.glob("*.json")}
    assert sum(partial.values()) == 3 and not any(
        without_timings(tmp_path / name)[0] for name in partial
    )
    monkeypatch.setattr(sweeps, "save_results", real_save)
    monkeypatch.setattr(sweeps, "reproduce_jobs", lambda experiments, seeds: tiny_sweep)
    sweeps.reproduce(tmp_path, scheduler=cluster.scheduler_address, progress=False)
    for name, _ in tiny_sweep:
        assert without_timings(tmp_path / name) == serial_records[name]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_worker_without_the_data_fails_that_run_with_the_loaders_message(
    tmp_path, cluster, capsys, tiny_sweep_settings
):
    config = make_config(
        "teaching", "emnist", acquisition="random", **{**tiny_sweep_settings, "data_source": "auto"}
    )
    empty = tmp_path / "no-data"
    empty.mkdir()
    with pytest.raises(RuntimeError, match=r"1 run\(s\) failed: tiny-emnist.json"):
        sweeps.run_on_dask(
            [("tiny-emnist.json", config)],
            tmp_path,
            scheduler=cluster.scheduler_address,
            data_dir=empty,
            progress=False,
        )
    printed = capsys.readouterr()
    assert "failed: tiny-emnist.json: DatasetNotFoundError: EMNIST-balanced not found" in (
        printed.out + printed.err
    )
    assert not (tmp_path / "tiny-emnist.json").exists()


def test_scheduler_without_dask_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweeps, "distributed", None)
    with pytest.raises(RuntimeError, match=r"pip install -e '\.\[cluster\]'"):
        sweeps.reproduce(tmp_path, scheduler="local")
    assert cli.main(["reproduce", "--out-dir", str(tmp_path), "--scheduler", "local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {sweeps.DASK_MISSING}"]
