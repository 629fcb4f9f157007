"""A small trained model and a pool with near-duplicate copies of each image (Repeated MNIST in
miniature), shared by notebooks 02, 03, 06 and 07: :func:`setup_duplicate_demo`, and the helpers
that say which pool points are copies of which.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.data import ActiveLearningData, load_dataset, make_repeated_mnist, make_splits
from bbal_tutorial.information import mutual_information
from bbal_tutorial.loop import evaluate, train_model
from bbal_tutorial.models import BayesianMNISTCNN, BayesianModule


@dataclass
class DuplicatePool:
    """A pool of ``num_copies`` noisy copies of each of O original images (N = O · copies).

    ``original_N[i]`` is the original (0..O-1) that pool image i is a copy of; copy r of every
    original occupies rows ``r·O .. (r+1)·O - 1`` (as in :func:`~bbal_tutorial.data.
    make_repeated_mnist`). Images are normalised; ``mean``/``std`` undo that for display.
    """

    # (N815 is silenced: shape-suffixed names are the house style)
    x_N_1_H_W: torch.Tensor  # noqa: N815
    y_N: torch.Tensor  # noqa: N815
    original_N: torch.Tensor  # noqa: N815
    source_indices_O: torch.Tensor  # noqa: N815 (the training-set index of each original)
    mean: float
    std: float

    def __len__(self) -> int:
        return len(self.y_N)

    def images(self) -> torch.Tensor:
        """Pixel intensities in [0, 1] for display, shape (N, H, W)."""
        return (self.x_N_1_H_W[:, 0] * self.std + self.mean).clamp(0, 1)


@dataclass
class DemoSetup:
    """What both intuition notebooks start from: data, a trained model and a duplicate pool."""

    data: ActiveLearningData
    model: BayesianModule
    labelled_indices: list[int]
    pool: DuplicatePool
    test_accuracy: float
    train_seconds: float

    def describe(self) -> str:
        return (
            f"model trained on {len(self.labelled_indices)} labelled images in "
            f"{self.train_seconds:.1f} s, test accuracy {self.test_accuracy:.1%}; pool of "
            f"{len(self.pool)} images = {len(self.pool.source_indices_O)} originals x "
            f"{len(self.pool) // max(1, len(self.pool.source_indices_O))} noisy copies"
        )


def make_duplicate_pool(
    data: ActiveLearningData,
    candidate_indices: Sequence[int],
    *,
    num_originals: int,
    num_copies: int = 3,
    noise_std: float = 0.1,
    seed: int = 0,
) -> DuplicatePool:
    """``num_originals`` random training images from ``candidate_indices``, each repeated
    ``num_copies`` times with its own fixed Gaussian noise (std ``noise_std``, on normalised
    pixels) -- the BatchBALD paper's Repeated MNIST recipe on a pool small enough to look at.
    """
    if not 1 <= num_originals <= len(candidate_indices):
        raise ValueError(
            f"num_originals must be in 1..{len(candidate_indices)}, got {num_originals}"
        )
    generator = torch.Generator().manual_seed(seed)
    candidates_P = torch.as_tensor(list(candidate_indices), dtype=torch.long)
    chosen_O = candidates_P[torch.randperm(len(candidates_P), generator=generator)[:num_originals]]
    x_N_1_H_W, y_N, original_N = make_repeated_mnist(
        data.train_x_N_1_H_W[chosen_O],
        data.train_y_N[chosen_O],
        num_repeats=num_copies,
        noise_std=noise_std,
        seed=seed,
    )
    return DuplicatePool(x_N_1_H_W, y_N, original_N, chosen_O, data.mean, data.std)


def train_small_model(
    x_L_1_H_W: torch.Tensor,
    y_L: torch.Tensor,
    *,
    epochs: int = 20,
    samples_per_epoch: int = 640,
    num_classes: int = 10,
    seed: int = 0,
) -> BayesianMNISTCNN:
    """A fresh :class:`BayesianMNISTCNN` trained with the course's loop (Adam, lr 1e-3, batch 64,
    epochs of ``samples_per_epoch`` draws with replacement) for exactly ``epochs`` epochs.

    No validation set and no early stopping: with ~20 labels there is nothing to spare for one,
    and a fixed schedule keeps the notebooks fast and deterministic.
    """
    torch.manual_seed(seed)  # the initial weights
    model = BayesianMNISTCNN(num_classes=num_classes)
    config = ExperimentConfig(
        dataset="mnist", max_epochs=epochs, samples_per_epoch=samples_per_epoch
    )
    train_model(
        model,
        x_L_1_H_W,
        y_L,
        x_L_1_H_W[:0],  # empty validation set: train for `epochs` epochs
        y_L[:0],
        config,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed),
    )
    model.eval()
    return model


def setup_duplicate_demo(
    *,
    num_originals: int = 40,
    num_copies: int = 3,
    noise_std: float = 0.1,
    initial_per_class: int = 2,
    epochs: int = 20,
    samples_per_epoch: int = 640,
    test_size: int = 500,
    test_k: int = 10,
    seed: int = 0,
    data: ActiveLearningData | None = None,
) -> DemoSetup:
    """Train the MNIST CNN on ``initial_per_class`` labels per class of the offline MNIST sample
    and build a :class:`DuplicatePool` from the other training images.

    ``test_size`` test images (K = ``test_k``) give the accuracy quoted in the notebooks. About
    10-20 s on one CPU core with the defaults.
    """
    if data is None:
        data = load_dataset("mnist", source="sample")
    split = make_splits(
        data.train_y_N,
        num_classes=data.num_classes,
        initial_per_class=initial_per_class,
        validation_size=0,
        seed=seed,
    )
    labelled_L = torch.tensor(split.initial_indices, dtype=torch.long)
    start = time.perf_counter()
    model = train_small_model(
        data.train_x_N_1_H_W[labelled_L],
        data.train_y_N[labelled_L],
        epochs=epochs,
        samples_per_epoch=samples_per_epoch,
        num_classes=data.num_classes,
        seed=seed,
    )
    train_seconds = time.perf_counter() - start
    accuracy, _ = evaluate(
        model,
        data.test_x_M_1_H_W[:test_size],
        data.test_y_M[:test_size],
        test_k,
        device=torch.device("cpu"),
    )
    pool = make_duplicate_pool(
        data,
        split.pool_indices,
        num_originals=num_originals,
        num_copies=num_copies,
        noise_std=noise_std,
        seed=seed,
    )
    model.redraw_masks()
    return DemoSetup(data, model, split.initial_indices, pool, accuracy, train_seconds)


def count_repeats(indices: Sequence[int], original_N: torch.Tensor) -> int:
    """How many picks are copies of an original image picked earlier in the same batch."""
    seen: set[int] = set()
    repeats = 0
    for index in indices:
        original = int(original_N[index])
        repeats += original in seen
        seen.add(original)
    return repeats


def copies_of(index: int, original_N: torch.Tensor) -> list[int]:
    """The other pool indices that are copies of the same original image as ``index``."""
    original = int(original_N[index])
    return [int(i) for i in torch.nonzero(original_N == original).flatten() if int(i) != index]


def copies_of_chosen(chosen: Sequence[int], original_N: torch.Tensor) -> torch.Tensor:
    """Boolean mask over the pool: copies of a chosen image that are not chosen themselves."""
    chosen_originals = original_N[list(chosen)]
    flagged_N = torch.isin(original_N, chosen_originals)
    flagged_N[list(chosen)] = False
    return flagged_N


def tiny_pool_indices(
    log_probs_N_K_C: torch.Tensor,
    original_N: torch.Tensor,
    *,
    num_originals: int = 4,
    copies: int = 2,
) -> list[int]:
    """A tiny pool for exhaustive search: ``copies`` copies of each of the ``num_originals``
    originals with the highest mean BALD score -- informative points with built-in redundancy.
    Ordered by original (best first), then by copy.
    """
    bald_N = mutual_information(log_probs_N_K_C)
    originals = torch.unique(original_N)
    mean_bald = torch.stack([bald_N[original_N == o].mean() for o in originals])
    best = originals[torch.argsort(mean_bald, descending=True, stable=True)[:num_originals]]
    return [int(i) for o in best for i in torch.nonzero(original_N == o).flatten()[:copies]]
