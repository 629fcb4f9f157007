"""The README's index of formulas ("Where each formula lives") points at the right lines."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def formula_index() -> list[tuple[str, int, str]]:
    """(file, line, name) for every ``path:line`` `name` (or ``:line`` `name`, same file) cited."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Where each formula lives", 1)[1].split("\n## ", 1)[0]
    cited = []
    for row in section.splitlines():
        if not row.startswith("|"):
            continue
        where = row.rstrip("|").rsplit("|", 1)[-1]
        path = None
        for match in re.finditer(r"`?([\w/]+\.py)?:(\d+)`? `(\w+)`", where):
            path = match.group(1) or path
            if path is not None and "/" not in path:  # `information.py:401`: same package
                path = f"bbal_tutorial/{path}"
            cited.append((path, int(match.group(2)), match.group(3)))
    return cited


def test_the_index_cites_every_formula_module():
    files = {path for path, _, _ in formula_index()}
    assert {
        "bbal_tutorial/information.py",
        "bbal_tutorial/acquisition.py",
        "bbal_tutorial/_kernels.py",
        "bbal_tutorial/models.py",
    } <= files
    assert len(formula_index()) >= 20


def test_every_cited_line_holds_the_named_definition():
    for path, line, name in formula_index():
        text = (ROOT / path).read_text().splitlines()[line - 1]
        defines = re.match(rf"(def|class) {name}\b|{name}\b.*=", text.strip())
        assert defines, f"README cites {path}:{line} for {name}, but that line is: {text!r}"
