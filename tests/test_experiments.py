import json

import pytest

from bbal_tutorial.presets import EXPERIMENTS, experiment_config, load_experiment, results_dir
from bbal_tutorial.results import labels_to_reach_summary, result_name


def _write_run(folder, tag, acquisition, b, seed, accuracies, finished=True):
    config = experiment_config(tag, acquisition, b, seed).to_dict()
    rounds = [
        {"n_labeled": 20 + b * i, "test_accuracy": a, "acquired_labels": []}
        for i, a in enumerate(accuracies)
    ]
    payload = {
        "format": "bbal_tutorial.results/1",
        "config": config,
        "dataset_source": "test",
        "finished": "2026-11-22T00:00:00+00:00" if finished else None,
        "updated": "2026-11-22T00:00:00+00:00",
        "rounds": rounds,
    }
    (folder / result_name(tag, acquisition, b, seed)).write_text(json.dumps(payload))


def test_load_experiment_filters_and_skips_unfinished(tmp_path):
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 0, [0.5, 0.9])
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 1, [0.5, 0.6], finished=False)
    _write_run(tmp_path, "repeated-mnist", "random", 10, 0, [0.5, 0.7])
    runs = load_experiment("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert [(r["config"]["acquisition"], r["config"]["seed"]) for r in runs] == [("bald", 0)]
    everything = load_experiment("repeated-mnist", directory=tmp_path, finished_only=False)
    assert len(everything) == 3


def test_load_experiment_says_which_command_makes_missing_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="make reproduce"):
        load_experiment("acquisition-size", directory=tmp_path)
    with pytest.raises(ValueError, match="unknown experiment"):
        load_experiment("nope", directory=tmp_path)


def test_results_dir_prefers_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BBAL_RESULTS_DIR", str(tmp_path))
    assert results_dir() == tmp_path
    assert results_dir("elsewhere").name == "elsewhere"
    monkeypatch.delenv("BBAL_RESULTS_DIR")
    assert results_dir().name == "results"


def test_labels_to_reach_summary_counts_never_as_infinite():
    runs = [
        {"rounds": [{"n_labeled": 20, "test_accuracy": 0.5}, {"n_labeled": 30, "test_accuracy": a}]}
        for a in (0.95, 0.8, 0.85)
    ]
    assert labels_to_reach_summary(runs, 0.9) == {
        "per_seed": [30, None, None],
        "median": None,
        "reached": 1,
        "seeds": 3,
    }
    assert labels_to_reach_summary(runs, 0.8)["median"] == 30


def test_every_experiment_config_is_valid():
    for tag, spec in EXPERIMENTS.items():
        for acquisition, b in spec["runs"]:
            config = experiment_config(tag, acquisition, b, spec["seeds"][0])
            assert config.acquisition_size == b and config.dataset == spec["dataset"]


# --------------------------------------------------------------------------------------------------
# notebooks 04 and 06


def test_missing_runs_lists_absent_and_unfinished_runs(tmp_path):
    from bbal_tutorial.presets import describe_missing, missing_runs, reproduce_command

    _write_run(tmp_path, "repeated-mnist", "bald", 10, 0, [0.5, 0.9])
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 1, [0.5], finished=False)
    missing = missing_runs("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert missing == [
        "repeated-mnist-bald-b10-seed1.json (unfinished)",
        "repeated-mnist-bald-b10-seed2.json",
    ]
    from bbal_tutorial.presets import load_available

    assert load_available("acquisition-size", directory=tmp_path) == []
    assert len(load_available("repeated-mnist", directory=tmp_path)) == 1
    everything = missing_runs("repeated-mnist", directory=tmp_path)
    spec = EXPERIMENTS["repeated-mnist"]
    assert len(everything) == len(spec["runs"]) * len(spec["seeds"]) - 1
    assert reproduce_command("repeated-mnist") == (
        "python -m bbal_tutorial reproduce --experiments repeated-mnist"
    )
    assert reproduce_command("emnist").endswith("--experiments emnist --download")
    text = describe_missing("repeated-mnist", acquisitions=["bald"], directory=tmp_path)
    assert "2 run(s)" in text and "--experiments repeated-mnist" in text
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 1, [0.5])
    _write_run(tmp_path, "repeated-mnist", "bald", 10, 2, [0.5])
    assert "All cached runs" in describe_missing(
        "repeated-mnist", acquisitions=["bald"], directory=tmp_path
    )
    with pytest.raises(ValueError, match="unknown experiment"):
        missing_runs("nope")


def _rounds(*batches, accuracies=None):
    """Records with ``acquired_original_indices`` = each batch, then a final empty round."""
    rounds = []
    n = 20
    for i, originals in enumerate([*batches, []]):
        rounds.append(
            {
                "n_labeled": n,
                "test_accuracy": accuracies[i] if accuracies else 0.5,
                "acquired_indices": list(range(len(originals))),
                "acquired_original_indices": list(originals),
                "select_seconds": 0.1 * (i + 1) if originals else 0.0,
            }
        )
        n += len(originals)
    return rounds


def test_batch_diversity_counts_distinct_and_new_originals():
    from bbal_tutorial.lessons.repeated_mnist import batch_diversity, diversity_summary

    results = {
        "config": {"acquisition": "bald", "acquisition_size": 4},
        "rounds": _rounds([1, 1, 2, 3], [4, 2, 2, 5]),
    }
    assert batch_diversity(results) == [
        {"n_labeled": 20, "batch": 4, "distinct": 3, "new": 3},
        {"n_labeled": 24, "batch": 4, "distinct": 3, "new": 2},  # image 2 was acquired before
    ]
    other = {
        "config": {"acquisition": "bald", "acquisition_size": 4},
        "rounds": _rounds([1, 2, 3, 4]),
    }
    (row,) = diversity_summary([results, other])
    assert (row["acquisition"], row["b"], row["seeds"]) == ("bald", 4, 2)
    assert row["distinct per batch"] == pytest.approx((3 + 3 + 4) / 3)
    assert row["labels acquired"] == 6  # 8 and 4
    assert row["spent on copies"] == 1.5  # 3 and 0
    assert (row["same batch"], row["earlier rounds"]) == (1.0, 0.5)  # (1 + 1, 1) and (0, 0)


def test_group_copies_puts_copies_side_by_side_and_batch_images_follows():
    import torch

    from bbal_tutorial.data import ActiveLearningData
    from bbal_tutorial.lessons.repeated_mnist import batch_images, group_copies
    from bbal_tutorial.loop import ExperimentData

    assert group_copies([10, 11, 12, 13, 14], [7, 8, 7, 9, 8]) == [0, 2, 1, 4, 3]
    x = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 1, 2, 2).clone()
    data = ActiveLearningData(
        name="repeated-mnist",
        train_x_N_1_H_W=x,
        train_y_N=torch.zeros(6, dtype=torch.long),
        test_x_M_1_H_W=x[:1],
        test_y_M=torch.zeros(1, dtype=torch.long),
        num_classes=1,
        class_names=["0"],
        source="test",
        original_index_N=torch.tensor([0, 1, 2, 0, 1, 2]),
        mean=0.0,
        std=0.2,  # pixel = x * 0.2, so image i shows 0.2 * i (clamped to 1)
    )
    experiment = ExperimentData(data, list(range(6)), [], [], list(range(6)))
    records = {
        "bald": {
            "acquired_indices": [0, 1, 3],
            "acquired_original_indices": [0, 1, 0],
            "scores": [0.3, 0.2, 0.1],
        },
        "batchbald": {
            "acquired_indices": [2, 4],
            "acquired_original_indices": [2, 1],
            "scores": [0.5, 0.9],
        },
    }
    args = batch_images(experiment, records)
    assert args["batches"] == {"bald": [0, 1, 2], "batchbald": [3, 4]}
    assert args["original_N"].tolist() == [0, 0, 1, 2, 1]  # bald's copies of image 0 together
    assert args["scores"] == {"bald": [0.3, 0.1, 0.2], "batchbald": [0.5, 0.9]}
    assert args["images_N_H_W"][:, 0, 0].tolist() == pytest.approx([0.0, 0.6, 0.2, 0.4, 0.8])


def test_rounds_and_method_summary_and_table():
    from bbal_tutorial.results import format_table, method_summary, rounds_to_reach

    def run(acquisition, b, seed, accuracies):
        batches = [[seed * 100 + i * b + j for j in range(b)] for i in range(len(accuracies) - 1)]
        return {
            "config": {"acquisition": acquisition, "acquisition_size": b, "seed": seed},
            "rounds": _rounds(*batches, accuracies=accuracies),
        }

    a = run("bald", 5, 0, [0.5, 0.7, 0.85])
    assert rounds_to_reach(a, 0.8) == 3 and rounds_to_reach(a, 0.5) == 1
    assert rounds_to_reach(a, 0.9) is None
    runs = [a, run("bald", 5, 1, [0.5, 0.81, 0.9]), run("batchbald", 10, 0, [0.6, 0.8])]
    rows = method_summary(runs, 0.8)
    assert [(r["acquisition"], r["b"], r["seeds"]) for r in rows] == [
        ("bald", 5, 2),
        ("batchbald", 10, 1),
    ]
    bald = rows[0]
    assert bald["labels (per seed)"] == [30, 25] and bald["median labels"] == 27.5
    assert bald["rounds (per seed)"] == [3, 2] and bald["median rounds"] == 2.5
    assert bald["final accuracy"] == pytest.approx(0.875)
    assert (bald["final labels"], bald["rounds run"]) == (30, 3)
    assert bald["select s/round"] == pytest.approx(0.15)  # median of 0.1, 0.2, 0.1, 0.2
    assert bald["run seconds"] == pytest.approx(0.3)  # the records hold select_seconds only
    assert method_summary([a], 0.95)[0]["median labels"] is None

    assert format_table(rows, ["b", "seeds"]).splitlines()[2].split() == ["5", "2"]
    table = format_table(rows).splitlines()
    assert table[0].split()[:3] == ["acquisition", "b", "seeds"]
    assert "30, 25" in table[2] and "87.5%" in table[2] and "0.150" in table[2]
    assert "never" in format_table(method_summary([a], 0.95))


def test_run_data_rebuilds_the_pool_a_run_acquired_from(tmp_path):
    import torch

    from bbal_tutorial.lessons.repeated_mnist import display_images
    from bbal_tutorial.loop import run_experiment
    from bbal_tutorial.presets import run_data

    torch.set_num_threads(1)
    config = experiment_config("repeated-mnist", "bald", 5, 0)
    config.max_train_images, config.label_budget, config.validation_size = 40, 25, 20
    config.max_epochs, config.samples_per_epoch, config.max_test_size = 1, 64, 50
    config.mc_samples = config.test_mc_samples = 2
    results = run_experiment(config, progress=False)
    experiment = run_data(results)
    assert experiment.initial_indices == results["initial_indices"]
    acquired = results["rounds"][0]["acquired_indices"]
    assert set(acquired) <= set(experiment.pool_indices)
    data = experiment.data
    assert (
        data.original_index_N[acquired].tolist()
        == (results["rounds"][0]["acquired_original_indices"])
    )
    assert data.train_y_N[acquired].tolist() == results["rounds"][0]["acquired_labels"]
    images = display_images(data, acquired)
    assert images.shape == (5, 28, 28) and 0 <= images.min() and images.max() <= 1

    from bbal_tutorial.lessons.repeated_mnist import distinct_labelled

    (curve,) = distinct_labelled([results])
    originals = data.original_index_N[results["initial_indices"]].tolist()
    expected = []
    for record in results["rounds"]:
        expected.append(len(set(originals)))
        originals += record["acquired_original_indices"]
    assert curve == expected and len(curve) == 2 and curve[0] <= 20 and curve[1] <= 25

    results["initial_indices"] = results["initial_indices"][::-1]
    with pytest.raises(ValueError, match="differ from the data"):
        run_data(results)


def test_ceiling_summary_counts_picks_to_the_log_k_ceiling():
    import math

    from bbal_tutorial.lessons.acquisition_size import ceiling_summary

    ceiling = math.log(10)
    run = {
        "config": {"acquisition": "batchbald", "acquisition_size": 4, "mc_samples": 10},
        "rounds": [
            {"scores": [1.0, 2.0, 0.96 * ceiling, ceiling]},  # reaches 95% at pick 3
            {"scores": [1.0, 1.5, 2.0, 2.1]},  # never
            {"scores": []},
        ],
    }
    other = {
        "config": {"acquisition": "bald", "acquisition_size": 4, "mc_samples": 10},
        "rounds": [],
    }
    (row,) = ceiling_summary([run, other])
    assert row["b"] == 4 and row["batches"] == 2 and row["log K"] == pytest.approx(ceiling)
    assert row["picks to 95% of log K"] == 3 and row["batches reaching it"] == 1
    assert row["final score"] == pytest.approx((ceiling + 2.1) / 2)


def test_label_entropy_by_round_counts_acquired_labels_only():
    import math

    from bbal_tutorial.lessons.class_diversity import label_entropy_by_round

    run = {
        "initial_indices": [1, 2, 3],  # the initial labels are not part of the measure
        "rounds": [
            {"acquired_labels": [0, 0]},
            {"acquired_labels": [1, 1]},
            {"acquired_labels": [2, 3, 2, 3]},
            {"acquired_labels": []},  # the last round acquires nothing
        ],
    }
    counts, entropies = label_entropy_by_round(run, 4)
    assert counts == [2, 4, 8]
    assert entropies == pytest.approx([0.0, math.log(2), math.log(4)])


# label_entropy: the diversity of acquired class labels (notebook 05)


def test_label_entropy_against_a_direct_sum_and_its_bounds():
    import math

    import torch

    from bbal_tutorial.lessons.class_diversity import label_entropy

    labels = [0, 0, 0, 1, 2, 2, 4]
    direct = -sum(p * math.log(p) for p in (3 / 7, 1 / 7, 2 / 7, 1 / 7))
    assert label_entropy(labels, 6) == pytest.approx(direct, abs=1e-15)
    assert label_entropy(torch.tensor(labels), 6) == label_entropy(labels, 6)
    assert label_entropy([3, 3, 3], 5) == 0.0  # one class only
    assert label_entropy(list(range(47)) * 2, 47) == pytest.approx(math.log(47), abs=1e-14)
    # unused classes (0 · log 0) neither add nor break anything
    assert label_entropy([0, 1], 2) == label_entropy([0, 1], 100)
    assert isinstance(label_entropy([0, 1], 2), float)


def test_label_entropy_refuses_bad_input():
    from bbal_tutorial.lessons.class_diversity import label_entropy

    with pytest.raises(ValueError, match="empty"):
        label_entropy([], 10)
    with pytest.raises(ValueError, match="0..9"):
        label_entropy([0, 10], 10)
    with pytest.raises(ValueError, match="at least 1"):
        label_entropy([0], 0)


def test_num_classes_per_dataset():
    from bbal_tutorial.lessons.class_diversity import num_classes

    assert [num_classes(d) for d in ("mnist", "repeated-mnist", "emnist")] == [10, 10, 47]
    with pytest.raises(ValueError, match="unknown dataset"):
        num_classes("cifar")


def test_estimate_run_seconds_adds_up_the_work_of_every_round():
    from bbal_tutorial.config import ExperimentConfig
    from bbal_tutorial.lessons.class_diversity import estimate_run_seconds

    # EMNIST-like: no initial labels, 2 acquisitions of b = 5 -> rounds with 0, 5, 10 labels
    config = ExperimentConfig(
        dataset="emnist",
        acquisition="bald",
        initial_per_class=0,
        acquisition_size=5,
        label_budget=10,
        samples_per_epoch=640,
        train_batch_size=64,
        validation_size=100,
        validation_mc_samples=2,
        test_mc_samples=3,
        mc_samples=4,
    )
    costs = dict(forward_seconds=0.001, train_step_seconds=0.01, select_seconds=0.5, epochs=2)
    seconds = estimate_run_seconds(config, pool_size=1000, test_size=200, **costs)
    train = 2 * 10 * 0.01 + 2 * 100 * 2 * 0.001  # per round with labels: 0.6
    test = 200 * 3 * 0.001  # every round: 0.6
    score = (1000 * 4 + 995 * 4) * 0.001  # rounds 0 and 1 score the shrinking pool
    assert seconds == pytest.approx(2 * train + 3 * test + score + 2 * 0.5)
    # random acquisition never scores the pool
    config.acquisition = "random"
    assert estimate_run_seconds(config, pool_size=1000, test_size=200, **costs) == pytest.approx(
        2 * train + 3 * test + 2 * 0.5
    )
    with pytest.raises(ValueError, match="epochs"):
        estimate_run_seconds(config, pool_size=1, test_size=1, **{**costs, "epochs": 0})


def test_measure_costs_times_the_model_and_the_acquisition_on_random_inputs():
    from bbal_tutorial.lessons.class_diversity import estimate_run_seconds, measure_costs
    from bbal_tutorial.presets import experiment_config

    config = experiment_config("emnist", "batchbald", 5, 0)
    config.mc_samples = 2
    config.num_samples = 100
    costs = measure_costs(
        config,
        pool_size=1000,
        acquisitions=["random", "batchbald"],
        measure_images=8,
        measure_pool=20,
        train_steps=1,
    )
    assert set(costs) == {"forward_seconds", "train_step_seconds", "select_seconds"}
    assert set(costs["select_seconds"]) == {"random", "batchbald"}
    assert 0 < costs["forward_seconds"] < 1 and 0 < costs["train_step_seconds"] < 60
    assert 0 < costs["select_seconds"]["random"] < costs["select_seconds"]["batchbald"] < 600
    select = costs["select_seconds"]["batchbald"]
    seconds = estimate_run_seconds(
        config,
        pool_size=1000,
        test_size=100,
        epochs=1,
        forward_seconds=costs["forward_seconds"],
        train_step_seconds=costs["train_step_seconds"],
        select_seconds=select,
    )
    assert seconds > 30 * select  # 30 acquisitions of b = 5 up to 150 labels


def test_label_diversity_summary_by_hand():
    import math

    from bbal_tutorial.lessons.class_diversity import label_diversity_summary

    def run(acquisition, seed, labels):
        return {
            "config": {"acquisition": acquisition, "acquisition_size": 2, "seed": seed},
            "rounds": [{"acquired_labels": labels[:2]}, {"acquired_labels": labels[2:]}],
        }

    runs = [
        run("bald", 0, [0, 0, 0, 0]),  # entropy 0, 2 classes never acquired
        run("bald", 1, [0, 1, 0, 1]),  # log 2, 1 never
        run("bald", 2, [0, 1, 2, 2]),  # H(1/4, 1/4, 1/2), 0 never
        run("random", 0, [0, 1, 2, 0]),
    ]
    bald, random_ = label_diversity_summary(runs, 3)
    assert (bald["acquisition"], bald["b"], bald["seeds"]) == ("bald", 2, 3)
    assert bald["labels acquired"] == 4
    assert bald["entropy (nats)"] == pytest.approx(math.log(2))  # the median of the three
    assert bald["share of log C"] == pytest.approx(math.log(2) / math.log(3))
    assert bald["least acquired class"] == 0 and bald["most acquired class"] == 2
    assert bald["classes never acquired"] == 1
    assert random_["seeds"] == 1 and random_["classes never acquired"] == 0
