"""Every course notebook runs top to bottom, in fast mode (BBAL_FAST=1) and in the default mode,
under plain nbclient (what nbconvert, papermill and nbgrader use), without errors or stalls, and
is committed clean.

Fast mode runs every cell on tiny settings, in seconds; each cell stays under nbgrader's default
30 s limit so instructors can autograde the notebooks unchanged. The default mode is what a
student runs; the test that runs it is marked slow (about 5 minutes for the course) and CI runs it.

What the prose says about the default mode's output is checked there too. A markdown cell whose
text states a number or an ordering that its code cell does not print carries the claims as
Python expressions in its metadata, ``{"bbal": {"checks": ["summary['epig'] > ...", ...]}}``
(edit them in JupyterLab's property inspector); the default-mode run evaluates each one right
after that cell, in the notebook's own namespace, and fails on any that is false. Re-running the
cached results cannot then silently contradict the text.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
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


def _execute(path: Path, *, timeout: int, nb=None, allow_errors: bool = False):
    """Run a notebook the way a user's tool does: plain nbclient, the executor inside nbconvert,
    papermill and nbgrader, with its default handling of widgets (Output widgets emulated).
    Returns the executed notebook and its wall-clock seconds."""
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},  # run where the notebooks live
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


PROSE_CHECK_TAG = "bbal-prose-check"


def prose_checks(nb) -> list[tuple[int, str]]:
    """``(cell index, expression)`` for every claim the markdown cells carry in their metadata."""
    return [
        (index, check)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for check in cell.get("metadata", {}).get("bbal", {}).get("checks", [])
    ]


def with_prose_checks(nb):
    """A copy of ``nb`` with a code cell after each markdown cell that carries claims, asserting
    each one (tagged :data:`PROSE_CHECK_TAG`): a false claim is an error output of that cell."""
    checked = nbformat.from_dict(json.loads(json.dumps(nb)))  # a deep copy
    by_cell: dict[int, list[str]] = {}
    for index, check in prose_checks(nb):
        by_cell.setdefault(index, []).append(check)
    cells = []
    for index, cell in enumerate(checked.cells):
        cells.append(cell)
        if index in by_cell:
            source = "\n".join(
                f"assert {check}, {f'the prose of cell {index} claims: {check}'!r}"
                for check in by_cell[index]
            )
            cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [PROSE_CHECK_TAG]}))
    checked.cells = cells
    return checked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_checks_are_python_expressions(path):
    for index, check in prose_checks(nbformat.read(path, as_version=4)):
        compile(check, f"{path.name}, cell {index}", "eval")  # a SyntaxError names the cell


def test_a_false_prose_claim_fails_the_run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("accuracy = {'random': 0.34, 'batchbald': 0.31}"),
        nbformat.v4.new_markdown_cell(
            "BatchBALD beats random.",
            metadata={"bbal": {"checks": ["accuracy['batchbald'] > accuracy['random']"]}},
        ),
        nbformat.v4.new_markdown_cell(
            "Random beats BatchBALD.",
            metadata={"bbal": {"checks": ["accuracy['random'] > accuracy['batchbald']"]}},
        ),
    ]
    path = tmp_path / "claims.ipynb"
    nbformat.write(nb, path)
    executed, _ = _execute(path, timeout=60, nb=with_prose_checks(nb), allow_errors=True)
    problems = _error_outputs(executed)
    assert len(problems) == 1 and "the prose of cell 1 claims" in problems[0]


def _seconds_between(metadata: dict, start: str, end: str) -> float | None:
    if start not in metadata or end not in metadata:
        return None
    parse = datetime.fromisoformat
    return (parse(metadata[end]) - parse(metadata[start])).total_seconds()


def _stalls(nb, limit_s: float = 5.0) -> list[str]:
    """Cells after whose reply the executor waited more than ``limit_s`` for the kernel to go
    idle: a stall (the kernel's work was done, the executor sat waiting for a message)."""
    stalls = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        waited = _seconds_between(timing, "shell.execute_reply", "iopub.status.idle")
        if waited is not None and waited > limit_s:
            stalls.append(f"cell {index}: {waited:.0f} s between its reply and idle")
    return stalls


def _error_outputs(nb) -> list[str]:
    """Errors and tracebacks anywhere in the executed notebook: the cells' outputs, and what the
    panels' Output widgets captured (saved in the widget state)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {text[:500]}")
            elif "Traceback (most recent call last)" in text or "Error displaying widget" in text:
                problems.append(f"cell {index} printed an error: {text[:800]}")
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model_id, model in state.get("state", {}).items():
        text = json.dumps(model.get("state", {}).get("outputs", []))
        if "Traceback (most recent call last)" in text or '"output_type": "error"' in text:
            problems.append(f"widget {model_id} shows an error: {text[:800]}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_fast_mode(path, monkeypatch):
    monkeypatch.setenv("BBAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb, seconds = _execute(path, timeout=CELL_TIMEOUT_S)
    problems = _error_outputs(nb) + _stalls(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    print(f"{path.name}: {seconds:.1f} s in fast mode")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_under_papermill(path, monkeypatch, tmp_path):
    """papermill (fast mode): it injects parameters after the cell tagged ``parameters`` and
    executes with its own nbclient subclass; the widgets and panels must not stall it either."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("BBAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    out = tmp_path / path.name
    start = time.perf_counter()
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"TORCH_THREADS": 1},
        kernel_name="python3",
        cwd=str(path.parent),
        progress_bar=False,
        execution_timeout=CELL_TIMEOUT_S,
    )
    seconds = time.perf_counter() - start
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected, f"{path.name}: papermill found no cell tagged 'parameters'"
    problems = _error_outputs(nb) + _stalls(nb)
    assert not problems, f"{path.name} under papermill:\n" + "\n".join(problems)
    print(f"{path.name}: {seconds:.1f} s under papermill")


#: Per-cell limit in the default mode: far above any cell's work here (the slowest takes about
#: a minute on 2 busy cores), so a cell that reaches it has stalled or regressed.
DEFAULT_CELL_TIMEOUT_S = 600


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_default_mode_without_stalls(path, monkeypatch):
    """The default mode, as an instructor runs it before assigning a notebook (nbconvert,
    papermill and nbgrader all execute through nbclient): no errors, and no cell after which
    the executor waits for the kernel, so the run takes as long as its cells' work. Nothing is
    switched off that a user's run would have (progress bars, the inline backend): a panel that
    wrote through its Output widget's capture context made nbclient miss the cell's reply and
    wait for its timeout (see ``bbal_tutorial.widgets._run_in_output``)."""
    monkeypatch.delenv("BBAL_FAST", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    nb = with_prose_checks(nbformat.read(path, as_version=4))
    nb, seconds = _execute(path, timeout=DEFAULT_CELL_TIMEOUT_S, nb=nb, allow_errors=True)
    problems = _error_outputs(nb) + _stalls(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    checks = len(prose_checks(nb))
    busy = sum(
        _seconds_between(
            c.metadata.get("execution", {}), "iopub.execute_input", "iopub.status.idle"
        )
        or 0.0
        for c in nb.cells
    )
    # what is not a cell's work is the kernel's start and shutdown: seconds, not minutes
    assert seconds - busy < 60, f"{path.name}: {seconds:.0f} s wall for {busy:.0f} s of cells"
    print(f"{path.name}: {seconds:.1f} s in default mode ({busy:.1f} s in cells), {checks} claims")


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
    nb, _ = _execute(path, timeout=CELL_TIMEOUT_S, nb=nb, allow_errors=True)
    problems = _stalls(nb)
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
