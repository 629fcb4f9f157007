import json
import math
from dataclasses import asdict

import pytest
import torch

from bbal_tutorial import acquisition, loop, models
from bbal_tutorial.config import ExperimentConfig
from bbal_tutorial.data import ActiveLearningData
from bbal_tutorial.loop import ExperimentData, run_experiment
from bbal_tutorial.results import TIMING_FIELDS, RunRecord, labels_to_reach, load_results

# Fields that legitimately differ between two identical runs.
VOLATILE = set(TIMING_FIELDS)


def tiny_experiment(seed: int = 0, n_per_class: int = 12, num_classes: int = 3) -> ExperimentData:
    """A generated 3-class problem: each class is a bright square in a different place."""
    g = torch.Generator().manual_seed(seed)
    n = n_per_class * num_classes
    y_N = torch.arange(num_classes).repeat_interleave(n_per_class)
    x_N = torch.randn(n, 1, 28, 28, generator=g) * 0.3
    for c in range(num_classes):
        x_N[y_N == c, :, 4 + 7 * c : 10 + 7 * c, 4 + 7 * c : 10 + 7 * c] += 2.0
    data = ActiveLearningData(
        name="tiny",
        train_x_N_1_H_W=x_N[: n - 9],
        train_y_N=y_N[: n - 9],
        test_x_M_1_H_W=x_N[n - 9 :],
        test_y_M=y_N[n - 9 :],
        num_classes=num_classes,
        class_names=[str(c) for c in range(num_classes)],
        source="generated (test)",
        original_index_N=torch.arange(n - 9),
    )
    # Shuffle so that the held-out test points cover every class.
    perm = torch.randperm(n, generator=g)
    data.train_x_N_1_H_W, data.train_y_N = x_N[perm[: n - 9]], y_N[perm[: n - 9]]
    data.test_x_M_1_H_W, data.test_y_M = x_N[perm[n - 9 :]], y_N[perm[n - 9 :]]
    labels = data.train_y_N
    initial = [int(torch.nonzero(labels == c)[0]) for c in range(num_classes)]
    rest = [i for i in range(len(labels)) if i not in initial]
    return ExperimentData(
        data=data,
        train_indices=list(range(len(labels))),
        initial_indices=initial,
        validation_indices=rest[:4],
        pool_indices=rest[4:],
    )


def tiny_config(**overrides) -> ExperimentConfig:
    settings = dict(
        dataset="mnist",
        acquisition="batchbald",
        acquisition_size=2,
        mc_samples=3,
        test_mc_samples=3,
        validation_mc_samples=2,
        num_samples=20,
        label_budget=9,
        max_epochs=2,
        patience=1,
        samples_per_epoch=32,
        train_batch_size=16,
        seed=3,
    )
    return ExperimentConfig(**{**settings, **overrides})


def stable(run: RunRecord) -> list[dict]:
    return [{k: v for k, v in asdict(r).items() if k not in VOLATILE} for r in run.rounds]


def test_round_records_and_budget(tmp_path):
    experiment = tiny_experiment()
    out = tmp_path / "run.json"
    run = run_experiment(tiny_config(), out, experiment=experiment, progress=False)
    rounds = run.rounds
    # 3 initial labels, b = 2, max 9 labels -> acquisitions at 3, 5, 7 -> final round at 9 labels
    assert run.labels == [3, 5, 7, 9]
    assert [len(r.acquired_indices) for r in rounds] == [2, 2, 2, 0]
    acquired = [i for r in rounds for i in r.acquired_indices]
    assert len(set(acquired)) == len(acquired)
    assert set(acquired) <= set(experiment.pool_indices)
    labels = experiment.data.train_y_N
    for r in rounds:
        assert r.acquired_labels == [int(labels[i]) for i in r.acquired_indices]
        assert 0.0 <= r.test_accuracy <= 1.0 and r.test_nll > 0
        assert all(getattr(r, k) >= 0 for k in VOLATILE)  # cpu_seconds too: never None here
        # BatchBALD's scores are the cumulative joint MI: non-decreasing within a batch
        assert r.scores == sorted(r.scores)
    assert run.finished is not None and run.path == out
    assert run.config == tiny_config()
    assert run.dataset_source == "generated (test)"
    assert load_results(out) == run
    assert labels_to_reach(run, 0.0) == 3
    assert labels_to_reach(run, 1.01) is None


def test_the_results_file_keeps_its_layout(tmp_path):
    """The JSON the loop writes: format 2, the keys in the order every results file has them."""
    out = tmp_path / "run.json"
    run_experiment(tiny_config(label_budget=5), out, experiment=tiny_experiment(), progress=False)
    written = json.loads(out.read_text())
    assert written["format"] == "bbal_tutorial.results/2"
    assert list(written) == [
        "format",
        "config",
        "dataset_source",
        "dataset_dir",
        "dataset_provenance",
        "package_version",
        "torch_version",
        "device",
        "torch_threads",
        "started",
        "updated",
        "finished",
        "initial_indices",
        "validation_indices",
        "pool_size",
        "test_size",
        "rounds",
    ]
    assert list(written["rounds"][0]) == [
        "round",
        "n_labeled",
        "test_accuracy",
        "test_nll",
        "train_epochs",
        "best_validation_accuracy",
        "acquired_indices",
        "acquired_labels",
        "acquired_original_indices",
        "scores",
        "train_seconds",
        "eval_seconds",
        "predict_seconds",
        "select_seconds",
        "cpu_seconds",
    ]
    assert written["rounds"][-1]["acquired_original_indices"] == []
    # the process clock of each round: at most its wall-clock time on one thread, plus slack
    for record in written["rounds"]:
        assert 0 < record["cpu_seconds"]
    assert written["config"] == tiny_config(label_budget=5).to_dict()


def test_same_seed_same_record_and_other_seed_differs(tmp_path):
    a = run_experiment(tiny_config(), experiment=tiny_experiment(), progress=False)
    b = run_experiment(tiny_config(), experiment=tiny_experiment(), progress=False)
    c = run_experiment(tiny_config(seed=4), experiment=tiny_experiment(), progress=False)
    assert stable(a) == stable(b)
    assert stable(a) != stable(c)


class SimulatedInterruptError(Exception):
    pass


def test_resume_after_interruption_between_rounds(tmp_path):
    reference = run_experiment(tiny_config(), experiment=tiny_experiment(), progress=False)
    out = tmp_path / "run.json"

    def stop_after_two_rounds(run):
        assert isinstance(run, RunRecord)
        if len(run.rounds) == 2:
            raise SimulatedInterruptError

    with pytest.raises(SimulatedInterruptError):
        run_experiment(
            tiny_config(),
            out,
            experiment=tiny_experiment(),
            progress=False,
            on_round=stop_after_two_rounds,
        )
    assert len(load_results(out).rounds) == 2
    resumed = run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    assert stable(resumed) == stable(reference)
    assert stable(load_results(out)) == stable(reference)


def test_resume_after_interruption_inside_a_round(tmp_path, monkeypatch):
    reference = run_experiment(tiny_config(), experiment=tiny_experiment(), progress=False)
    out = tmp_path / "run.json"
    real_acquire = acquisition.acquire
    calls = []

    def acquire_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # in the middle of the third round, after training
            raise SimulatedInterruptError
        return real_acquire(*args, **kwargs)

    monkeypatch.setattr(loop, "acquire", acquire_then_crash)
    with pytest.raises(SimulatedInterruptError):
        run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    assert len(load_results(out).rounds) == 2
    monkeypatch.setattr(loop, "acquire", real_acquire)
    resumed = run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    assert stable(resumed) == stable(reference)
    # the file on disk was never half-written: no temporary files left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_finished_run_is_returned_not_rerun(tmp_path, monkeypatch):
    out = tmp_path / "run.json"
    first = run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    monkeypatch.setattr(loop, "run_round", lambda *a, **k: pytest.fail("should not train"))
    again = run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    assert again == first


def test_resume_refuses_other_settings(tmp_path):
    out = tmp_path / "run.json"
    run_experiment(tiny_config(label_budget=5), out, experiment=tiny_experiment(), progress=False)
    with pytest.raises(ValueError, match="different settings.*acquisition_size"):
        run_experiment(
            tiny_config(acquisition_size=1), out, experiment=tiny_experiment(), progress=False
        )
    with pytest.raises(FileExistsError):
        run_experiment(
            tiny_config(label_budget=5),
            out,
            experiment=tiny_experiment(),
            progress=False,
            resume=False,
        )


@pytest.mark.parametrize("method", ["random", "bald", "max-entropy", "softmax-bald"])
def test_every_acquisition_plugs_in_by_name(method, monkeypatch):
    pool_passes = []
    real_predict = models.predict_log_probs

    def counting_predict(*args, desc="", **kwargs):
        pool_passes.append(desc == "scoring pool")
        return real_predict(*args, desc=desc, **kwargs)

    monkeypatch.setattr(loop, "predict_log_probs", counting_predict)
    run = run_experiment(
        tiny_config(acquisition=method, label_budget=5),
        experiment=tiny_experiment(),
        progress=False,
    )
    assert run.labels == [3, 5]
    # random acquisition never needs the K forward passes over the pool
    assert sum(pool_passes) == (0 if method == "random" else 1)


def test_learns_something():
    """The loop really trains: on the easy generated task the last model beats chance clearly."""
    config = tiny_config(max_epochs=6, patience=6, samples_per_epoch=128, label_budget=7)
    run = run_experiment(config, experiment=tiny_experiment(), progress=False)
    assert run.rounds[-1].test_accuracy >= 0.6  # chance is 1/3


def test_a_finished_run_can_be_extended_to_a_larger_label_budget(tmp_path):
    reference = run_experiment(tiny_config(), experiment=tiny_experiment(), progress=False)
    out = tmp_path / "run.json"
    # label_budget=6 ends with a truncated acquisition (3 -> 5 -> 6): that round must be redone
    short = run_experiment(
        tiny_config(label_budget=6), out, experiment=tiny_experiment(), progress=False
    )
    assert short.labels == [3, 5, 6]
    extended = run_experiment(tiny_config(), out, experiment=tiny_experiment(), progress=False)
    assert stable(extended) == stable(reference)
    assert extended.config.label_budget == 9
    with pytest.raises(ValueError, match="cannot shrink"):
        run_experiment(
            tiny_config(label_budget=4), out, experiment=tiny_experiment(), progress=False
        )


def _train_tiny(seed: int = 0) -> tuple[models.BayesianModule, loop.TrainResult, torch.Tensor]:
    """Train a fresh model on the tiny problem; return it, its result and its test log-probs."""
    experiment = tiny_experiment()
    data = experiment.data
    config = tiny_config(max_epochs=3, patience=3, samples_per_epoch=64)
    torch.manual_seed(seed)
    model = models.make_model(config.model, data.num_classes)
    labelled, validation = experiment.initial_indices, experiment.validation_indices
    result = loop.train_model(
        model,
        data.train_x_N_1_H_W[labelled],
        data.train_y_N[labelled],
        data.train_x_N_1_H_W[validation],
        data.train_y_N[validation],
        config,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed),
    )
    log_probs = models.predict_log_probs(model, data.test_x_M_1_H_W, 4, progress=False)
    return model, result, log_probs


def test_the_training_layout_changes_only_float_rounding(monkeypatch):
    """Training steps run on channels-last maps on the CPU (faster); the ordinary layout gives the
    same epochs, validation accuracy, weights and predictions up to float rounding."""
    assert loop._step_layout(torch.device("cpu")) == torch.channels_last
    fast_model, fast, fast_log_probs = _train_tiny()
    monkeypatch.setattr(loop, "_step_layout", lambda device: torch.contiguous_format)
    plain_model, plain, plain_log_probs = _train_tiny()
    assert fast == plain
    plain_state = plain_model.state_dict()
    assert list(plain_state) == list(fast_model.state_dict())
    for name, value in fast_model.state_dict().items():
        torch.testing.assert_close(value, plain_state[name], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fast_log_probs, plain_log_probs, rtol=1e-4, atol=1e-5)


def test_the_trained_model_is_handed_back_in_the_ordinary_layout():
    """Validation, test evaluation and pool prediction see the model as it was built."""
    model, result, _ = _train_tiny()
    assert result.epochs == 3
    assert all(p.is_contiguous() for p in model.parameters())


# --------------------------------------------------------------------------------------------------
# EPIG: target inputs, one prediction call for pool and targets, a whole run


def test_an_epig_run_completes_and_is_deterministic(tmp_path):
    config = tiny_config(acquisition="epig", epig_targets=5)
    out = tmp_path / "run.json"
    a = run_experiment(config, out, experiment=tiny_experiment(), progress=False)
    b = run_experiment(config, experiment=tiny_experiment(), progress=False)
    assert a.labels == [3, 5, 7, 9] and a.finished is not None
    assert stable(a) == stable(b)
    for record in a.rounds[:-1]:
        # top-b EPIG: the scores are the picks' EPIG, highest first, within [0, log C]
        assert record.scores == sorted(record.scores, reverse=True)
        assert all(-1e-12 <= s <= math.log(3) for s in record.scores)
    written = json.loads(out.read_text())["config"]
    assert (written["epig_targets"], written["epig_target_source"]) == (5, "pool")
    assert load_results(out) == a
    other_seed = run_experiment(
        tiny_config(acquisition="epig", epig_targets=5, seed=4),
        experiment=tiny_experiment(),
        progress=False,
    )
    assert stable(other_seed) != stable(a)


def test_power_epig_on_test_targets_completes_and_is_deterministic():
    config = tiny_config(acquisition="power-epig", epig_targets=4, epig_target_source="test")
    a = run_experiment(config, experiment=tiny_experiment(), progress=False)
    b = run_experiment(config, experiment=tiny_experiment(), progress=False)
    assert a.labels == [3, 5, 7, 9] and stable(a) == stable(b)


def test_other_methods_record_no_epig_settings(tmp_path):
    out = tmp_path / "run.json"
    run_experiment(tiny_config(label_budget=5), out, experiment=tiny_experiment(), progress=False)
    written = json.loads(out.read_text())["config"]
    assert "epig_targets" not in written and "epig_target_source" not in written


def test_epig_scores_pool_and_targets_in_one_prediction_call(monkeypatch):
    """One predict_log_probs call per acquiring round: the same K dropout masks for pool and
    targets; the targets' predictions reach acquire beside the pool's."""
    calls, acquired_with = [], []
    real_predict, real_acquire = models.predict_log_probs, acquisition.acquire

    def counting_predict(model, x, k, *args, desc="", **kwargs):
        calls.append((desc, len(x)))
        return real_predict(model, x, k, *args, desc=desc, **kwargs)

    def recording_acquire(name, log_probs_N_K_C, size, **kwargs):
        targets = kwargs["target_log_probs_M_K_C"]
        acquired_with.append((len(log_probs_N_K_C), None if targets is None else targets.shape))
        return real_acquire(name, log_probs_N_K_C, size, **kwargs)

    monkeypatch.setattr(loop, "predict_log_probs", counting_predict)
    monkeypatch.setattr(loop, "acquire", recording_acquire)
    experiment = tiny_experiment()
    pool_size = len(experiment.pool_indices)
    run_experiment(
        tiny_config(acquisition="epig", epig_targets=4, label_budget=7),
        experiment=experiment,
        progress=False,
    )
    scoring = [(desc, n) for desc, n in calls if desc.startswith("scoring")]
    assert scoring == [
        ("scoring pool and targets", pool_size + 4),
        ("scoring pool and targets", pool_size - 2 + 4),
    ]
    assert acquired_with == [(pool_size, (4, 3, 3)), (pool_size - 2, (4, 3, 3))]


def test_the_target_rule_draws_from_the_pool_or_the_test_inputs():
    experiment = tiny_experiment()
    data = experiment.data
    pool = experiment.pool_indices[3:]  # as if the first three had been acquired
    config = tiny_config(acquisition="epig", epig_targets=6)
    targets = loop.epig_target_inputs(config, experiment, pool, 2)
    assert targets.shape == (6, 1, 28, 28)
    # each target is one pool image, all different, none of them labelled or acquired
    matches = [
        [i for i in range(len(data.train_x_N_1_H_W)) if torch.equal(data.train_x_N_1_H_W[i], x)]
        for x in targets
    ]
    chosen = [m[0] for m in matches]
    assert all(len(m) == 1 for m in matches) and len(set(chosen)) == 6
    assert set(chosen) <= set(pool)
    # reproducible for (seed, round); drawn afresh in another round or with another seed
    assert torch.equal(loop.epig_target_inputs(config, experiment, pool, 2), targets)
    assert not torch.equal(loop.epig_target_inputs(config, experiment, pool, 3), targets)
    other_seed = tiny_config(acquisition="epig", epig_targets=6, seed=5)
    assert not torch.equal(loop.epig_target_inputs(other_seed, experiment, pool, 2), targets)
    # more targets than the pool holds: the whole pool
    everything = loop.epig_target_inputs(tiny_config(epig_targets=1000), experiment, pool, 2)
    assert len(everything) == len(pool)
    # the test source reads the test images only: it works with the labels taken away
    data.test_y_M = None
    config = tiny_config(acquisition="epig", epig_targets=4, epig_target_source="test")
    test_targets = loop.epig_target_inputs(config, experiment, pool, 2)
    assert len(test_targets) == 4
    assert all(any(torch.equal(x, t) for t in data.test_x_M_1_H_W) for x in test_targets)
