"""The settings of one active-learning run, :class:`ExperimentConfig`, and everything derived from
settings alone: how many rounds a run has (:func:`planned_rounds`) and which settings decide the
data (:data:`DATA_SETTINGS`, :func:`data_key`). Named settings, and the one adapter that turns
values from the command line or a widget into a config, are in :mod:`bbal_tutorial.presets`.

EPIG's target inputs (``epig_targets``, ``epig_target_source``; the rule is in
:func:`bbal_tutorial.loop.epig_target_inputs`) are settings of the EPIG methods only: the record
of any other run leaves them out while they hold their defaults (:data:`EPIG_SETTINGS`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from bbal_tutorial.acquisition import ACQUISITION_NAMES, EPIG_ACQUISITIONS

#: The settings that decide the data and splits a run works on (see
#: :func:`bbal_tutorial.loop.prepare_data`): runs that agree on them can share one loaded dataset.
DATA_SETTINGS = (
    "dataset",
    "data_source",
    "num_repeats",
    "noise_std",
    "seed",
    "max_train_images",
    "max_test_size",
    "initial_per_class",
    "validation_size",
)


#: Where EPIG's target inputs come from: the unlabelled pool (a stand-in for the input
#: distribution when nothing else is known) or the test set's inputs (never its labels).
EPIG_TARGET_SOURCES: tuple[str, ...] = ("pool", "test")


#: Settings read by the EPIG methods (:data:`~bbal_tutorial.acquisition.EPIG_ACQUISITIONS`) only.
#: :meth:`ExperimentConfig.to_dict` leaves them out of other methods' configs while they hold their
#: defaults, so those records stay byte for byte what they were before EPIG existed; records
#: without them read back with the defaults.
EPIG_SETTINGS: tuple[str, ...] = ("epig_targets", "epig_target_source")


@dataclass
class ExperimentConfig:
    """Every setting of one active-learning run (saved in the results file, :meth:`to_dict`)."""

    dataset: str = "repeated-mnist"
    acquisition: str = "batchbald"
    acquisition_size: int = 10  # acquisition size b
    mc_samples: int = 10  # K posterior samples for scoring the pool
    test_mc_samples: int = 10  # K for the test-set evaluation
    validation_mc_samples: int = 5  # K for early-stopping checks on the validation set
    num_samples: int = 10_000  # BatchBALD: sampled label configurations once C^i exceeds it
    coldness: float = 1.0  # stochastic acquisition (power/softmax/softrank-bald, power-epig)
    epig_targets: int = 100  # EPIG: M target inputs x*, drawn afresh every round
    epig_target_source: str = "pool"  # EPIG: draw the targets from "pool" or "test" (inputs only)
    initial_per_class: int = 2
    label_budget: int = 320  # stop once this many points are labelled (initial ones included)
    validation_size: int = 1024
    max_train_images: int | None = None  # use a random subset of the training images (originals)
    max_test_size: int | None = None  # evaluate on a random subset of the test set
    num_repeats: int = 3  # repeated-mnist only
    noise_std: float = 0.1  # repeated-mnist only
    model: str = "mnist-cnn"
    max_epochs: int = 30
    patience: int = 3
    min_epochs: int = 1  # early stopping may end training only after this many epochs
    samples_per_epoch: int = 5056
    train_batch_size: int = 64
    learning_rate: float = 1e-3
    data_source: str = "auto"  # "auto" | "full" | "sample" (see bbal_tutorial.data)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITION_NAMES:
            raise ValueError(
                f"unknown acquisition function {self.acquisition!r}; "
                f"choose one of {', '.join(ACQUISITION_NAMES)}"
            )
        positive = (
            "acquisition_size mc_samples test_mc_samples validation_mc_samples num_samples "
            "epig_targets max_epochs patience min_epochs samples_per_epoch train_batch_size"
        ).split()
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("initial_per_class", "validation_size", "label_budget"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.epig_target_source not in EPIG_TARGET_SOURCES:
            raise ValueError(
                f"epig_target_source must be one of {', '.join(EPIG_TARGET_SOURCES)}, "
                f"got {self.epig_target_source!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Every setting, in field order; for a method other than EPIG, without the EPIG settings
        that hold their defaults (:data:`EPIG_SETTINGS`). ``from_dict`` reads it back equal."""
        values = dataclasses.asdict(self)
        if self.acquisition not in EPIG_ACQUISITIONS:
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            for name in EPIG_SETTINGS:
                if values[name] == defaults[name]:
                    del values[name]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; known settings: {sorted(known)}")
        return cls(**values)


def data_key(config: ExperimentConfig) -> tuple[Any, ...]:
    """The values of :data:`DATA_SETTINGS`: two configs with the same key work on the same data,
    splits and pool, whatever their acquisition function, acquisition size or K."""
    return tuple(getattr(config, name) for name in DATA_SETTINGS)


def planned_rounds(config: ExperimentConfig, num_initial: int, pool_size: int) -> int:
    """Rounds (trained models) of a run: one on the ``num_initial`` starting labels, then one per
    acquired batch until ``label_budget`` is reached or the pool of ``pool_size`` runs out."""
    labels_left = max(0, min(config.label_budget - num_initial, pool_size))
    return 1 + math.ceil(labels_left / config.acquisition_size)
