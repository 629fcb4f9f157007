import dataclasses

import pytest
import torch

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.lessons.repeated_mnist import display_images, distinct_labelled
from bbal_tutorial.loop import run_experiment
from bbal_tutorial.presets import (
    EXPERIMENTS,
    PRESETS,
    WHY,
    config_from_choices,
    describe_missing,
    experiment_config,
    load_available,
    load_experiment,
    make_config,
    missing_runs,
    preset_settings,
    reproduce_command,
    results_dir,
    run_data,
)
from bbal_tutorial.results import RunRecord, result_name, save_results


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("dataset", ["mnist", "repeated-mnist", "emnist", "fashion-mnist"])
def test_every_preset_is_a_valid_config_with_a_reason(preset, dataset):
    config = make_config(preset, dataset)
    assert isinstance(config, ExperimentConfig)
    assert config.dataset == dataset
    assert WHY[preset]["mnist" if dataset == "fashion-mnist" else dataset]


def test_paper_preset_follows_the_paper():
    mnist = preset_settings("paper", "mnist")
    assert (mnist["acquisition_size"], mnist["mc_samples"], mnist["validation_size"]) == (
        10,
        100,
        1024,
    )
    repeated = preset_settings("paper", "repeated-mnist")
    assert (repeated["mc_samples"], repeated["validation_size"], repeated["num_repeats"]) == (
        10,
        3072,
        3,
    )
    emnist = preset_settings("paper", "emnist")
    assert (emnist["acquisition_size"], emnist["initial_per_class"], emnist["model"]) == (
        5,
        0,
        "emnist-cnn",
    )
    assert mnist["samples_per_epoch"] == 5056 and mnist["patience"] == 3


def test_teaching_keeps_the_papers_b_and_k_on_repeated_mnist():
    teaching, paper = (
        preset_settings("teaching", "repeated-mnist"),
        preset_settings("paper", "repeated-mnist"),
    )
    assert (
        teaching["acquisition_size"] == paper["acquisition_size"]
        and teaching["mc_samples"] == paper["mc_samples"]
    )
    assert teaching["max_train_images"] is not None


def test_overrides_and_errors():
    assert make_config("teaching", "mnist", acquisition_size=3, seed=7).acquisition_size == 3
    with pytest.raises(ValueError, match="unknown preset"):
        make_config("fast", "mnist")
    with pytest.raises(ValueError, match="no settings for dataset"):
        preset_settings("paper", "cifar10")


# --------------------------------------------------------------------------------------------------
# one adapter from chosen values (command line, widget controls) to a config


def test_config_from_choices_maps_each_choice_onto_the_experiment_config():
    choices = dict(
        acquisition="bald",
        acquisition_size=7,
        mc_samples=4,
        num_repeats=2,
        noise_std=0.25,
        max_train_images=300,
        label_budget=90,
        seed=3,
    )
    config = config_from_choices(
        "teaching", "repeated-mnist", choices, overrides={"max_epochs": 2, "acquisition_size": 40}
    )
    assert config.dataset == "repeated-mnist"
    for name, value in choices.items():
        assert getattr(config, name) == value, name  # a choice wins over an override
    assert config.test_mc_samples == 4  # the test set is scored with the same K
    assert config.max_epochs == 2  # an override without a choice stays
    assert config.samples_per_epoch == 1024  # the rest comes from the teaching preset

    mnist = config_from_choices("teaching", "mnist", choices)
    assert (mnist.dataset, mnist.num_repeats, mnist.noise_std) == ("mnist", 3, 0.1)  # defaults
    with pytest.raises(ValueError, match="unknown setting"):
        config_from_choices("teaching", "mnist", {"epochs": 3})


def test_config_from_choices_ignores_what_was_not_chosen():
    # the command line's options that were not given arrive as None
    config = config_from_choices("paper", "mnist", dict(acquisition="bald", mc_samples=None))
    assert config == make_config("paper", "mnist", acquisition="bald")
    assert (config.mc_samples, config.test_mc_samples) == (100, 100)


# --------------------------------------------------------------------------------------------------
# the cached experiments in results/


@pytest.fixture
def write_run(run_record, tmp_path):
    """``write_run(tag, acquisition, b, seed, accuracies, finished=True)``: a cached run in
    ``tmp_path``, named and configured as ``reproduce`` makes it."""

    def write(tag, acquisition, b, seed, accuracies, finished=True):
        save_results(
            run_record(
                acquisition,
                b,
                seed,
                rounds=[{"test_accuracy": a} for a in accuracies],
                config=experiment_config(tag, acquisition, b, seed).to_dict(),
                finished="2026-11-22T00:00:00+00:00" if finished else None,
            ),
            tmp_path / result_name(tag, acquisition, b, seed),
        )

    return write


def test_every_experiment_config_is_valid():
    for tag, spec in EXPERIMENTS.items():
        for acquisition, b in spec["runs"]:
            config = experiment_config(tag, acquisition, b, spec["seeds"][0])
            assert config.acquisition_size == b and config.dataset == spec["dataset"]


def test_load_experiment_filters_and_skips_unfinished(tmp_path, write_run):
    write_run("repeated-mnist", "bald", 10, 0, [0.5, 0.9])
    write_run("repeated-mnist", "bald", 10, 1, [0.5, 0.6], finished=False)
    write_run("repeated-mnist", "random", 10, 0, [0.5, 0.7])
    runs = load_experiment("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert [(r.acquisition, r.seed) for r in runs] == [("bald", 0)]
    assert all(isinstance(r, RunRecord) for r in runs)
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


def test_missing_runs_lists_absent_and_unfinished_runs(tmp_path, write_run):
    write_run("repeated-mnist", "bald", 10, 0, [0.5, 0.9])
    write_run("repeated-mnist", "bald", 10, 1, [0.5], finished=False)
    missing = missing_runs("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert missing == [
        "repeated-mnist-bald-b10-seed1.json (unfinished)",
        "repeated-mnist-bald-b10-seed2.json",
    ]
    assert load_available("acquisition-size", directory=tmp_path) == []
    assert len(load_available("repeated-mnist", directory=tmp_path)) == 1
    everything = missing_runs("repeated-mnist", directory=tmp_path)
    spec = EXPERIMENTS["repeated-mnist"]
    assert len(everything) == len(spec["runs"]) * len(spec["seeds"]) - 1
    assert reproduce_command("repeated-mnist") == (
        "python -m bbal_tutorial reproduce --experiments repeated-mnist"
    )
    assert reproduce_command("emnist") == (
        "python -m bbal_tutorial reproduce --experiments emnist --data-dir FOLDER` (a folder "
        "holding EMNIST/raw/) or `python -m bbal_tutorial reproduce --experiments emnist --download"
    )
    text = describe_missing("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert "2 run(s)" in text and "--experiments repeated-mnist" in text
    write_run("repeated-mnist", "bald", 10, 1, [0.5])
    write_run("repeated-mnist", "bald", 10, 2, [0.5])
    assert "All cached runs" in describe_missing(
        "repeated-mnist", acquisitions=["bald"], directory=tmp_path
    )
    with pytest.raises(ValueError, match="unknown experiment"):
        missing_runs("nope")


def test_run_data_rebuilds_the_pool_a_run_acquired_from():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = dataclasses.replace(
            experiment_config("repeated-mnist", "bald", 5, 0),
            max_train_images=40,
            label_budget=25,
            validation_size=20,
            max_epochs=1,
            samples_per_epoch=64,
            max_test_size=50,
            mc_samples=2,
            test_mc_samples=2,
        )
        run = run_experiment(config, progress=False)
    finally:
        torch.set_num_threads(threads)
    experiment = run_data(run)
    assert experiment.initial_indices == run.initial_indices
    first = run.rounds[0]
    assert set(first.acquired_indices) <= set(experiment.pool_indices)
    data = experiment.data
    assert data.original_index_N[first.acquired_indices].tolist() == (
        first.acquired_original_indices
    )
    assert data.train_y_N[first.acquired_indices].tolist() == first.acquired_labels
    # the lessons read the rebuilt pool: the acquired images, and the distinct originals labelled
    images = display_images(data, first.acquired_indices)
    assert images.shape == (5, 28, 28) and 0 <= images.min() and images.max() <= 1
    (curve,) = distinct_labelled([run])
    originals = data.original_index_N[run.initial_indices].tolist()
    expected = []
    for record in run.rounds:
        expected.append(len(set(originals)))
        originals += record.acquired_original_indices
    assert curve == expected and len(curve) == 2 and curve[0] <= 20 and curve[1] <= 25

    moved = dataclasses.replace(run, initial_indices=run.initial_indices[::-1])
    with pytest.raises(ValueError, match="differ from the data"):
        run_data(moved)
