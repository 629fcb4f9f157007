"""Tests for bbal_tutorial.config: the settings of a run and what follows from them alone."""

import dataclasses

import pytest

from bbal_tutorial.config import (
    DATA_SETTINGS,
    EPIG_SETTINGS,
    ExperimentConfig,
    data_key,
    planned_rounds,
)


def test_bad_settings_are_refused_with_the_setting_named():
    with pytest.raises(ValueError, match="unknown acquisition function 'badld'"):
        ExperimentConfig(acquisition="badld")
    with pytest.raises(ValueError, match="acquisition_size must be at least 1"):
        ExperimentConfig(acquisition_size=0)
    with pytest.raises(ValueError, match="label_budget must be >= 0"):
        ExperimentConfig(label_budget=-1)
    with pytest.raises(ValueError, match="unknown setting"):
        ExperimentConfig.from_dict({"bacth_size": 3})
    with pytest.raises(ValueError, match="epig_targets must be at least 1"):
        ExperimentConfig(acquisition="epig", epig_targets=0)
    with pytest.raises(ValueError, match="epig_target_source must be one of pool, test"):
        ExperimentConfig(acquisition="epig", epig_target_source="train")


def test_to_dict_and_from_dict_round_trip():
    config = ExperimentConfig(acquisition="bald", acquisition_size=4, max_test_size=100)
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    # every setting in field order; EPIG's own settings only where they matter (below)
    names = [f.name for f in dataclasses.fields(ExperimentConfig)]
    assert list(config.to_dict()) == [n for n in names if n not in EPIG_SETTINGS]


@pytest.mark.parametrize("acquisition", ["epig", "power-epig"])
def test_epig_settings_are_recorded_for_epig_runs(acquisition):
    config = ExperimentConfig(acquisition=acquisition)
    names = [f.name for f in dataclasses.fields(ExperimentConfig)]
    assert list(config.to_dict()) == names  # every setting, the EPIG ones at their defaults too
    assert (config.epig_targets, config.epig_target_source) == (100, "pool")
    assert config.to_dict()["epig_targets"] == 100
    chosen = ExperimentConfig(acquisition=acquisition, epig_targets=7, epig_target_source="test")
    assert ExperimentConfig.from_dict(chosen.to_dict()) == chosen


def test_other_methods_records_are_unchanged_by_the_epig_settings():
    """A record written before EPIG existed reads back equal and writes back the same keys."""
    config = ExperimentConfig(acquisition="batchbald", seed=2)
    old_record = {k: v for k, v in dataclasses.asdict(config).items() if k not in EPIG_SETTINGS}
    assert config.to_dict() == old_record and list(config.to_dict()) == list(old_record)
    assert ExperimentConfig.from_dict(old_record) == config
    # a value chosen away from its default is recorded whatever the method, so it reads back
    odd = ExperimentConfig(acquisition="bald", epig_targets=5)
    assert odd.to_dict()["epig_targets"] == 5 and "epig_target_source" not in odd.to_dict()
    assert ExperimentConfig.from_dict(odd.to_dict()) == odd


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
    epig = dataclasses.replace(
        config, acquisition="epig", epig_targets=3, epig_target_source="test"
    )
    assert data_key(epig) == data_key(config)  # the targets are drawn from the data, not splits
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
