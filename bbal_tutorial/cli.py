"""Command line: ``python -m bbal_tutorial run | plot | demo | reproduce | student``.

``run`` is one active-learning experiment written to a JSON results file (resumable);
``plot`` draws results files; ``demo`` and ``reproduce`` are the README's headless jobs;
``student`` writes the notebooks' student versions (exercise solutions removed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

from bbal_tutorial.acquisition import ACQUISITION_NAMES
from bbal_tutorial.config import EPIG_TARGET_SOURCES, ExperimentConfig
from bbal_tutorial.data import DATASET_NAMES
from bbal_tutorial.loop import run_experiment
from bbal_tutorial.plotting import plot_runs_summary
from bbal_tutorial.presets import config_from_choices, make_config
from bbal_tutorial.results import labels_to_reach, load_results, result_name, run_summary
from bbal_tutorial.student import write_student_versions
from bbal_tutorial.sweeps import reproduce, run_many

DEFAULT_OUT_DIR = Path("out")


# `make demo`: three methods on Repeated MNIST with the teaching preset, one seed, a shorter
# label budget, so that the whole comparison takes under 10 minutes on 2 CPU cores.
DEMO_METHODS = ("random", "bald", "batchbald")


DEMO_OVERRIDES: dict[str, Any] = dict(label_budget=100)


#: The ``run`` options that choose a setting (argparse's names; None when not given).
RUN_CHOICES = (
    "acquisition",
    "acquisition_size",
    "mc_samples",
    "num_samples",
    "initial_per_class",
    "label_budget",
    "seed",
    "data_source",
    "epig_targets",
    "epig_target_source",
)


def _run_name(config: ExperimentConfig) -> str:
    return result_name(config.dataset, config.acquisition, config.acquisition_size, config.seed)


def cmd_run(args: argparse.Namespace) -> int:
    choices = {name: getattr(args, name) for name in RUN_CHOICES}
    config = config_from_choices(args.preset, args.dataset, choices)
    out = Path(args.out) if args.out else DEFAULT_OUT_DIR / _run_name(config)
    start = time.perf_counter()
    run = run_experiment(
        config,
        out,
        data_dir=args.data_dir,
        download=True if args.download else None,
        device=args.device,
        resume=not args.no_resume,
        progress=not args.quiet,
    )
    print(run_summary(run, out, time.perf_counter() - start))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    matplotlib.use("Agg")
    runs = [load_results(path) for path in args.results]
    num_classes = args.num_classes if args.histogram else None
    fig = plot_runs_summary(runs, num_classes=num_classes)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"figure written to {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    matplotlib.use("Agg")
    out_dir = Path(args.out_dir)
    start = time.perf_counter()
    configs = [
        make_config(args.preset, "repeated-mnist", acquisition=m, seed=args.seed, **DEMO_OVERRIDES)
        for m in DEMO_METHODS
    ]
    jobs = [(_run_name(config), config) for config in configs]
    paths = run_many(
        jobs, out_dir, data_dir=args.data_dir, device=args.device, progress=not args.quiet
    )
    runs = [load_results(p) for p in paths]
    fig = plot_runs_summary(runs, num_classes=10)
    figure = out_dir / "demo-repeated-mnist.png"
    fig.savefig(figure, dpi=120)
    print(
        "\nRepeated MNIST (every image 3 times in the pool), one seed:\n"
        "  method      distinct images per batch of 10   mean accuracy   labels to 80% / 90%"
    )
    for run in runs:
        acquiring = [r for r in run.rounds if r.acquired_indices]
        distinct = sum(len(set(r.acquired_original_indices)) for r in acquiring)
        mean_accuracy = sum(run.accuracies) / len(run.rounds)
        reach = [labels_to_reach(run, a) for a in (0.8, 0.9)]
        print(
            f"  {run.acquisition:<10}  {distinct / len(acquiring):>22.1f}"
            f"   {mean_accuracy:>17.3f}   "
            + " / ".join("-" if r is None else str(r) for r in reach)
        )
    print(
        "\nBALD spends its labels on copies of the same images; BatchBALD does not. One seed is "
        "noisy: `make reproduce` runs 3 seeds to 200 labels (see benchmarks/README.md)."
    )
    print(f"\nDemo finished in {time.perf_counter() - start:.0f} s. Figure: {figure.resolve()}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    if args.preset != "teaching":
        raise ValueError(
            "reproduce writes the teaching-preset runs the notebooks read; for paper-scale runs "
            "use `python -m bbal_tutorial run --preset paper ...` (see the README)"
        )
    reproduce(
        args.out_dir,
        experiments=args.experiments,
        seeds=args.seeds,
        jobs=args.jobs,
        scheduler=args.scheduler,
        download=args.download,
        data_dir=args.data_dir,
        device=args.device,
        progress=not args.quiet,
    )
    return 0


def cmd_student(args: argparse.Namespace) -> int:
    written = write_student_versions(args.notebooks, args.out)
    for path in written:
        print(f"  {path}")
    print(f"{len(written)} student notebooks written to {args.out}/ (solutions removed)")
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="teaching", choices=("teaching", "paper"))
    p.add_argument(
        "--data-dir", default=None, help="dataset folder (default: data/ or $BBAL_DATA_DIR)"
    )
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bbal_tutorial",
        description="Bayesian deep active learning with BALD and BatchBALD.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one active-learning experiment")
    run.add_argument("--dataset", default="repeated-mnist", choices=DATASET_NAMES)
    run.add_argument("--acquisition", default="batchbald", choices=ACQUISITION_NAMES)
    run.add_argument(
        "-b", "--acquisition-size", "--batch-size", type=int, help="acquisition size b"
    )
    run.add_argument("--mc-samples", type=int, help="K, MC-dropout samples (scoring and test)")
    run.add_argument("--num-samples", type=int, help="BatchBALD's sampled-configuration budget")
    run.add_argument(
        "--epig-targets",
        type=int,
        metavar="M",
        help="EPIG: target inputs x* per round, drawn afresh (default 100)",
    )
    run.add_argument(
        "--epig-target-source",
        choices=EPIG_TARGET_SOURCES,
        help="EPIG: draw the targets from the unlabelled pool (default) or the test set's inputs",
    )
    run.add_argument("--initial-per-class", type=int)
    run.add_argument(
        "--label-budget", "--max-labels", type=int, help="stop at this many labelled points"
    )
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--data-source", choices=("auto", "full", "sample"))
    run.add_argument(
        "--download", action="store_true", help="download the dataset (EMNIST: ~540 MB)"
    )
    run.add_argument(
        "--out", help="results JSON (default: out/<dataset>-<method>-b<b>-seed<s>.json)"
    )
    run.add_argument(
        "--no-resume", action="store_true", help="refuse to continue an existing --out"
    )
    _add_common(run)
    run.set_defaults(func=cmd_run)

    plot = sub.add_parser("plot", help="plot accuracy curves of results files")
    plot.add_argument(
        "results", nargs="+", help="results JSON files (seeds of a method are pooled)"
    )
    plot.add_argument("--out", default="out/curves.png", help="figure file (.png or .svg)")
    plot.add_argument("--histogram", action="store_true", help="add acquired-class histograms")
    plot.add_argument("--num-classes", type=int, default=10)
    plot.set_defaults(func=cmd_plot)

    demo = sub.add_parser("demo", help="Repeated MNIST: random vs BALD vs BatchBALD (minutes)")
    demo.add_argument("--out-dir", default="out/demo")
    demo.add_argument("--seed", type=int, default=0)
    _add_common(demo)
    demo.set_defaults(func=cmd_demo)

    reproduce_parser = sub.add_parser("reproduce", help="write the results/ the notebooks read")
    reproduce_parser.add_argument("--out-dir", default="results")
    reproduce_parser.add_argument("--seeds", type=int, nargs="*", help="only these seeds")
    reproduce_parser.add_argument(
        "--experiments",
        nargs="*",
        help="only these experiments (default: all but emnist, which needs its data: "
        "--data-dir or --download)",
    )
    reproduce_parser.add_argument(
        "--download", action="store_true", help="download missing datasets (EMNIST: ~540 MB)"
    )
    reproduce_parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at once, each in its own single-threaded process (results are identical); "
        "with --scheduler local, the number of Dask workers",
    )
    reproduce_parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask cluster: its scheduler's address (tcp://host:8786), or 'local' for a "
        "LocalCluster of --jobs single-threaded workers; one task per round, results written "
        "here (needs pip install -e '.[cluster]')",
    )
    _add_common(reproduce_parser)
    reproduce_parser.set_defaults(func=cmd_reproduce)

    student = sub.add_parser(
        "student", help="write student versions of the notebooks (solutions removed)"
    )
    student.add_argument("notebooks", help="folder of course notebooks (e.g. notebooks/)")
    student.add_argument("out", help="output folder, outside the notebook folder (out/student/)")
    student.set_defaults(func=cmd_student)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
