"""Test-wide settings (no network, no display, quiet progress bars) and shared fixtures."""

import os

import numpy as np
import pytest
import torch

# Tests never download: the data layer falls back to (or is pointed at) local files.
os.environ.setdefault("BBAL_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")


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
