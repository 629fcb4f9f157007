"""The active-learning loop: train, evaluate, score the pool, acquire, record -- and resume.

One round (see :func:`run_round`):

1. train a *fresh* model on the labelled set (Adam; "epochs" of a fixed number of samples drawn
   with replacement; early stopping on validation accuracy with patience; best model restored);
2. evaluate it on the test set with MC averaging (accuracy and NLL);
3. score the remaining pool with ``K`` consistent MC-dropout samples and acquire a batch by name;
4. append a record to the results and write the whole results file atomically.

Every round re-seeds torch from ``(seed, round)``, so a run that is interrupted anywhere and
resumed produces the same record as one that never stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from bbal_tutorial import __version__
from bbal_tutorial.acquisition import ACQUISITION_NAMES, acquire
from bbal_tutorial.data import ActiveLearningData, load_dataset, make_splits
from bbal_tutorial.information import predictive_log_probs
from bbal_tutorial.models import BayesianModule, make_model, predict_log_probs, resolve_device

RESULTS_FORMAT = "bbal_tutorial.results/1"


@dataclass
class ExperimentConfig:
    """Every setting of one active-learning run (saved verbatim in the results file)."""

    dataset: str = "repeated-mnist"
    acquisition: str = "batchbald"
    batch_size: int = 10  # acquisition size b
    mc_samples: int = 10  # K posterior samples for scoring the pool
    test_mc_samples: int = 10  # K for the test-set evaluation
    validation_mc_samples: int = 5  # K for early-stopping checks on the validation set
    num_samples: int = 10_000  # BatchBALD: sampled label configurations once C^i exceeds it
    coldness: float = 1.0  # stochastic acquisition (power/softmax/softrank-bald)
    initial_per_class: int = 2
    max_labels: int = 320  # stop once this many points are labelled (initial ones included)
    validation_size: int = 1024
    max_train_images: int | None = None  # use a random subset of the training images (originals)
    max_test_size: int | None = None  # evaluate on a random subset of the test set
    num_repeats: int = 3  # repeated-mnist only
    noise_std: float = 0.1  # repeated-mnist only
    model: str = "mnist-cnn"
    max_epochs: int = 30
    patience: int = 3
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
            "batch_size mc_samples test_mc_samples validation_mc_samples num_samples max_epochs "
            "patience samples_per_epoch train_batch_size"
        ).split()
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("initial_per_class", "validation_size", "max_labels"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExperimentConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; known settings: {sorted(known)}")
        return cls(**values)


@dataclass
class ExperimentData:
    """The tensors one run works on, after subsetting and splitting."""

    data: ActiveLearningData
    train_indices: list[int]  # the training examples this run may use (into data.train_*)
    initial_indices: list[int]
    validation_indices: list[int]
    pool_indices: list[int]


def planned_rounds(config: ExperimentConfig, num_initial: int, pool_size: int) -> int:
    """Rounds (trained models) of a run: one on the ``num_initial`` starting labels, then one per
    acquired batch until ``max_labels`` is reached or the pool of ``pool_size`` runs out."""
    budget = max(0, min(config.max_labels - num_initial, pool_size))
    return 1 + math.ceil(budget / config.batch_size)


def _round_seed(seed: int, round_index: int) -> int:
    # A distinct, reproducible seed per round: resuming at round r replays exactly round r.
    return (seed * 1_000_003 + round_index * 7919) % (2**31)


def prepare_data(
    config: ExperimentConfig, *, data_dir: str | Path | None = None, download: bool | None = None
) -> ExperimentData:
    """Load the dataset, take the configured subset, split it into initial / validation / pool."""
    data = load_dataset(
        config.dataset,
        data_dir=data_dir,
        source=config.data_source,
        download=download,
        num_repeats=config.num_repeats,
        noise_std=config.noise_std,
        seed=config.seed,
    )
    generator = torch.Generator().manual_seed(config.seed)
    train_indices_T = torch.arange(len(data.train_y_N))
    if config.max_train_images is not None:
        # Subset by *original* image so that Repeated MNIST keeps every copy of a chosen image.
        originals_O = torch.unique(data.original_index_N)
        if config.max_train_images < len(originals_O):
            chosen = originals_O[torch.randperm(len(originals_O), generator=generator)]
            chosen = chosen[: config.max_train_images]
            train_indices_T = torch.nonzero(torch.isin(data.original_index_N, chosen)).flatten()
    if config.max_test_size is not None and config.max_test_size < len(data.test_y_M):
        keep_M = torch.randperm(len(data.test_y_M), generator=generator)[: config.max_test_size]
        keep_M = keep_M.sort().values
        data.test_x_M_1_H_W = data.test_x_M_1_H_W[keep_M]
        data.test_y_M = data.test_y_M[keep_M]
    split = make_splits(
        data.train_y_N[train_indices_T],
        num_classes=data.num_classes,
        initial_per_class=config.initial_per_class,
        validation_size=config.validation_size,
        seed=config.seed,
    )
    to_global = train_indices_T.tolist()
    return ExperimentData(
        data=data,
        train_indices=to_global,
        initial_indices=[to_global[i] for i in split.initial_indices],
        validation_indices=[to_global[i] for i in split.validation_indices],
        pool_indices=[to_global[i] for i in split.pool_indices],
    )


@dataclass
class TrainResult:
    epochs: int
    best_validation_accuracy: float | None


@torch.inference_mode()
def evaluate(
    model: BayesianModule,
    x_M_: torch.Tensor,
    y_M: torch.Tensor,
    k: int,
    *,
    device: torch.device,
    progress: bool = False,
) -> tuple[float, float]:
    """Test accuracy and NLL of the MC-averaged predictive ``mean_k p(y|x, w_k)``."""
    log_probs_M_K_C = predict_log_probs(
        model, x_M_, k, device=device, progress=progress, desc="evaluating"
    )
    log_predictive_M_C = predictive_log_probs(log_probs_M_K_C)
    accuracy = (log_predictive_M_C.argmax(-1) == y_M).double().mean().item()
    nll = F.nll_loss(log_predictive_M_C, y_M).item()
    return accuracy, nll


def train_model(
    model: BayesianModule,
    x_L_: torch.Tensor,
    y_L: torch.Tensor,
    x_V_: torch.Tensor,
    y_V: torch.Tensor,
    config: ExperimentConfig,
    *,
    device: torch.device,
    generator: torch.Generator,
    progress: bool = False,
) -> TrainResult:
    """Train with Adam on epochs of ``samples_per_epoch`` draws (with replacement) from the labelled
    set; stop when validation accuracy has not improved for ``patience`` epochs; restore the best.
    """
    if len(y_L) == 0:  # e.g. EMNIST starts with no labels: the first model stays untrained
        return TrainResult(epochs=0, best_validation_accuracy=None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    x_L_, y_L = x_L_.to(device), y_L.to(device)
    best_accuracy, best_state, epochs_without_gain, epoch = -math.inf, None, 0, 0
    epochs = tqdm(range(config.max_epochs), desc="training", disable=not progress, leave=False)
    for epoch in epochs:  # noqa: B007 (epoch is reported below)
        model.train()
        draws = torch.randint(len(y_L), (config.samples_per_epoch,), generator=generator)
        for batch in draws.split(config.train_batch_size):
            batch = batch.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = F.nll_loss(model(x_L_[batch], 1).squeeze(1), y_L[batch])
            loss.backward()
            optimizer.step()
        if len(y_V) == 0:  # no validation set: train for max_epochs
            continue
        model.redraw_masks()
        accuracy, _ = evaluate(model, x_V_, y_V, config.validation_mc_samples, device=device)
        epochs.set_postfix(val_acc=f"{accuracy:.3f}")
        if accuracy > best_accuracy:
            best_accuracy, epochs_without_gain = accuracy, 0
            best_state = {name: t.detach().clone() for name, t in model.state_dict().items()}
        else:
            epochs_without_gain += 1
            if epochs_without_gain >= config.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.redraw_masks()
    best = None if best_accuracy == -math.inf else best_accuracy
    return TrainResult(epochs=epoch + 1, best_validation_accuracy=best)


def run_round(
    config: ExperimentConfig,
    experiment: ExperimentData,
    labelled_indices: list[int],
    pool_indices: list[int],
    round_index: int,
    *,
    device: torch.device,
    progress: bool = False,
) -> dict[str, Any]:
    """Train, evaluate and (unless the label budget is spent) acquire; return the round's record."""
    seed = _round_seed(config.seed, round_index)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = experiment.data
    model = make_model(config.model, data.num_classes).to(device)

    t0 = time.perf_counter()
    labelled_T = torch.tensor(labelled_indices, dtype=torch.long)
    validation_T = torch.tensor(experiment.validation_indices, dtype=torch.long)
    trained = train_model(
        model,
        data.train_x_N_1_H_W[labelled_T],
        data.train_y_N[labelled_T],
        data.train_x_N_1_H_W[validation_T],
        data.train_y_N[validation_T],
        config,
        device=device,
        generator=generator,
        progress=progress,
    )
    t1 = time.perf_counter()
    accuracy, nll = evaluate(
        model, data.test_x_M_1_H_W, data.test_y_M, config.test_mc_samples, device=device
    )
    t2 = time.perf_counter()

    record: dict[str, Any] = {
        "round": round_index,
        "n_labeled": len(labelled_indices),
        "test_accuracy": accuracy,
        "test_nll": nll,
        "train_epochs": trained.epochs,
        "best_validation_accuracy": trained.best_validation_accuracy,
        "acquired_indices": [],
        "acquired_labels": [],
        "acquired_original_indices": [],
        "scores": [],
        "train_seconds": t1 - t0,
        "eval_seconds": t2 - t1,
        "predict_seconds": 0.0,
        "select_seconds": 0.0,
    }
    budget = min(config.batch_size, config.max_labels - len(labelled_indices), len(pool_indices))
    if budget <= 0:
        return record

    pool_T = torch.tensor(pool_indices, dtype=torch.long)
    if config.acquisition == "random":
        # Random acquisition never looks at predictions: skip the K forward passes over the pool.
        # A single certain "class" is a valid (normalised) log-prob tensor of the right N.
        log_probs_N_K_C = torch.zeros(len(pool_indices), 1, 1)
    else:
        log_probs_N_K_C = predict_log_probs(
            model,
            data.train_x_N_1_H_W[pool_T],
            config.mc_samples,
            device=device,
            progress=progress,
            desc="scoring pool",
        ).to(device)
    t3 = time.perf_counter()
    batch = acquire(
        config.acquisition,
        log_probs_N_K_C,
        budget,
        seed=seed,
        num_samples=config.num_samples,
        coldness=config.coldness,
    )
    t4 = time.perf_counter()
    acquired = pool_T[torch.tensor(batch.indices, dtype=torch.long)]
    record.update(
        acquired_indices=acquired.tolist(),
        acquired_labels=data.train_y_N[acquired].tolist(),
        acquired_original_indices=data.original_index_N[acquired].tolist(),
        scores=[float(s) for s in batch.scores],
        predict_seconds=t3 - t2,
        select_seconds=t4 - t3,
    )
    return record


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file readable by its owner only; give it the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results file written by :func:`run_experiment`; a clear error if it is not one."""
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no results file at {path}; create one with `python -m bbal_tutorial run --out {path}`"
        ) from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}); delete it and re-run") from None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a bbal_tutorial results file (format {RESULTS_FORMAT})")
    return results


def _change_label_budget(results: dict[str, Any], config: ExperimentConfig) -> None:
    """Let a run continue under a new ``max_labels`` (e.g. extend a finished run).

    Rounds whose acquisition was cut short by the old budget (fewer than ``batch_size`` points,
    or none in the final round) are dropped: with the new budget they would have acquired more.
    Every other round is exactly what a run with the new budget computes, because each round is
    seeded by ``(seed, round)`` alone.
    """
    rounds = results["rounds"]
    while rounds and len(rounds[-1]["acquired_indices"]) < config.batch_size:
        rounds.pop()
    labelled = len(results["initial_indices"]) + sum(len(r["acquired_indices"]) for r in rounds)
    if config.max_labels < labelled:
        raise ValueError(
            f"the run already has {labelled} labelled points; max_labels={config.max_labels} "
            "cannot shrink it (plot fewer rounds instead, or start a new --out file)"
        )
    results["config"] = config.to_dict()
    results["finished"] = None


def run_experiment(
    config: ExperimentConfig,
    out: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    download: bool | None = None,
    device: str | torch.device | None = "auto",
    resume: bool = True,
    progress: bool = True,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    experiment: ExperimentData | None = None,
) -> dict[str, Any]:
    """Run (or resume) a whole active-learning experiment and return its results dictionary.

    With ``out``, the results are written atomically after every round; if ``out`` already holds a
    run with the same configuration it is resumed (or returned, if finished).  ``on_round`` is
    called with the results after every round (live plots in notebooks).
    """
    out = Path(out) if out is not None else None
    device = resolve_device(device)
    results: dict[str, Any] | None = None
    if out is not None and out.exists():
        if not resume:
            raise FileExistsError(
                f"{out} exists; pass resume=True (CLI: drop --no-resume) or pick a new --out"
            )
        results = load_results(out)
        changed = sorted(k for k, v in config.to_dict().items() if results["config"].get(k) != v)
        if changed == ["max_labels"]:
            _change_label_budget(results, config)
        elif changed:
            raise ValueError(
                f"{out} holds a run with different settings ({', '.join(changed)}); "
                "use another --out file, or delete it to start over"
            )
        if results.get("finished"):
            return results

    if experiment is None:
        experiment = prepare_data(config, data_dir=data_dir, download=download)
    if results is None:
        results = {
            "format": RESULTS_FORMAT,
            "config": config.to_dict(),
            "dataset_source": experiment.data.source,
            "package_version": __version__,
            "torch_version": torch.__version__,
            "device": str(device),
            # CPU results are bit-for-bit reproducible only with the same number of threads
            "torch_threads": torch.get_num_threads(),
            "started": _now(),
            "updated": None,
            "finished": None,
            "initial_indices": experiment.initial_indices,
            "validation_indices": experiment.validation_indices,
            "pool_size": len(experiment.pool_indices),
            "test_size": len(experiment.data.test_y_M),
            "rounds": [],
        }
    elif results["initial_indices"] != experiment.initial_indices:
        raise ValueError(f"{out} was made from different data; use another --out file")

    labelled = list(experiment.initial_indices)
    for record in results["rounds"]:
        labelled += record["acquired_indices"]
    taken = set(labelled)
    pool = [i for i in experiment.pool_indices if i not in taken]

    rounds = tqdm(
        total=planned_rounds(config, len(experiment.initial_indices), len(experiment.pool_indices)),
        initial=len(results["rounds"]),
        desc=f"{config.acquisition} on {config.dataset}",
        disable=not progress,
    )
    with rounds:
        while True:
            record = run_round(
                config,
                experiment,
                labelled,
                pool,
                len(results["rounds"]),
                device=device,
                progress=progress,
            )
            results["rounds"].append(record)
            labelled += record["acquired_indices"]
            taken.update(record["acquired_indices"])
            pool = [i for i in pool if i not in taken]
            done = not record["acquired_indices"]
            results["updated"] = _now()
            if done:
                results["finished"] = results["updated"]
            if out is not None:
                write_json_atomic(out, results)
            rounds.update(1)
            rounds.set_postfix(labels=record["n_labeled"], acc=f"{record['test_accuracy']:.3f}")
            if on_round is not None:
                on_round(results)
            if done:
                return results


def labels_to_reach(results: dict[str, Any], accuracy: float) -> int | None:
    """The number of labelled points at the first round whose test accuracy reaches ``accuracy``."""
    for record in results["rounds"]:
        if record["test_accuracy"] >= accuracy:
            return record["n_labeled"]
    return None
