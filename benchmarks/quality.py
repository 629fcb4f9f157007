"""Quality check: does the teaching preset reproduce the paper's Repeated MNIST result?

    python benchmarks/quality.py [results/]

Reads the Repeated MNIST runs written by `make reproduce` (random, BALD, BatchBALD; b = 10;
several seeds) and reports, per method, the labelled points each seed needs to reach 80% and 90%
test accuracy, and how often (over the labelled-set sizes of the curve) the medians are ordered
as in the paper: BatchBALD above BALD, BALD at or below random. Writes the figure
benchmarks/results/quality-repeated-mnist.png and benchmarks/results/quality.json.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from bbal_tutorial.plotting import curve_statistics, plot_runs_summary
from bbal_tutorial.results import labels_to_reach, load_results

METHODS = ("random", "bald", "batchbald")


def main() -> None:
    results_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    runs = {
        m: [load_results(p) for p in sorted(results_dir.glob(f"repeated-mnist-{m}-b10-seed*.json"))]
        for m in METHODS
    }
    missing = [m for m, r in runs.items() if not r]
    if missing:
        raise SystemExit(f"no results for {missing} in {results_dir}/; run `make reproduce` first")
    lines = [
        "| method | seeds | labels to 80% (per seed) | labels to 90% (per seed) | median to 90% |",
        "|---|---|---|---|---|",
    ]
    summary = {}
    for method, group in runs.items():
        reach80 = [labels_to_reach(r, 0.8) for r in group]
        reach90 = [labels_to_reach(r, 0.9) for r in group]
        reached = [x for x in reach90 if x is not None]
        median90 = statistics.median(reached) if len(reached) == len(reach90) else None
        fmt = lambda xs: ", ".join("—" if x is None else str(x) for x in xs)  # noqa: E731
        lines.append(
            f"| {method} | {len(group)} | {fmt(reach80)} | {fmt(reach90)} | "
            f"{median90 if median90 is not None else 'not reached by every seed'} |"
        )
        summary[method] = {
            "seeds": [r.seed for r in group],
            "to80": reach80,
            "to90": reach90,
        }
    curves = {m: curve_statistics(g) for m, g in runs.items()}
    n = curves["random"][0]
    median = {m: dict(zip(c[0].tolist(), c[1].tolist(), strict=True)) for m, c in curves.items()}
    sizes = [x for x in n.tolist() if all(x in median[m] for m in METHODS) and x > n[0]]
    batchbald_over_bald = sum(median["batchbald"][x] > median["bald"][x] for x in sizes)
    bald_under_random = sum(median["bald"][x] <= median["random"][x] for x in sizes)
    ordering = (
        f"Over the {len(sizes)} labelled-set sizes after the first round: BatchBALD's median "
        f"accuracy is above BALD's at {batchbald_over_bald}, and BALD's is at or below random's at "
        f"{bald_under_random}."
    )
    table = "\n".join(lines)
    print(table + "\n\n" + ordering)
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    fig = plot_runs_summary([r for g in runs.values() for r in g], num_classes=10)
    fig.savefig(out_dir / "quality-repeated-mnist.png", dpi=110)
    first = runs["batchbald"][0]
    (out_dir / "quality.json").write_text(
        json.dumps(
            {
                "results_dir": str(results_dir),
                "dataset_source": first.dataset_source,
                "config": first.config.to_dict(),
                "per_method": summary,
                "table": table,
                "ordering": ordering,
                "sizes_compared": len(sizes),
                "batchbald_over_bald": batchbald_over_bald,
                "bald_at_or_below_random": bald_under_random,
            },
            indent=1,
        )
    )
    print(f"\nfigure: {out_dir / 'quality-repeated-mnist.png'}")


if __name__ == "__main__":
    main()
