"""Student versions of the course notebooks, made the way nbgrader's ``generate_assignment`` does.

The notebooks are written in nbgrader's format: an exercise's solution sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a cell whose metadata marks it as a solution
cell (``{"nbgrader": {"solution": true, ...}}``), and its check is a locked grade cell. This
module makes the student version without nbgrader installed:

* a solution region (markers included) becomes, at the marker's indentation::

      # YOUR CODE HERE
      raise NotImplementedError()

  in code cells, and ``YOUR ANSWER HERE`` in markdown cells; a solution cell without markers is
  replaced by the stub as a whole (nbgrader's ``ClearSolutions``);
* ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed from grade cells
  (nbgrader's ``ClearHiddenTests``);
* outputs and execution counts are stripped, and saved widget state is dropped.

As in nbgrader, a solution region outside a solution cell (or a hidden-test region outside a grade
cell), nested or unterminated markers are errors: they would leak or mangle a solution.
Instructors who grade with nbgrader should still run nbgrader's own ``generate_assignment``
(it adds checksums for the autograder); this module is for handing out the notebooks directly
and for the test that the student versions fail only inside exercise cells.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "CODE_STUB",
    "TEXT_STUB",
    "make_student_notebook",
    "solution_lines",
    "write_student_versions",
]


CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


TEXT_STUB = "YOUR ANSWER HERE"


BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"


BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _replace_regions(
    source: str, begin: str, end: str, stub: str | None, where: str
) -> tuple[str, bool]:
    """Replace each ``begin``..``end`` region (marker lines included) by ``stub`` (indented like
    the begin marker), or drop it when ``stub`` is None. Returns the new source and whether a
    region was found."""
    new_lines: list[str] = []
    inside = found = False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise ValueError(f"{where}: nested '{begin}' markers")
            inside = found = True
            if stub is not None:
                indent = re.match(r"\s*", line).group(0)
                new_lines.extend(indent + stub_line for stub_line in stub.split("\n"))
        elif end in line:
            if not inside:
                raise ValueError(f"{where}: '{end}' without a '{begin}' before it")
            inside = False
        elif not inside:
            new_lines.append(line)
    if inside:
        raise ValueError(f"{where}: '{begin}' without a matching '{end}'")
    return "\n".join(new_lines), found


def make_student_notebook(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The student version of ``nb`` (a new notebook; ``nb`` is not modified).

    ``name`` only labels error messages. Raises ``ValueError`` for a solution region outside a
    solution cell, a hidden-test region outside a grade cell, or unbalanced markers.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("celltoolbar", None)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        meta = _nbgrader(cell)
        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        cell.source, replaced = _replace_regions(
            cell.source, BEGIN_SOLUTION, END_SOLUTION, stub, where
        )
        if replaced and not meta.get("solution", False):
            raise ValueError(
                f"{where}: a solution region in a cell that is not a solution cell; mark the "
                'cell with {"nbgrader": {"solution": true, ...}} metadata or remove the markers'
            )
        if meta.get("solution", False) and not replaced:
            cell.source = stub
        cell.source, removed = _replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None, where)
        if removed and not meta.get("grade", False):
            raise ValueError(f"{where}: a hidden-test region in a cell that is not a grade cell")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    return nb


def solution_lines(nb: NotebookNode) -> list[str]:
    """The non-blank lines inside the solution and hidden-test regions of ``nb`` (for checking
    that a student version gives none of them away)."""
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if BEGIN_SOLUTION in line or BEGIN_HIDDEN in line:
                inside = True
            elif END_SOLUTION in line or END_HIDDEN in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def write_student_versions(notebook_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the student version of every ``*.ipynb`` in ``notebook_dir`` to ``out_dir``.

    Raises ``FileNotFoundError`` when ``notebook_dir`` is missing or holds no notebooks, and
    ``ValueError`` when ``out_dir`` is ``notebook_dir`` or inside it (the solutions would be
    overwritten, or the student versions picked up as course notebooks).
    """
    notebook_dir, out_dir = Path(notebook_dir), Path(out_dir)
    if not notebook_dir.is_dir():
        raise FileNotFoundError(f"notebook folder {notebook_dir} does not exist")
    source, target = notebook_dir.resolve(), out_dir.resolve()
    if target == source or source in target.parents:
        raise ValueError(
            f"the output folder {out_dir} must be outside the notebook folder {notebook_dir} "
            "(e.g. out/student/)"
        )
    paths = sorted(notebook_dir.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {notebook_dir}")
    # transform everything first, so an error leaves no half-written output folder behind
    versions = [
        (path.name, make_student_notebook(nbformat.read(path, as_version=4), path.name))
        for path in paths
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, nb in versions:
        out = out_dir / file_name
        nbformat.write(nb, out)
        written.append(out)
    return written
