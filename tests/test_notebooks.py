"""Every course notebook runs top to bottom in fast mode (BBAL_FAST=1) and is committed clean.

Fast mode is the CI mode: every cell runs, on tiny settings, in seconds. Each cell must also stay
under nbgrader's default 30 s limit so instructors can autograde the notebooks unchanged.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 30  # nbgrader's default per-cell limit


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run `nbstripout {path}`"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} holds saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_fast_mode(path, monkeypatch):
    monkeypatch.setenv("BBAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # nbclient emulates Output widgets by echoing captured output back to the kernel, which can
    # stall a cell until its timeout (nbclient issue #312). Without that emulation, what a panel
    # prints (a traceback, too) lands in the cell's outputs, where the checks below see it.
    client.comm_open_handlers = {}
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            assert output.get("output_type") != "error", f"{path.name}: {text[:500]}"
            assert "Error displaying widget" not in text
            assert "Traceback (most recent call last)" not in text, f"{path.name}: {text[:800]}"
    print(f"{path.name}: {seconds:.1f} s in fast mode")


def _is_exercise_cell(cell) -> bool:
    """An nbgrader solution cell or grade (check) cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("solution") or meta.get("grade"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_fails_only_in_exercise_cells(path, monkeypatch):
    """The student version (``python -m bbal_tutorial student``) runs top to bottom in fast mode:
    every error is a NotImplementedError in an exercise cell, every check cell fails that way
    (no check passes on the stub), and every other cell runs cleanly -- nothing after an exercise
    depends on the student's answer."""
    from bbal_tutorial.student import make_student_notebook

    monkeypatch.setenv("BBAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = make_student_notebook(nbformat.read(path, as_version=4), path.name)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},  # run where the course notebooks live
    )
    client.comm_open_handlers = {}  # as in test_notebook_runs_in_fast_mode
    client.execute()
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not errors:
            problems.append(f"cell {index} ({meta['grade_id']}): the check passed on the stub")
        for error in errors:
            if not _is_exercise_cell(cell) or error.ename != "NotImplementedError":
                problems.append(f"cell {index}: {error.ename}: {error.evalue[:300]}")
        if not _is_exercise_cell(cell):
            text = json.dumps(cell.outputs)
            if "Traceback (most recent call last)" in text or "Error displaying widget" in text:
                problems.append(f"cell {index} printed an error: {text[:500]}")
    assert not problems, f"{path.name} (student version):\n" + "\n".join(problems)
