"""Tests for bbal_tutorial.results: the run record, reading and writing it, and the summaries."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from bbal_tutorial.results import (
    RESULTS_FORMAT,
    RunRecord,
    _upgrade,
    format_table,
    group_by_method,
    labels_to_reach,
    labels_to_reach_summary,
    load_results,
    method_summary,
    result_name,
    round_cost_seconds,
    rounds_to_reach,
    run_summary,
    save_results,
    seconds_to_reach,
    write_json_atomic,
)

REPO = Path(__file__).resolve().parents[1]


def _committed_results() -> list[Path]:
    """The results files git tracks (runs still in progress in ``results/`` are not committed);
    every ``results/*.json`` outside a git checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "results/*.json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return sorted((REPO / "results").glob("*.json"))
    return sorted(REPO / name for name in listed)


COMMITTED = _committed_results()


def _reaching(*accuracies):
    return [{"test_accuracy": a} for a in accuracies]


def _acquiring(*batches, accuracies=None):
    """Rounds acquiring ``batches`` of originals (``select_seconds`` 0.1, 0.2, ...), then a final
    round that acquires nothing."""
    rounds, n = [], 20
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


#: Fields added to the results format after files were committed, and what a file without them
#: reads as (its data folder and provenance note, and each round's CPU seconds: not recorded;
#: ``min_epochs``: 1, the behaviour before the setting existed).
ADDED_FIELDS = {"dataset_dir": "", "dataset_provenance": ""}
ADDED_CONFIG_FIELDS = {"min_epochs": 1}
ADDED_ROUND_FIELDS = {"cpu_seconds": None}


@pytest.mark.skipif(not COMMITTED, reason="no committed results/")
def test_every_committed_results_file_round_trips_exactly():
    for path in COMMITTED:
        raw = json.loads(path.read_text())
        run = load_results(path)
        # same keys in the same order: what the loop writes is what the file holds, except that
        # files written before a field existed lack it and read as its "not recorded" default
        written = run.to_dict()
        expected = _upgrade(dict(raw))
        for key, absent in ADDED_FIELDS.items():
            if key not in expected:
                assert written.pop(key) == absent, (path.name, key)
        for key, absent in ADDED_CONFIG_FIELDS.items():
            if key not in expected["config"]:
                assert written["config"].pop(key) == absent, (path.name, key)
        for record, raw_record in zip(written["rounds"], expected["rounds"], strict=True):
            for key, absent in ADDED_ROUND_FIELDS.items():
                if key not in raw_record:
                    assert record.pop(key) == absent, (path.name, key)
        assert json.dumps(written) == json.dumps(expected), path.name
        assert run.path == path and run.finished
        tag = path.name.split(f"-{run.acquisition}-")[0]
        assert path.name == result_name(tag, run.acquisition, run.b, run.seed)


def test_format_1_files_are_read_as_format_2(tmp_path, run_record):
    run = run_record("bald", 5, rounds=_reaching(0.5, 0.8), config={"label_budget": 30})
    old = run.to_dict()
    old["format"] = "bbal_tutorial.results/1"
    old["config"] = {
        {"acquisition_size": "batch_size", "label_budget": "max_labels"}.get(k, k): v
        for k, v in old["config"].items()
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert load_results(tmp_path / "old.json") == run
    assert load_results(tmp_path / "old.json").to_dict()["format"] == RESULTS_FORMAT


def test_save_and_load_round_trip(tmp_path, run_record):
    run = run_record("batchbald", 10, seed=2, rounds=_acquiring([1, 2], [3, 3]))
    save_results(run, tmp_path / "run.json")
    loaded = load_results(tmp_path / "run.json")
    assert loaded == run and loaded.path == tmp_path / "run.json"
    assert (loaded.acquisition, loaded.b, loaded.seed) == ("batchbald", 10, 2)
    assert loaded.labels == [20, 22, 24] and loaded.accuracies == [0.5] * 3


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results file"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not a bbal_tutorial results file"):
        load_results(tmp_path / "other.json")
    (tmp_path / "partial.json").write_text(json.dumps({"format": RESULTS_FORMAT, "config": {}}))
    with pytest.raises(ValueError, match="incomplete results file"):
        load_results(tmp_path / "partial.json")


def test_write_json_atomic_leaves_no_temporary_files_and_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "r.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_seconds_add_up_every_phase_of_every_round(run_record):
    run = run_record(
        rounds=[
            {"train_seconds": 1.0, "eval_seconds": 0.5, "predict_seconds": 0.25},
            {"select_seconds": 0.125},
        ]
    )
    assert run.rounds[0].seconds == 1.75 and run.seconds == 1.875


def test_seconds_to_reach_sums_the_cost_of_every_round_up_to_the_target(run_record):
    rounds = [
        {"test_accuracy": 0.5, "cpu_seconds": 2.0, "train_seconds": 9.0},
        {"test_accuracy": 0.8, "cpu_seconds": 3.0, "train_seconds": 9.0},
        {"test_accuracy": 0.9, "cpu_seconds": 4.0},
    ]
    run = run_record(rounds=rounds)
    assert seconds_to_reach(run, 0.8) == 5.0  # CPU seconds where recorded
    assert seconds_to_reach(run, 0.5) == 2.0 and seconds_to_reach(run, 0.95) is None
    old = run_record(rounds=[{"test_accuracy": 0.9, "train_seconds": 1.5, "eval_seconds": 0.5}])
    assert round_cost_seconds(old.rounds[0]) == 2.0  # older records: the wall clock
    assert seconds_to_reach(old, 0.9) == 2.0
    row = method_summary([run], 0.8)[0]
    assert row["seconds (per seed)"] == [5.0] and row["median seconds"] == 5.0
    assert row["run seconds"] == 9.0


def test_labels_and_rounds_to_reach(run_record):
    run = run_record("bald", 5, rounds=_reaching(0.5, 0.7, 0.85))
    assert labels_to_reach(run, 0.8) == 30 and labels_to_reach(run, 0.5) == 20
    assert labels_to_reach(run, 0.9) is None
    assert rounds_to_reach(run, 0.8) == 3 and rounds_to_reach(run, 0.5) == 1
    assert rounds_to_reach(run, 0.9) is None


def test_labels_to_reach_summary_counts_never_as_infinite(run_record):
    runs = [run_record(rounds=_reaching(0.5, a)) for a in (0.95, 0.8, 0.85)]
    assert labels_to_reach_summary(runs, 0.9) == {
        "per_seed": [30, None, None],
        "median": None,
        "reached": 1,
        "seeds": 3,
    }
    assert labels_to_reach_summary(runs, 0.8)["median"] == 30
    assert labels_to_reach_summary([], 0.8)["median"] is None


def test_group_by_method_keeps_input_order(run_record):
    runs = [run_record("bald", 5, 0), run_record("random", 5, 0), run_record("bald", 5, 1)]
    groups = group_by_method(runs)
    assert list(groups) == [("bald", 5), ("random", 5)]
    assert [r.seed for r in groups[("bald", 5)]] == [0, 1]


def test_rounds_and_method_summary_and_table(run_record):
    def run(acquisition, b, seed, accuracies):
        batches = [[seed * 100 + i * b + j for j in range(b)] for i in range(len(accuracies) - 1)]
        return run_record(acquisition, b, seed, _acquiring(*batches, accuracies=accuracies))

    a = run("bald", 5, 0, [0.5, 0.7, 0.85])
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
    assert format_table([]) == "(no rows)"


def test_run_summary_says_what_ran_and_where_it_went(run_record):
    run = run_record(
        "bald",
        2,
        3,
        [{"test_accuracy": 0.5}, {"test_accuracy": 0.91, "test_nll": 0.25}],
        config={"dataset": "mnist", "mc_samples": 4},
    )
    lines = run_summary(run, Path("out/x.json"), 12.4).splitlines()
    assert lines == [
        "bald on mnist (b=2, K=4, seed 3) -- test data",
        "  2 rounds, 22 labelled points, final test accuracy 0.910 (NLL 0.250)",
        "  labels to reach 90%: 22",
        "  took 12 s; results in out/x.json",
    ]
    unfinished = run_record(rounds=_reaching(0.5))
    assert "not reached" in run_summary(unfinished, None, 0.0)
    assert run_summary(unfinished, None, 0.0).endswith("took 0 s")


def test_result_names():
    assert result_name("repeated-mnist", "bald", 10, 2) == "repeated-mnist-bald-b10-seed2.json"


def test_run_record_is_read_only(run_record):
    run = run_record()
    with pytest.raises(AttributeError):
        run.finished = "now"  # type: ignore[misc]
    assert isinstance(run, RunRecord)
