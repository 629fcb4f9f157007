"""Measure how long each course notebook takes in its default mode, and write the numbers into the
course tables (``notebooks/00_start_here.ipynb`` and ``README.md``) so that none is typed by hand.

    python benchmarks/notebook_times.py                 # measure all notebooks, update both tables
    python benchmarks/notebook_times.py --check         # measure, and fail if a table is stale
    python benchmarks/notebook_times.py 05 06           # only notebooks whose name starts so
    python benchmarks/notebook_times.py --fast          # fast mode (BBAL_FAST=1): recorded only

Each notebook runs top to bottom in a fresh kernel under plain nbclient (the executor of
nbconvert, papermill and nbgrader), as a student's "Run All" does, with ``BBAL_FAST`` unset.
Recorded per notebook: the wall-clock seconds and the kernel's CPU seconds (user + system, from
the kernel process, children included). The tables show the CPU seconds, rounded up to whole
seconds: on a busy machine the wall clock grows, the CPU time does not.

The 00 table cell of a notebook reads e.g. ``under 30 s (16 s measured)``: the script replaces
the measured number and picks the bound from :data:`BOUNDS` (the first one above the
measurement). The README's table gets the same bound in its short form. Writes
``benchmarks/results/notebook-times.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
START_HERE = NOTEBOOK_DIR / "00_start_here.ipynb"
README = REPO / "README.md"
RESULTS = REPO / "benchmarks" / "results" / "notebook-times.json"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info  # noqa: E402  (benchmarks/ is not a package)

#: (seconds, the 00 table's words, the README's short form), in increasing order.
BOUNDS = (
    (10, "a few seconds", "seconds"),
    (20, "about 10 s", "< 20 s"),
    (30, "under 30 s", "< 30 s"),
    (60, "under a minute", "< 1 min"),
    (120, "under 2 minutes", "< 2 min"),
    (300, "under 5 minutes", "< 5 min"),
)


def bound_for(seconds: float) -> tuple[str, str]:
    """The first bound of :data:`BOUNDS` above ``seconds``: (long words, short form)."""
    for limit, words, short in BOUNDS:
        if seconds < limit:
            return words, short
    raise ValueError(f"{seconds:.0f} s is beyond every bound: a notebook must run in minutes")


def measure(path: Path, timeout_s: int = 900, *, fast: bool = False) -> dict[str, float]:
    """Execute ``path`` in default mode (``fast``: with ``BBAL_FAST=1``); its wall-clock and
    kernel CPU seconds."""
    env_fast = os.environ.pop("BBAL_FAST", None)
    if fast:
        os.environ["BBAL_FAST"] = "1"
    # as a student's run: progress bars and the inline backend as they are
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        with client.setup_kernel():
            kernel = psutil.Process(client.km.provisioner.pid)
            before = kernel.cpu_times()
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            wall = time.perf_counter() - start
            after = kernel.cpu_times()
    finally:
        os.environ.pop("BBAL_FAST", None)
        if env_fast is not None:
            os.environ["BBAL_FAST"] = env_fast
    cpu = sum(
        getattr(after, name) - getattr(before, name)
        for name in ("user", "system", "children_user", "children_system")
    )
    return {"wall_seconds": wall, "cpu_seconds": cpu}


def update_start_here(times: dict[str, dict[str, float]], date: str) -> bool:
    """Write the measured CPU seconds and their bounds into 00's course table; True if changed."""
    nb = json.loads(START_HERE.read_text())
    changed = False
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if "| run time (CPU) |" not in text:
            continue
        new = re.sub(
            r"measured on 2 CPU cores \(\d{4}-\d{2}-\d{2}, ",
            f"measured on 2 CPU cores ({date}, ",
            text,
        )
        for name, measured in times.items():
            seconds = math.ceil(measured["cpu_seconds"])
            words, _ = bound_for(seconds)
            pattern = rf"(\| `{re.escape(name)}` \|.*?\| )[^|]*?\(\d+ s measured\)( \|)"
            new = re.sub(pattern, rf"\g<1>{words} ({seconds} s measured)\g<2>", new)
        if new != text:
            lines = new.split("\n")
            cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
            changed = True
    if changed:
        START_HERE.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def update_readme(times: dict[str, dict[str, float]]) -> bool:
    """Write the bounds into the README's course table (its last column); True if changed."""
    text = README.read_text()
    new = text
    for name, measured in times.items():
        _, short = bound_for(math.ceil(measured["cpu_seconds"]))
        stem = re.escape(name.removesuffix(".ipynb"))
        new = re.sub(rf"^(\| `{stem}` \|.*\| )[^|]+( \|)$", rf"\g<1>{short}\g<2>", new, flags=re.M)
    if new != text:
        README.write_text(new)
    return new != text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose name starts so")
    parser.add_argument("--check", action="store_true", help="fail if a table would change")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="measure fast mode (BBAL_FAST=1) instead; recorded apart, the tables are not touched",
    )
    args = parser.parse_args()
    paths = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(args.prefixes))]
    times = {}
    for path in paths:
        times[path.name] = measure(path, fast=args.fast)
        t = times[path.name]
        print(
            f"{path.name}: {t['cpu_seconds']:.1f} s CPU, {t['wall_seconds']:.1f} s wall", flush=True
        )
    date = datetime.date.today().isoformat()
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = "fast_mode" if args.fast else "notebooks"
    recorded |= {"date": date, "machine": machine_info(), key: {**recorded.get(key, {}), **times}}
    RESULTS.write_text(json.dumps(recorded, indent=1) + "\n")
    if args.fast:
        return
    if args.check:
        stale = [
            name for name, t in times.items() if not _table_says(name, math.ceil(t["cpu_seconds"]))
        ]
        if stale:
            sys.exit(f"the course table is stale for {stale}: run benchmarks/notebook_times.py")
        return
    changed = [
        f
        for f, c in (("00", update_start_here(times, date)), ("README", update_readme(times)))
        if c
    ]
    print("updated:", ", ".join(changed) if changed else "nothing (tables already agree)")


def _table_says(name: str, seconds: int) -> bool:
    """Whether 00's table shows this notebook within the bound its measurement falls in."""
    text = START_HERE.read_text()
    words, _ = bound_for(seconds)
    return (
        re.search(rf"`{re.escape(name)}`[^\n]*\| {re.escape(words)} \(\d+ s measured\)", text)
        is not None
    )


if __name__ == "__main__":
    main()
