"""Student versions: solution regions become nbgrader's stub, nothing of a solution is left, and
the course notebooks are valid nbgrader assignments."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bbal_tutorial import cli as cli
from bbal_tutorial.student import (
    CODE_STUB,
    TEXT_STUB,
    make_student_notebook,
    solution_lines,
    write_student_versions,
)

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# the notebooks this part of the course guarantees exercises for
WITH_EXERCISES = [p for p in NOTEBOOKS if p.name[:2] in ("00", "01", "02", "03")]


def _meta(solution=False, grade=False, grade_id="x"):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = 1
    return {"nbgrader": meta}


def _notebook(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_solution_region_becomes_the_indented_stub():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return secret_answer(x)\n"
        "    ### END SOLUTION\n"
        "\n"
        "print(f(1))"
    )
    cell = new_code_cell(source, metadata=_meta(solution=True))
    cell.outputs = [new_output("stream", name="stdout", text="42\n")]
    cell.execution_count = 3
    nb = _notebook(cell)
    student = make_student_notebook(nb)
    assert student.cells[0].source == (
        'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
        "\nprint(f(1))"
    )
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert "widgets" not in student.metadata
    assert student.cells[0].metadata == cell.metadata  # nbgrader metadata kept
    assert nb.cells[0].source == source and nb.cells[0].outputs  # input untouched


def test_several_regions_and_a_region_at_top_level():
    region = "### BEGIN SOLUTION\n{}\n### END SOLUTION"
    source = "a = None\n" + region.format("a = 1") + "\n" + region.format("b = 2")
    student = make_student_notebook(_notebook(new_code_cell(source, metadata=_meta(True))))
    assert student.cells[0].source == f"a = None\n{CODE_STUB}\n{CODE_STUB}"


def test_solution_cells_without_markers_are_replaced_whole():
    nb = _notebook(
        new_code_cell("answer = 42", metadata=_meta(True)),
        new_markdown_cell("It is 42 because ...", metadata=_meta(True)),
        new_markdown_cell("Intro ### BEGIN nothing", metadata={}),
    )
    student = make_student_notebook(nb)
    assert [c.source for c in student.cells] == [CODE_STUB, TEXT_STUB, "Intro ### BEGIN nothing"]


def test_markdown_solution_region_becomes_the_text_stub():
    source = "Explain:\n=== BEGIN SOLUTION ===\nBecause of X.\n=== END SOLUTION ===\nEnd."
    student = make_student_notebook(_notebook(new_markdown_cell(source, metadata=_meta(True))))
    assert student.cells[0].source == f"Explain:\n{TEXT_STUB}\nEnd."


def test_hidden_tests_are_removed_from_grade_cells():
    source = "check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\ndone()"
    nb = _notebook(new_code_cell(source, metadata=_meta(grade=True)))
    assert make_student_notebook(nb).cells[0].source == "check(f)\ndone()"


@pytest.mark.parametrize(
    "source, metadata, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", {}, "not a solution cell"),
        ("### BEGIN SOLUTION\nx = 1", _meta(True), "without a matching"),
        ("x = 1\n### END SOLUTION", _meta(True), "without a 'BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", _meta(True), "nested"),
        ("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS", {}, "not a grade cell"),
    ],
)
def test_malformed_regions_are_errors(source, metadata, message):
    nb = _notebook(new_code_cell(source, metadata=metadata))
    with pytest.raises(ValueError, match=message):
        make_student_notebook(nb, "demo.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_text_is_left_in_the_student_version(path):
    nb = nbformat.read(path, as_version=4)
    student = make_student_notebook(nb, path.name)
    text = json.dumps(student)
    # every line of every cell of the student version, against every solution line (a bare ")"
    # or "return x" that closes a solution also closes other code, so only lines with substance)
    student_lines = {line.strip() for cell in student.cells for line in cell.source.split("\n")}
    substantial = [line for line in solution_lines(nb) if len(line) >= 10]
    leaked = [line for line in substantial if line in student_lines]
    # long lines must not appear anywhere, metadata and outputs included
    leaked += [line for line in substantial if len(line) >= 25 and json.dumps(line)[1:-1] in text]
    assert not leaked, f"{path.name}: solution lines left in the student version: {leaked}"
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "HIDDEN TESTS" not in text
    assert len(student.cells) == len(nb.cells)
    for original, cell in zip(nb.cells, student.cells, strict=True):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            assert cell.source == original.source  # only solution cells change
        else:
            code_stub = (
                "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
            )
            assert code_stub or TEXT_STUB in cell.source


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_course_notebooks_have_exercises_in_nbgrader_format(path):
    """Each solution cell is followed by its locked grade cell, with the metadata nbgrader writes;
    grade ids are unique."""
    cells = nbformat.read(path, as_version=4).cells
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    assert ids and len(ids) == len(set(ids)), ids
    solutions = [
        i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("solution", False)
    ]
    assert 1 <= len(solutions) <= 3, f"{path.name}: {len(solutions)} exercises"
    for i in solutions:
        meta = cells[i].metadata["nbgrader"]
        assert meta == {
            "grade": False,
            "grade_id": meta["grade_id"],
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
        assert "### BEGIN SOLUTION" in cells[i].source and "### END SOLUTION" in cells[i].source
        check = cells[i + 1]
        assert check.metadata["nbgrader"] == {
            "grade": True,
            "grade_id": f"{meta['grade_id']}-check",
            "locked": True,
            "points": 1,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        assert "exercises.check_" in check.source and "strict=True" in check.source


def test_write_student_versions(tmp_path):
    out = tmp_path / "out" / "student"
    written = write_student_versions(NOTEBOOK_DIR, out)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert not solution_lines(nb)  # no solution regions left to strip


def test_write_student_versions_refuses_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_student_versions(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        write_student_versions(tmp_path / "empty", tmp_path / "out")
    for bad in (NOTEBOOK_DIR, NOTEBOOK_DIR / "student", NOTEBOOK_DIR / ".." / "notebooks" / "x"):
        with pytest.raises(ValueError, match="outside the notebook folder"):
            write_student_versions(NOTEBOOK_DIR, bad)
    assert not (NOTEBOOK_DIR / "student").exists()


def test_a_bad_notebook_leaves_no_output(tmp_path):
    source = tmp_path / "course"
    source.mkdir()
    good = _notebook(new_code_cell("x = 1"))
    bad = _notebook(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    nbformat.write(good, source / "a.ipynb")
    nbformat.write(bad, source / "b.ipynb")
    with pytest.raises(ValueError, match="b.ipynb, cell 0"):
        write_student_versions(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_student(tmp_path, capsys):
    assert cli.main(["student", str(NOTEBOOK_DIR), str(tmp_path / "student")]) == 0
    printed = capsys.readouterr().out
    assert f"{len(NOTEBOOKS)} student notebooks written" in printed
    assert cli.main(["student", str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["student", str(NOTEBOOK_DIR), str(NOTEBOOK_DIR)]) == 2
    assert "outside the notebook folder" in capsys.readouterr().err
