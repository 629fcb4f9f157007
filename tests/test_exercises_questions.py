"""Tests for bbal_tutorial.exercises.questions: multiple-choice answers are checked with their
hints, and the notebooks ask only registered questions, showing their options word for word."""

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from bbal_tutorial import exercises
from bbal_tutorial.exercises import questions as ex_questions

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def test_choice_right_wrong_and_unanswered(capsys):
    q = exercises.QUESTIONS["02-log-k-ceiling"]
    wrong = next(label for label in q.options if label != q.correct)
    assert exercises.check_choice("02-log-k-ceiling", q.correct) is True
    assert capsys.readouterr().out.startswith(f"✓ question 02-log-k-ceiling: ({q.correct})")
    assert exercises.check_choice("02-log-k-ceiling", f" ({q.correct.upper()}) ") is True
    assert exercises.check_choice("02-log-k-ceiling", q.correct, strict=True) is None
    assert exercises.check_choice("02-log-k-ceiling", wrong) is False
    assert q.hints[wrong] in capsys.readouterr().out
    assert exercises.check_choice("02-log-k-ceiling", "z") is False
    with pytest.raises(AssertionError, match="not"):
        exercises.check_choice("02-log-k-ceiling", wrong, strict=True)
    with pytest.raises(NotImplementedError):
        exercises.check_choice("02-log-k-ceiling", None)
    with pytest.raises(KeyError, match="no question"):
        exercises.check_choice("99-missing", "a")


def test_question_validates_itself():
    with pytest.raises(ValueError, match="correct"):
        ex_questions.Question(prompt="?", options={"a": "x"}, correct="b")
    with pytest.raises(ValueError, match="hints"):
        ex_questions.Question(prompt="?", options={"a": "x"}, correct="a", hints={"c": "no"})
    assert "(a) x" in ex_questions.Question(prompt="?", options={"a": "x"}, correct="a").text()


def test_every_question_has_hints_for_every_option():
    for key, q in exercises.QUESTIONS.items():
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", key), key
        assert set(q.hints) == set(q.options), key
        for label, hint in q.hints.items():
            assert isinstance(hint, str) and len(hint.split()) >= 5, (key, label)


def test_right_answers_sit_at_varied_positions():
    """Not every answer is the same letter, and no letter answers more than half the questions."""
    positions = Counter(q.correct for q in exercises.QUESTIONS.values())
    assert len(positions) > 1, positions
    assert max(positions.values()) <= math.ceil(len(exercises.QUESTIONS) / 2), positions


def test_right_option_is_not_given_away_by_its_length():
    """In some questions a distractor is at least as long as the answer, and every distractor is
    at least two thirds of the answer's length (so that "pick the longest" is no strategy)."""
    distractor_as_long = 0
    for key, q in exercises.QUESTIONS.items():
        answer = len(q.options[q.correct])
        distractors = [len(text) for label, text in q.options.items() if label != q.correct]
        assert min(distractors) >= 2 / 3 * answer, (key, answer, distractors)
        distractor_as_long += max(distractors) >= answer
    assert distractor_as_long >= 1
    assert distractor_as_long >= len(exercises.QUESTIONS) / 2


def _notebook_sources():
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        yield path, ["".join(cell["source"]) for cell in cells]


def test_notebooks_only_ask_registered_questions():
    used = set()
    for path, sources in _notebook_sources():
        for source in sources:
            for key in re.findall(r"check_choice\(\s*\"([^\"]+)\"", source):
                assert key in exercises.QUESTIONS, f"{path.name} asks unregistered {key!r}"
                used.add(key)
    assert {"00-one-sample", "02-log-k-ceiling", "03-independent-masks"} <= used


def test_notebook_questions_show_the_registered_options():
    """The options a notebook prints in its markdown are the registered ones, word for word."""
    for path, sources in _notebook_sources():
        text = "\n".join(sources)
        for key in set(re.findall(r"check_choice\(\s*\"([^\"]+)\"", text)):
            if key[:2] not in ("00", "01", "02", "03"):
                continue  # the later notebooks' authors format their questions themselves
            for label, option in exercises.QUESTIONS[key].options.items():
                assert f"({label}) {option}" in " ".join(text.split()), (path.name, key, label)
