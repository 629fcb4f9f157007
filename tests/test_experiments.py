import json

import pytest

from bbal_tutorial.experiments import labels_to_reach_summary, load_experiment, results_dir
from bbal_tutorial.presets import EXPERIMENTS, experiment_config, result_name


def _write_run(folder, tag, acquisition, b, seed, accuracies, finished=True):
    config = experiment_config(tag, acquisition, b, seed).to_dict()
    rounds = [
        {"n_labeled": 20 + b * i, "test_accuracy": a, "acquired_labels": []}
        for i, a in enumerate(accuracies)
    ]
    payload = {
        "format": "bbal_tutorial.results/1",
        "config": config,
        "dataset_source": "test",
        "finished": "2026-11-22T00:00:00+00:00" if finished else None,
        "updated": "2026-11-22T00:00:00+00:00",
        "rounds": rounds,
    }
    (folder / result_name(tag, acquisition, b, seed)).write_text(json.dumps(payload))


def test_load_experiment_filters_and_skips_unfinished(tmp_path):
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 0, [0.5, 0.9])
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 1, [0.5, 0.6], finished=False)
    _write_run(tmp_path, "repeated-mnist", "random", 10, 0, [0.5, 0.7])
    runs = load_experiment("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert [(r["config"]["acquisition"], r["config"]["seed"]) for r in runs] == [("bald", 0)]
    everything = load_experiment("repeated-mnist", directory=tmp_path, finished_only=False)
    assert len(everything) == 3


def test_load_experiment_says_which_command_makes_missing_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="make reproduce"):
        load_experiment("acquisition-size", directory=tmp_path)
    with pytest.raises(ValueError, match="unknown experiment"):
        load_experiment("nope", directory=tmp_path)


def test_results_dir_prefers_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BBAL_RESULTS_DIR", str(tmp_path))
    assert results_dir() == tmp_path
    assert results_dir("elsewhere").name == "elsewhere"
    monkeypatch.delenv("BBAL_RESULTS_DIR")
    assert results_dir().name == "results"


def test_labels_to_reach_summary_counts_never_as_infinite():
    runs = [
        {"rounds": [{"n_labeled": 20, "test_accuracy": 0.5}, {"n_labeled": 30, "test_accuracy": a}]}
        for a in (0.95, 0.8, 0.85)
    ]
    assert labels_to_reach_summary(runs, 0.9) == {
        "per_seed": [30, None, None],
        "median": None,
        "reached": 1,
        "seeds": 3,
    }
    assert labels_to_reach_summary(runs, 0.8)["median"] == 30


def test_every_experiment_config_is_valid():
    for tag, spec in EXPERIMENTS.items():
        for acquisition, b in spec["runs"]:
            config = experiment_config(tag, acquisition, b, spec["seeds"][0])
            assert config.batch_size == b and config.dataset == spec["dataset"]
