import pytest

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.presets import PRESETS, WHY, make_config, preset_settings


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
