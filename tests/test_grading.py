"""A real grading round trip with nbgrader itself, as an instructor runs it (README, "For
instructors"):

1. every course notebook is copied into a temporary course's ``source/<assignment>/``, outside
   this repository, and ``nbgrader generate_assignment`` makes the student versions;
2. a student who fills every solution stub with the solution code of the source notebooks is
   collected into ``submitted/<student>/<assignment>/`` and gets full marks from
   ``nbgrader autograde``; every cell of every notebook runs without an error there (the
   notebooks find the package and ``results/`` from any folder);
3. a student who answers one multiple-choice question wrongly (one notebook) loses exactly that
   grade cell's point and nothing else.

Autograding runs in fast mode (``BBAL_FAST=1``) within nbgrader's default per-cell timeout, which
the course's config leaves alone. Scores are read from the gradebook database through nbgrader's
``Gradebook`` API. Slow: about 3 minutes on 2 busy cores (``generate_assignment`` 10 s,
autograde 2.5 to 3 min).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

pytest.importorskip(
    "nbgrader",
    reason="nbgrader is not installed; it is in the dev extra: pip install -e '.[dev]'",
)
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402

from bbal_tutorial.exercises.questions import QUESTIONS  # noqa: E402
from bbal_tutorial.student import make_student_notebook  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
COURSE_ID = "bbal"
ASSIGNMENT = "course"
CORRECT, WRONG = "correct", "wrong"
#: The wrong student's only notebook: two grade cells, the multiple-choice question first, so
#: the exercise after the wrong answer must still score.
WRONG_NOTEBOOK = "07_limitations.ipynb"
#: nbgrader's default per-cell limit, which these notebooks must meet in fast mode
NBGRADER_CELL_TIMEOUT_S = 30

CHOICE_CHECK = re.compile(r'check_choice\(\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*strict=True\s*\)')


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _grade_points(nb) -> dict[str, float]:
    """``{grade_id: points}`` of the grade cells of ``nb``."""
    return {
        _nbgrader_meta(c)["grade_id"]: float(_nbgrader_meta(c)["points"])
        for c in nb.cells
        if _nbgrader_meta(c).get("grade")
    }


def _solution_regions(source: str) -> list[list[str]]:
    """The lines between each ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of a cell."""
    regions: list[list[str]] = []
    current: list[str] | None = None
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            current = []
        elif "END SOLUTION" in line:
            regions.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return regions


def _fill_in(released: str, regions: list[list[str]], where: str) -> str:
    """The released cell's source with each ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
    stub replaced by the solution lines of the matching region (they keep their indentation)."""
    lines, filled, remaining = released.split("\n"), [], list(regions)
    i = 0
    while i < len(lines):
        is_stub = lines[i].strip() == "# YOUR CODE HERE" and i + 1 < len(lines)
        if is_stub and lines[i + 1].strip() == "raise NotImplementedError()":
            assert remaining, f"{where}: more stubs in the released cell than solution regions"
            filled.extend(remaining.pop(0))
            i += 2
        else:
            filled.append(lines[i])
            i += 1
    assert not remaining, f"{where}: {len(remaining)} solution regions found no stub to fill"
    return "\n".join(filled)


def _answered(released_nb, source_nb, name: str):
    """A student's copy of ``released_nb`` with the source notebook's solution code in every
    solution cell (cells matched by nbgrader's ``grade_id``)."""
    solutions = {
        _nbgrader_meta(c)["grade_id"]: c.source
        for c in source_nb.cells
        if _nbgrader_meta(c).get("solution")
    }
    nb = nbformat.from_dict(released_nb)
    filled = 0
    for cell in nb.cells:
        meta = _nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        where = f"{name}, {meta['grade_id']}"
        assert cell.cell_type == "code", f"{where}: only code solutions are filled in here"
        regions = _solution_regions(solutions[meta["grade_id"]])
        cell.source = _fill_in(cell.source, regions, where)
        assert "NotImplementedError" not in cell.source, where
        filled += 1
    assert filled == len(solutions), f"{name}: {filled} solution cells of {len(solutions)} filled"
    return nb


def _answer_wrongly(nb, name: str) -> tuple[str, str]:
    """Change the answer to the first multiple-choice question of ``nb`` (in place) to a wrong
    option. Returns the question's grade cell id and the wrong option."""
    for cell in nb.cells:
        match = CHOICE_CHECK.search(cell.source) if _nbgrader_meta(cell).get("grade") else None
        if match:
            question, variable = match.groups()
            break
    else:
        raise AssertionError(f"{name} has no multiple-choice question graded by check_choice")
    correct = QUESTIONS[question].correct
    wrong = next(label for label in QUESTIONS[question].options if label != correct)
    answer = re.compile(rf'^(\s*{variable}\s*=\s*)"{correct}"\s*$', re.MULTILINE)
    changed = 0
    for c in nb.cells:
        if _nbgrader_meta(c).get("solution"):
            c.source, n = answer.subn(rf'\g<1>"{wrong}"', c.source)
            changed += n
    assert changed == 1, f"{name}: found {changed} lines `{variable} = {correct!r}` to change"
    return _nbgrader_meta(cell)["grade_id"], wrong


def _run_nbgrader(course: Path, *args: str, timeout_s: float) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in the course folder, in fast mode, with this interpreter's scripts
    first on PATH (nbgrader runs ``alembic`` by name to set up the gradebook) and no user-level
    Jupyter config (an instructor's ``~/.jupyter/nbgrader_config.py`` could raise the timeout)."""
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(course / ".jupyter-config"),
        BBAL_FAST="1",
        MPLBACKEND="Agg",
        TQDM_DISABLE="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    log = result.stdout + result.stderr
    errors = "\n".join(line for line in log.splitlines() if "| ERROR]" in line)
    command = " ".join(args)
    assert result.returncode == 0, f"nbgrader {command} failed:\n{errors}\n...\n{log[-4000:]}"
    return result


def _errors(nb) -> list[tuple[int, str, str]]:
    """``(cell index, grade_id or '')`` and a summary of every error in an executed notebook:
    error outputs (a timed-out cell is one: nbgrader's ``CellTimeoutError``) and tracebacks
    printed as text."""
    problems = []
    for index, cell in enumerate(nb.cells):
        grade_id = _nbgrader_meta(cell).get("grade_id", "")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append((index, grade_id, f"{output.ename}: {output.evalue[:300]}"))
            elif "Traceback (most recent call last)" in str(output):
                problems.append((index, grade_id, str(output)[:300]))
    return problems


@dataclass
class Round:
    """What a grading round left: the course folder, scores by student and notebook,
    ``{(notebook, grade_id): (score, max_score)}``, and the wall-clock seconds of each step."""

    course: Path
    sources: dict[str, nbformat.NotebookNode]
    scores: dict[str, dict[tuple[str, str], tuple[float | None, float]]]
    wrong_grade_id: str
    seconds: dict[str, float]

    def autograded(self, student: str, name: str):
        return nbformat.read(self.course / "autograded" / student / ASSIGNMENT / name, as_version=4)


@pytest.fixture(scope="module")
def grading_round(tmp_path_factory) -> Round:
    course = tmp_path_factory.mktemp("nbgrader-course")
    assert REPO not in course.parents, "the course must live outside the repository"
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}\n"
    )
    source_dir = course / "source" / ASSIGNMENT
    source_dir.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, source_dir / path.name)
    sources = {p.name: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    seconds = {}

    start = time.perf_counter()
    _run_nbgrader(course, "generate_assignment", ASSIGNMENT, timeout_s=300)
    seconds["generate_assignment"] = time.perf_counter() - start

    released = course / "release" / ASSIGNMENT
    wrong_grade_id = ""
    for student, names in ((CORRECT, [p.name for p in NOTEBOOKS]), (WRONG, [WRONG_NOTEBOOK])):
        submitted = course / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        for name in names:
            nb = _answered(nbformat.read(released / name, as_version=4), sources[name], name)
            if student == WRONG:
                wrong_grade_id, _ = _answer_wrongly(nb, name)
            nbformat.write(nb, submitted / name)
        (submitted / "timestamp.txt").write_text("2024-01-01 12:00:00.000000 UTC")

    start = time.perf_counter()
    _run_nbgrader(course, "autograde", ASSIGNMENT, timeout_s=900)
    seconds["autograde"] = time.perf_counter() - start

    scores: dict[str, dict] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in (CORRECT, WRONG):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            scores[student] = {
                (f"{notebook.name}.ipynb", grade.name): (grade.score, grade.max_score)
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
    print(f"\nnbgrader round trip: {seconds}")
    return Round(course, sources, scores, wrong_grade_id, seconds)


def test_the_course_config_keeps_nbgraders_default_timeout(grading_round):
    assert Execute.class_traits()["timeout"].default_value == NBGRADER_CELL_TIMEOUT_S
    assert "timeout" not in (grading_round.course / "nbgrader_config.py").read_text()


def test_generate_assignment_releases_what_make_student_writes(grading_round):
    """nbgrader's student versions have, cell for cell, the sources that ``make student``
    writes; nbgrader adds its checksums and locks the grade cells."""
    released = grading_round.course / "release" / ASSIGNMENT
    assert sorted(p.name for p in released.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    for name, source in grading_round.sources.items():
        theirs = nbformat.read(released / name, as_version=4)
        ours = make_student_notebook(source, name)
        assert [c.source for c in theirs.cells] == [c.source for c in ours.cells], name
        for cell in theirs.cells:
            meta = _nbgrader_meta(cell)
            if meta.get("grade"):
                assert meta.get("checksum") and cell.metadata.get("editable") is False, name


def test_a_correct_submission_gets_full_marks(grading_round):
    expected = {
        (name, grade_id): points
        for name, nb in grading_round.sources.items()
        for grade_id, points in _grade_points(nb).items()
    }
    assert expected, "the course has no grade cells"
    scores = grading_round.scores[CORRECT]
    assert set(scores) == set(expected)
    lost = {key: score for key, (score, _) in scores.items() if score != expected[key]}
    assert not lost, f"points lost by a correct submission: {lost}"
    assert all(max_score == expected[key] for key, (_, max_score) in scores.items())
    print(f"\n{CORRECT}: {sum(s for s, _ in scores.values())} / {sum(expected.values())} points")

    # every cell of every notebook ran without an error or a timeout, from the course folder
    # outside the repository; the experiment notebooks found the cached runs there
    for path in NOTEBOOKS:
        nb = grading_round.autograded(CORRECT, path.name)
        assert not _errors(nb), f"{path.name}, autograded: {_errors(nb)}"
        if path.name.startswith("04_"):
            printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
            loaded = re.search(r"(\d+) finished runs loaded", printed)
            assert loaded and int(loaded.group(1)) > 0, f"{path.name}: no cached runs loaded"


def test_one_wrong_answer_loses_exactly_that_point(grading_round):
    points = _grade_points(grading_round.sources[WRONG_NOTEBOOK])
    assert len(points) >= 2, f"{WRONG_NOTEBOOK} should have another grade cell to keep"
    wrong = grading_round.wrong_grade_id
    scores = {
        grade_id: score
        for (name, grade_id), (score, _) in grading_round.scores[WRONG].items()
        if name == WRONG_NOTEBOOK
    }
    assert scores == {g: (0.0 if g == wrong else p) for g, p in points.items()}, scores
    # the only error of the run is the check's AssertionError in that grade cell
    errors = _errors(grading_round.autograded(WRONG, WRONG_NOTEBOOK))
    assert [(grade_id, text.split(":")[0]) for _, grade_id, text in errors] == [
        (wrong, "AssertionError")
    ], errors
    print(f"\n{WRONG}: {sum(scores.values())} / {sum(points.values())} points in {WRONG_NOTEBOOK}")
