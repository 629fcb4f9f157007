"""The active-learning loop: train, evaluate, score the pool, acquire, record -- and resume.

One round (see :func:`run_round`):

1. train a *fresh* model on the labelled set (Adam; "epochs" of a fixed number of samples drawn
   with replacement; early stopping on validation accuracy with patience; best model restored);
2. evaluate it on the test set with MC averaging (accuracy and NLL);
3. score the remaining pool with ``K`` consistent MC-dropout samples and acquire a batch by name
   (EPIG also scores its target inputs, :func:`epig_target_inputs`, with the same K samples);
4. append the round's :class:`~bbal_tutorial.results.RoundRecord` to the run's
   :class:`~bbal_tutorial.results.RunRecord` and write the whole results file atomically.

Every round re-seeds torch from ``(seed, round)``, so a run that is interrupted anywhere and
resumed produces the same record as one that never stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from bbal_tutorial import __version__
from bbal_tutorial.acquisition import EPIG_ACQUISITIONS, acquire
from bbal_tutorial.config import ExperimentConfig, planned_rounds
from bbal_tutorial.data import ActiveLearningData, load_dataset, make_splits
from bbal_tutorial.information import predictive_log_probs
from bbal_tutorial.models import BayesianModule, make_model, predict_log_probs, resolve_device
from bbal_tutorial.results import RoundRecord, RunRecord, load_results, now, save_results


@dataclass
class ExperimentData:
    """The tensors one run works on, after subsetting and splitting."""

    data: ActiveLearningData
    train_indices: list[int]  # the training examples this run may use (into data.train_*)
    initial_indices: list[int]
    validation_indices: list[int]
    pool_indices: list[int]


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
    set; stop when validation accuracy has not improved for ``patience`` epochs (but not before
    ``min_epochs``); restore the best.
    """
    if len(y_L) == 0:  # e.g. EMNIST starts with no labels: the first model stays untrained
        return TrainResult(epochs=0, best_validation_accuracy=None)
    # fused: one kernel for the whole update instead of a few per parameter (same Adam maths)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, fused=device.type in ("cpu", "cuda")
    )
    # Only the memory layout of the training steps changes (and with it float rounding); the
    # model goes back to the ordinary layout for validation and for everything after training.
    step_layout = _step_layout(device)
    x_L_, y_L = x_L_.to(device).contiguous(memory_format=step_layout), y_L.to(device)
    x_V_ = x_V_.to(device)  # once, not once per epoch (the labels stay with the predictions)
    best_accuracy, best_state, epochs_without_gain, epoch = -math.inf, None, 0, 0
    epochs = tqdm(range(config.max_epochs), desc="training", disable=not progress, leave=False)
    for epoch in epochs:  # noqa: B007 (epoch is reported below)
        model.train()
        model.to(memory_format=step_layout)
        draws = torch.randint(len(y_L), (config.samples_per_epoch,), generator=generator).to(device)
        for batch in draws.split(config.train_batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = F.nll_loss(model(x_L_[batch], 1).squeeze(1), y_L[batch])
            loss.backward()
            optimizer.step()
        model.to(memory_format=torch.contiguous_format)
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
            # not before min_epochs: a model can sit near chance for a few short epochs before
            # it starts to learn (EMNIST's 47 classes), and stopping there keeps a dead model
            if epochs_without_gain >= config.patience and epoch + 1 >= config.min_epochs:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.redraw_masks()
    best = None if best_accuracy == -math.inf else best_accuracy
    return TrainResult(epochs=epoch + 1, best_validation_accuracy=best)


def _step_layout(device: torch.device) -> torch.memory_format:
    """The memory layout of the feature maps in training steps on ``device``."""
    # On the CPU, oneDNN's convolutions and max-pooling make a training step ~1.3x faster on
    # channels-last (NHWC) maps than on the ordinary NCHW ones; on a GPU keep cuDNN's default.
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def epig_target_inputs(
    config: ExperimentConfig,
    experiment: ExperimentData,
    pool_indices: list[int],
    round_index: int,
) -> torch.Tensor:
    """The target inputs x* of EPIG in round ``round_index``, ``x_M_1_H_W``.

    The rule: M = ``config.epig_targets`` inputs (all of them, if there are fewer), drawn
    uniformly without replacement, afresh every round, from

    * ``epig_target_source="pool"`` (the default): the unlabelled pool of this round,
      ``pool_indices``. With nothing else known about the inputs the model will meet, the pool
      stands in for the input distribution ``p*(x*)``;
    * ``epig_target_source="test"``: the test set's inputs, to target the test distribution. Only
      the images are read, never their labels.

    The draw has a generator of its own, seeded from ``(seed, round)``: reproducible, the same for
    a resumed run, and independent of training's random numbers.
    """
    data = experiment.data
    # the round's seed + 1: a stream apart from the training draws, which use the round's seed
    generator = torch.Generator().manual_seed(_round_seed(config.seed, round_index) + 1)
    if config.epig_target_source == "pool":
        source_S = torch.tensor(pool_indices, dtype=torch.long)
        inputs_S_ = data.train_x_N_1_H_W
    else:
        source_S = torch.arange(len(data.test_x_M_1_H_W))
        inputs_S_ = data.test_x_M_1_H_W
    chosen_M = source_S[torch.randperm(len(source_S), generator=generator)[: config.epig_targets]]
    return inputs_S_[chosen_M]


def _predict_pool_and_targets(
    model: BayesianModule,
    x_N_: torch.Tensor,
    x_M_: torch.Tensor,
    k: int,
    *,
    device: torch.device,
    progress: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log_probs_N_K_C, log_probs_M_K_C)`` of pool and targets under the same K networks."""
    # One call for both: the K consistent dropout masks of a call are shared by all its inputs,
    # and EPIG's joint p(y, y*) = 1/K sum_k p(y|w_k) p(y*|w_k) needs sample k to be one network.
    log_probs_L_K_C = predict_log_probs(
        model,
        torch.cat([x_N_, x_M_]),
        k,
        device=device,
        progress=progress,
        desc="scoring pool and targets",
    ).to(device)
    return log_probs_L_K_C[: len(x_N_)], log_probs_L_K_C[len(x_N_) :]


def first_round(
    config: ExperimentConfig, experiment: ExperimentData, *, device: torch.device
) -> RoundRecord:
    """Round 0 of a run on ``experiment``: train on its initial labels, acquire from the whole
    pool (what the GPU check times)."""
    return run_round(
        config,
        experiment,
        list(experiment.initial_indices),
        list(experiment.pool_indices),
        0,
        device=device,
    )


def run_round(
    config: ExperimentConfig,
    experiment: ExperimentData,
    labelled_indices: list[int],
    pool_indices: list[int],
    round_index: int,
    *,
    device: torch.device,
    progress: bool = False,
) -> RoundRecord:
    """Train, evaluate and (unless the label budget is spent) acquire; return the round's record."""
    seed = _round_seed(config.seed, round_index)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = experiment.data
    model = make_model(config.model, data.num_classes).to(device)

    t0, cpu0 = time.perf_counter(), time.process_time()
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

    record = RoundRecord(
        round=round_index,
        n_labeled=len(labelled_indices),
        test_accuracy=accuracy,
        test_nll=nll,
        train_epochs=trained.epochs,
        best_validation_accuracy=trained.best_validation_accuracy,
        acquired_indices=[],
        acquired_labels=[],
        acquired_original_indices=[],
        scores=[],
        train_seconds=t1 - t0,
        eval_seconds=t2 - t1,
    )
    labels_left = config.label_budget - len(labelled_indices)
    size = min(config.acquisition_size, labels_left, len(pool_indices))  # this round's batch
    if size <= 0:
        return replace(record, cpu_seconds=time.process_time() - cpu0)

    pool_T = torch.tensor(pool_indices, dtype=torch.long)
    target_log_probs_M_K_C = None  # EPIG's targets; the other methods take none
    if config.acquisition == "random":
        # Random acquisition never looks at predictions: skip the K forward passes over the pool.
        # A single certain "class" is a valid (normalised) log-prob tensor of the right N.
        log_probs_N_K_C = torch.zeros(len(pool_indices), 1, 1)
    elif config.acquisition in EPIG_ACQUISITIONS:
        log_probs_N_K_C, target_log_probs_M_K_C = _predict_pool_and_targets(
            model,
            data.train_x_N_1_H_W[pool_T],
            epig_target_inputs(config, experiment, pool_indices, round_index),
            config.mc_samples,
            device=device,
            progress=progress,
        )
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
        size,
        seed=seed,
        num_samples=config.num_samples,
        coldness=config.coldness,
        target_log_probs_M_K_C=target_log_probs_M_K_C,
    )
    t4 = time.perf_counter()
    acquired = pool_T[torch.tensor(batch.indices, dtype=torch.long)]
    return replace(
        record,
        acquired_indices=acquired.tolist(),
        acquired_labels=data.train_y_N[acquired].tolist(),
        acquired_original_indices=data.original_index_N[acquired].tolist(),
        scores=[float(s) for s in batch.scores],
        predict_seconds=t3 - t2,
        select_seconds=t4 - t3,
        cpu_seconds=time.process_time() - cpu0,
    )


def _change_label_budget(run: RunRecord, config: ExperimentConfig) -> RunRecord:
    """Let a run continue under a new ``label_budget`` (e.g. extend a finished run).

    Rounds whose acquisition was cut short by the old budget (fewer than ``acquisition_size``
    points, or none in the final round) are dropped: with the new budget they would have
    acquired more. Every other round is exactly what a run with the new budget computes, because
    each round is seeded by ``(seed, round)`` alone.
    """
    rounds = list(run.rounds)
    while rounds and len(rounds[-1].acquired_indices) < config.acquisition_size:
        rounds.pop()
    labelled = len(run.initial_indices) + sum(len(r.acquired_indices) for r in rounds)
    if config.label_budget < labelled:
        raise ValueError(
            f"the run already has {labelled} labelled points; label_budget={config.label_budget} "
            "cannot shrink it (plot fewer rounds instead, or start a new --out file)"
        )
    return replace(run, config=config, rounds=tuple(rounds), finished=None)


def run_experiment(
    config: ExperimentConfig,
    out: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    download: bool | None = None,
    device: str | torch.device | None = "auto",
    resume: bool = True,
    progress: bool = True,
    on_round: Callable[[RunRecord], None] | None = None,
    experiment: ExperimentData | None = None,
) -> RunRecord:
    """Run (or resume) a whole active-learning experiment and return its record.

    With ``out``, the record is written atomically after every round; if ``out`` already holds a
    run with the same configuration it is resumed (or returned, if finished).  ``on_round`` is
    called with the record so far after every round (live plots in notebooks).
    """
    out = Path(out) if out is not None else None
    device = resolve_device(device)
    run: RunRecord | None = None
    if out is not None and out.exists():
        if not resume:
            raise FileExistsError(
                f"{out} exists; pass resume=True (CLI: drop --no-resume) or pick a new --out"
            )
        run = resumable_run(load_results(out), config, out)
        if run.finished:
            return run

    if experiment is None:
        experiment = prepare_data(config, data_dir=data_dir, download=download)
    run = start_run(config, experiment, run, device=device, out=out)
    rounds = tqdm(
        total=planned_rounds(config, len(experiment.initial_indices), len(experiment.pool_indices)),
        initial=len(run.rounds),
        desc=f"{config.acquisition} on {config.dataset}",
        disable=not progress,
    )
    with rounds:
        while not run.finished:
            run = next_round(run, experiment, device=device, progress=progress)
            if out is not None:
                save_results(run, out)
            record = run.rounds[-1]
            rounds.update(1)
            rounds.set_postfix(labels=record.n_labeled, acc=f"{record.test_accuracy:.3f}")
            if on_round is not None:
                on_round(run)
    return run


def resumable_run(run: RunRecord, config: ExperimentConfig, where: str | Path) -> RunRecord:
    """A recorded ``run`` (read from ``where``) to continue under ``config``: the same record, or
    one open to a new label budget; a ``ValueError`` if any other setting differs."""
    recorded = run.config.to_dict()
    changed = sorted(k for k, v in config.to_dict().items() if recorded.get(k) != v)
    if changed == ["label_budget"]:
        return _change_label_budget(run, config)
    if changed:
        raise ValueError(
            f"{where} holds a run with different settings ({', '.join(changed)}); "
            "use another --out file, or delete it to start over"
        )
    return run


def start_run(
    config: ExperimentConfig,
    experiment: ExperimentData,
    run: RunRecord | None = None,
    *,
    device: torch.device,
    out: Path | None = None,
) -> RunRecord:
    """A new record of a run of ``config`` on ``experiment`` (its settings, data source, splits,
    versions), or the recorded ``run`` to resume after checking it was made from the same data."""
    if run is None:
        return RunRecord(
            config=config,
            dataset_source=experiment.data.source,
            dataset_dir=experiment.data.directory,
            dataset_provenance=experiment.data.provenance,
            package_version=__version__,
            torch_version=torch.__version__,
            device=str(device),
            # CPU results are bit-for-bit reproducible only with the same number of threads
            torch_threads=torch.get_num_threads(),
            started=now(),
            initial_indices=experiment.initial_indices,
            validation_indices=experiment.validation_indices,
            pool_size=len(experiment.pool_indices),
            test_size=len(experiment.data.test_y_M),
            path=out,
        )
    if run.initial_indices != experiment.initial_indices:
        where = out or run.path or "the record"
        raise ValueError(f"{where} was made from different data; use another --out file")
    return run


def next_round(
    run: RunRecord, experiment: ExperimentData, *, device: torch.device, progress: bool = False
) -> RunRecord:
    """``run`` with one more round: train on its labels so far, evaluate, acquire the next batch
    from what is left of the pool (:func:`run_round`). The round that acquires nothing, because
    the label budget or the pool is spent, is the last: the record is then marked finished.

    Every round is seeded by ``(seed, round)`` alone, so calling this round after round, in one
    process or in many, gives the same record."""
    labelled = list(experiment.initial_indices)
    for record in run.rounds:
        labelled += record.acquired_indices
    taken = set(labelled)
    pool = [i for i in experiment.pool_indices if i not in taken]
    record = run_round(
        run.config, experiment, labelled, pool, len(run.rounds), device=device, progress=progress
    )
    updated = now()
    done = not record.acquired_indices
    return replace(
        run,
        rounds=(*run.rounds, record),
        updated=updated,
        finished=updated if done else run.finished,
    )
