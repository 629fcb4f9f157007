"""Test-wide settings (no network, no display, quiet progress bars) and shared fixtures."""

import dataclasses
import os

import numpy as np
import pytest
import torch

# Tests never download: the data layer falls back to (or is pointed at) local files.
os.environ.setdefault("BBAL_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

# after the settings above: tqdm reads TQDM_DISABLE when it is imported
from bbal_tutorial.presets import make_config  # noqa: E402
from bbal_tutorial.results import TIMING_FIELDS, RunRecord, load_results  # noqa: E402

#: Teaching-preset settings small enough that a run trains in about a second on the offline
#: MNIST sample (one epoch of 64 draws, K = 2).
TINY_SETTINGS = dict(
    label_budget=22,
    mc_samples=2,
    test_mc_samples=2,
    validation_mc_samples=1,
    max_epochs=1,
    samples_per_epoch=64,
    max_train_images=200,
    validation_size=32,
)
#: ... with several rounds per run (b = 2 from 20 labels to 28: 5 rounds), for the sweep engines.
TINY_SWEEP_SETTINGS = dict(
    TINY_SETTINGS,
    label_budget=28,
    acquisition_size=2,
    max_train_images=120,
    validation_size=16,
    max_test_size=100,
    num_samples=200,
    data_source="sample",
)


def make_dirichlet_log_probs(N, K, C, seed, dtype=torch.float64, alpha=0.5):
    """``log_probs_N_K_C`` with Dirichlet(alpha) probabilities per (point, sample): varied, often
    confident, independent across samples."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(C, alpha), size=(N, K))
    return torch.from_numpy(np.log(p)).to(dtype)


def make_softmax_log_probs(*shape, seed=0, scale=2.0, dtype=torch.float64):
    """``log_softmax(scale · z)`` of standard normal logits ``z`` (last axis: classes)."""
    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(*shape, generator=generator, dtype=dtype)
    return torch.log_softmax(logits, dim=-1)


@pytest.fixture
def dirichlet_log_probs():
    """:func:`make_dirichlet_log_probs`, as a fixture: ``dirichlet_log_probs(N, K, C, seed)``."""
    return make_dirichlet_log_probs


@pytest.fixture
def softmax_log_probs():
    """:func:`make_softmax_log_probs`, as a fixture: ``softmax_log_probs(N, K, C, seed=0)``."""
    return make_softmax_log_probs


def make_run(acquisition="bald", b=10, seed=0, rounds=(), config=None, **fields):
    """A :class:`~bbal_tutorial.results.RunRecord` built through ``RunRecord.from_dict`` from only
    what a test cares about: ``rounds`` are partial round dictionaries (round number,
    ``n_labeled = 20 + b * i`` and empty batches filled in), ``config`` extra settings, ``fields``
    top-level entries (``dataset_source``, ``finished``, ``initial_indices``, ...)."""
    defaults = {
        "test_accuracy": 0.5,
        "test_nll": 0.0,
        "train_epochs": 1,
        "best_validation_accuracy": None,
        "acquired_indices": [],
        "acquired_labels": [],
        "scores": [],
    }
    return RunRecord.from_dict(
        {
            "config": {"acquisition": acquisition, "acquisition_size": b, "seed": seed}
            | (config or {}),
            "rounds": [
                defaults | {"round": i, "n_labeled": 20 + b * i} | dict(r)
                for i, r in enumerate(rounds)
            ],
            "dataset_source": "test data",
            "initial_indices": [],
            "validation_indices": [],
            "pool_size": 0,
            "test_size": 0,
            **fields,
        }
    )


@pytest.fixture
def run_record():
    """:func:`make_run`, as a fixture: ``run_record("bald", b=10, seed=0, rounds=[{...}])``."""
    return make_run


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of many tiny tensor operations: on a shared, loaded machine
    several threads contend for the cores and run several times slower. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_near_duplicate_log_probs(num_originals=6, copies=3, K=20, C=4, noise=0.05, seed=0):
    """``(log_probs_N_K_C, original_N)`` of a pool of near-duplicates: each original's random
    logits plus a little noise per copy (copy r of original o is row r·O + o, as in Repeated
    MNIST); float64."""
    generator = torch.Generator().manual_seed(seed)
    logits_O_K_C = 2.0 * torch.randn(num_originals, K, C, generator=generator, dtype=torch.float64)
    copies_R = [
        logits_O_K_C + noise * torch.randn(logits_O_K_C.shape, generator=generator).double()
        for _ in range(copies)
    ]
    original_N = torch.arange(num_originals).repeat(copies)
    return torch.log_softmax(torch.cat(copies_R), dim=-1), original_N


@pytest.fixture
def near_duplicate_log_probs():
    """:func:`make_near_duplicate_log_probs`, as a fixture: ``near_duplicate_log_probs(seed=1)``."""
    return make_near_duplicate_log_probs


class ExerciseCheckContract:
    """What every exercise check promises (:mod:`bbal_tutorial.exercises`): one ``✓`` line and
    ``True`` for a right solution (``None`` with ``strict=True``: nothing for nbgrader to read as
    a score); one ``✗`` line holding the hint and ``False`` for a wrong one (``AssertionError``
    with the hint, strict)."""

    def __init__(self, capsys):
        self.capsys = capsys

    def passes(self, check, solution):
        assert check(solution) is True
        assert self.capsys.readouterr().out.startswith("✓ ")
        assert check(solution, strict=True) is None

    def fails_with_hint(self, check, wrong, hint):
        assert check(wrong) is False
        printed = self.capsys.readouterr().out
        assert printed.startswith("✗ ") and printed.count("\n") == 1, printed
        assert hint in printed, printed
        with pytest.raises(AssertionError) as error:
            check(wrong, strict=True)
        assert hint in str(error.value)


@pytest.fixture
def exercise_check(capsys):
    """:class:`ExerciseCheckContract`: ``exercise_check.passes(check, solution)`` and
    ``exercise_check.fails_with_hint(check, wrong, hint)``."""
    return ExerciseCheckContract(capsys)


@pytest.fixture(scope="session")
def tiny_settings():
    """:data:`TINY_SETTINGS` (a copy): teaching runs that train in about a second."""
    return dict(TINY_SETTINGS)


@pytest.fixture(scope="session")
def tiny_sweep_settings():
    """:data:`TINY_SWEEP_SETTINGS` (a copy): tiny runs of five rounds each."""
    return dict(TINY_SWEEP_SETTINGS)


@pytest.fixture(scope="session")
def tiny_sweep():
    """A sweep of two tiny runs, BALD and BatchBALD on Repeated MNIST (the offline sample), as
    ``reproduce`` lists its jobs: ``(file name, config)`` pairs."""
    return [
        (
            f"tiny-{m}.json",
            make_config("teaching", "repeated-mnist", acquisition=m, **TINY_SWEEP_SETTINGS),
        )
        for m in ("bald", "batchbald")
    ]


def _without_timings(path):
    run = load_results(path)
    rounds = [
        {k: v for k, v in dataclasses.asdict(r).items() if k not in TIMING_FIELDS}
        for r in run.rounds
    ]
    return run.finished is not None, run.initial_indices, rounds


@pytest.fixture(scope="session")
def without_timings():
    """``without_timings(path)``: what must not depend on the engine that made a results file
    (finished or not, the initial labels, every round's record but its timings)."""
    return _without_timings
