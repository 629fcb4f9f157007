"""Test-wide settings (no network, no display, quiet progress bars) and shared fixtures."""

import os

import numpy as np
import pytest
import torch

# Tests never download: the data layer falls back to (or is pointed at) local files.
os.environ.setdefault("BBAL_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

# after the settings above: tqdm reads TQDM_DISABLE when it is imported
from bbal_tutorial.results import RunRecord  # noqa: E402


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
