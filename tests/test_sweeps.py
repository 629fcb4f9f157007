"""Tests for bbal_tutorial.sweeps: the job list of ``reproduce`` and its engines (the comparison of
the in-process and the ``--jobs`` engine is in tests/test_cli.py, through the command line)."""

import pytest

from bbal_tutorial import sweeps
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
