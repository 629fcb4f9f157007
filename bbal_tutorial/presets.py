"""Named experiment settings: data, not code paths.

``paper`` follows the BatchBALD paper's protocol (Kirsch et al., 2019, and ``shared/REFERENCE.md``).
``teaching`` keeps the paper's model, acquisition size and number of MC samples but shrinks the
pool, the label budget and the training length so that a run finishes in minutes on a 2-core
laptop CPU; each entry's ``why`` says what was reduced and why the lesson survives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bbal_tutorial.loop import ExperimentConfig

_PAPER: dict[str, dict[str, Any]] = {
    "mnist": dict(
        dataset="mnist",
        model="mnist-cnn",
        batch_size=10,
        mc_samples=100,
        test_mc_samples=100,
        validation_size=1024,
        initial_per_class=2,
        max_labels=320,
    ),
    "repeated-mnist": dict(
        dataset="repeated-mnist",
        model="mnist-cnn",
        batch_size=10,
        mc_samples=10,
        test_mc_samples=10,
        validation_size=3072,
        initial_per_class=2,
        max_labels=320,
        num_repeats=3,
        noise_std=0.1,
    ),
    "emnist": dict(
        dataset="emnist",
        model="emnist-cnn",
        batch_size=5,
        mc_samples=10,
        test_mc_samples=10,
        validation_size=16384,
        initial_per_class=0,
        max_labels=300,
    ),
}
_PAPER_TRAINING = dict(
    max_epochs=30,
    patience=3,
    samples_per_epoch=5056,
    train_batch_size=64,
    learning_rate=1e-3,
    validation_mc_samples=10,
    num_samples=40_000,
)

# Shared by every teaching preset: an "epoch" of 1,024 draws instead of 5,056 (the labelled set
# holds at most a few hundred points, so this is still several passes over it), a smaller
# validation set checked with fewer MC samples, and the paper's BatchBALD budget cut to 10,000
# sampled configurations.
_TEACHING_TRAINING = dict(
    max_epochs=20,
    patience=3,
    samples_per_epoch=1024,
    train_batch_size=64,
    learning_rate=1e-3,
    validation_mc_samples=5,
    num_samples=10_000,
    validation_size=256,
)
_TEACHING: dict[str, dict[str, Any]] = {
    "mnist": dict(
        dataset="mnist",
        model="mnist-cnn",
        batch_size=10,
        mc_samples=20,
        test_mc_samples=20,
        initial_per_class=2,
        max_labels=150,
        max_train_images=2000,
    ),
    "repeated-mnist": dict(
        dataset="repeated-mnist",
        model="mnist-cnn",
        batch_size=10,
        mc_samples=10,
        test_mc_samples=10,
        initial_per_class=2,
        max_labels=200,
        max_train_images=1000,
        num_repeats=3,
        noise_std=0.1,
    ),
    "emnist": dict(
        dataset="emnist",
        model="emnist-cnn",
        batch_size=5,
        mc_samples=10,
        test_mc_samples=10,
        initial_per_class=0,
        max_labels=150,
        max_train_images=10_000,
        max_test_size=4700,
        validation_size=1024,
    ),
}

WHY: dict[str, dict[str, str]] = {
    "paper": {
        name: "The paper's protocol (Kirsch et al. 2019, Appendix): full pool, 300 acquired "
        "points, "
        "30 epochs of 5,056 samples with patience 3. Needs full datasets and, realistically, a GPU."
        for name in _PAPER
    },
    "teaching": {
        "mnist": "Pool cut to 2,000 training images and the label budget to 150; K = 20 instead "
        "of 100 (BALD and BatchBALD rankings barely change with more samples at this scale, "
        "the forward passes are 5x cheaper). Shows BatchBALD >= BALD at b = 10.",
        "repeated-mnist": "Pool cut to 1,000 original images (3,000 noisy copies) and the label "
        "budget to 200; epochs of 1,024 draws. K = 10 and b = 10 as in the paper, so BALD still "
        "picks several copies of the same digit per batch and falls behind random.",
        "emnist": "Pool cut to 10,000 training images, test set to 4,700 and the label budget to "
        "150 (b = 5, K = 10 as in the paper): enough rounds to see BALD's lopsided class "
        "histogram against BatchBALD's and random's. Needs the EMNIST download.",
    },
}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {name: {**_PAPER_TRAINING, **cfg} for name, cfg in _PAPER.items()},
    "teaching": {name: {**_TEACHING_TRAINING, **cfg} for name, cfg in _TEACHING.items()},
}


def preset_settings(preset: str, dataset: str) -> dict[str, Any]:
    """The settings of ``preset`` for ``dataset``; fashion-mnist borrows MNIST's."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    key = "mnist" if dataset == "fashion-mnist" else dataset
    if key not in PRESETS[preset]:
        raise ValueError(
            f"preset {preset!r} has no settings for dataset {dataset!r}; "
            f"it covers {sorted(PRESETS[preset])} (and fashion-mnist via mnist)"
        )
    return {**PRESETS[preset][key], "dataset": dataset}


def make_config(preset: str, dataset: str, **overrides: Any) -> ExperimentConfig:
    """An :class:`ExperimentConfig` from a preset, with explicit ``overrides`` on top."""
    return ExperimentConfig(**{**preset_settings(preset, dataset), **overrides})


# --------------------------------------------------------------------------------------------
# The cached experiments behind notebooks 04-07: what `make reproduce` runs and writes to
# results/<tag>-<acquisition>-b<b>-seed<seed>.json. Notebooks read these files and nothing else.

# Acquisition size on MNIST: b = 1 needs one retraining per label, so the pool, the test set and
# the training are cut further than the teaching preset to keep 60 rounds at ~10 s each.
_ACQUISITION_SIZE_OVERRIDES: dict[str, Any] = dict(
    max_train_images=1000,
    max_test_size=500,
    mc_samples=10,
    test_mc_samples=10,
    samples_per_epoch=512,
    max_epochs=10,
    max_labels=80,
)

#: tag -> dataset, preset overrides, the (acquisition, b) pairs, the seeds and why.
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "repeated-mnist": dict(
        dataset="repeated-mnist",
        overrides={},
        runs=[(m, 10) for m in ("random", "bald", "batchbald", "variation-ratios", "mean-std")],
        seeds=(0, 1, 2),
        why=WHY["teaching"]["repeated-mnist"],
    ),
    "acquisition-size": dict(
        dataset="mnist",
        overrides=_ACQUISITION_SIZE_OVERRIDES,
        # b = 1: BatchBALD's first pick is BALD's top point, so one run stands for both.
        runs=[("bald", 1)]
        + [(m, b) for b in (5, 10, 20, 40) for m in ("bald", "batchbald")]
        + [("random", 10), ("power-bald", 10), ("power-bald", 40)],
        seeds=(0, 1),
        why="MNIST (1,000 training images, 500 test images, K = 10, epochs of 512 draws, at "
        "most 10) from 20 to 80 labels: cheap enough to retrain after every single label at "
        "b = 1. BatchBALD at b = 1 is BALD (same first pick), so b = 1 is run once.",
    ),
    # Needs the EMNIST download (~540 MB), so `reproduce` runs it only when asked:
    # `python -m bbal_tutorial reproduce --experiments emnist --download`.
    "emnist": dict(
        dataset="emnist",
        overrides={},
        runs=[(m, 5) for m in ("random", "bald", "batchbald")],
        seeds=(0, 1, 2),
        why=WHY["teaching"]["emnist"],
        needs_download=True,
    ),
}


def experiment_config(tag: str, acquisition: str, batch_size: int, seed: int) -> ExperimentConfig:
    """The configuration of one cached run of experiment ``tag`` (see :data:`EXPERIMENTS`)."""
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    spec = EXPERIMENTS[tag]
    return make_config(
        "teaching",
        spec["dataset"],
        **{**spec["overrides"], "acquisition": acquisition, "batch_size": batch_size, "seed": seed},
    )


def experiment_runs(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    batch_sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
) -> list[tuple[str, int, int]]:
    """The ``(acquisition, b, seed)`` runs of experiment ``tag``, seed by seed, optionally only
    some methods, acquisition sizes or seeds."""
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    spec = EXPERIMENTS[tag]
    return [
        (acquisition, b, seed)
        for seed in spec["seeds"]
        if not seeds or seed in seeds
        for acquisition, b in spec["runs"]
        if (acquisitions is None or acquisition in acquisitions)
        and (batch_sizes is None or b in batch_sizes)
    ]


def result_name(tag: str, acquisition: str, batch_size: int, seed: int) -> str:
    """File name of a cached run: ``<tag>-<acquisition>-b<b>-seed<seed>.json``."""
    return f"{tag}-{acquisition}-b{batch_size}-seed{seed}.json"
