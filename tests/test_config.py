"""Tests for bbal_tutorial.config: the settings of a run and what follows from them alone."""

import dataclasses

import pytest

from bbal_tutorial.config import DATA_SETTINGS, ExperimentConfig, data_key, planned_rounds


def test_bad_settings_are_refused_with_the_setting_named():
    with pytest.raises(ValueError, match="unknown acquisition function 'badld'"):
        ExperimentConfig(acquisition="badld")
    with pytest.raises(ValueError, match="acquisition_size must be at least 1"):
        ExperimentConfig(acquisition_size=0)
    with pytest.raises(ValueError, match="label_budget must be >= 0"):
        ExperimentConfig(label_budget=-1)
    with pytest.raises(ValueError, match="unknown setting"):
        ExperimentConfig.from_dict({"bacth_size": 3})


def test_to_dict_and_from_dict_round_trip():
    config = ExperimentConfig(acquisition="bald", acquisition_size=4, max_test_size=100)
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    assert list(config.to_dict()) == [f.name for f in dataclasses.fields(ExperimentConfig)]


def test_planned_rounds_counts_like_the_loop():
    config = ExperimentConfig(acquisition_size=10, label_budget=55)
    assert planned_rounds(config, 20, 1000) == 1 + 4  # 20 -> 30 -> 40 -> 50 -> 55
    assert planned_rounds(config, 20, 12) == 1 + 2  # the pool runs out first
    assert planned_rounds(config, 60, 1000) == 1  # the budget is already spent


def test_data_key_changes_with_the_data_settings_only():
    config = ExperimentConfig()
    other_method = dataclasses.replace(
        config, acquisition="random", acquisition_size=40, mc_samples=3, max_epochs=1
    )
    assert data_key(other_method) == data_key(config)
    changes = dict(
        dataset="mnist",
        data_source="sample",
        num_repeats=2,
        noise_std=0.2,
        seed=1,
        max_train_images=10,
        max_test_size=10,
        initial_per_class=1,
        validation_size=10,
    )
    assert sorted(changes) == sorted(DATA_SETTINGS)
    for name, value in changes.items():
        assert data_key(dataclasses.replace(config, **{name: value})) != data_key(config), name
