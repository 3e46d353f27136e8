"""Honest minutes: each lesson's "Time to learn" follows the rule notebook 00 states.

Reading at about 100 words a minute, half a minute for each code cell and about 8 minutes for
each exercise, rounded to 5. A lesson that grows without its minutes growing fails here.
"""

import re
from pathlib import Path

import nbformat
import pytest

from smskit.lessons import catalogue

NOTEBOOKS = [Path(__file__).parent.parent / "notebooks" / lesson.file for lesson in catalogue()]
STATED = re.compile(r"\*\*Time to learn:\*\* about (\d+) minutes(?:, and (\d+) more)?")


def estimate(notebook) -> float:
    """Minutes by the rule: words / 100 + code cells / 2 + 8 per exercise."""
    words = sum(len(c.source.split()) for c in notebook.cells if c.cell_type == "markdown")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    exercises = sum("solution" in c.metadata.get("tags", []) for c in code)
    return words / 100 + len(code) / 2 + 8 * exercises


def stated(notebook) -> int:
    """The minutes a lesson's header promises (04's "and N more to go live" included)."""
    for cell in notebook.cells:
        found = STATED.search(cell.source) if cell.cell_type == "markdown" else None
        if found:
            return int(found[1]) + int(found[2] or 0)
    raise AssertionError("no '**Time to learn:** about N minutes' line")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_lessons_minutes_follow_the_stated_rule(path):
    notebook = nbformat.read(path, as_version=4)
    expected = 5 * round(estimate(notebook) / 5)
    assert abs(stated(notebook) - expected) <= 5, (
        f"{path.name} says {stated(notebook)} minutes; by the rule in 00 it is about {expected}"
    )


def test_the_catalogue_gives_each_lessons_own_minutes():
    for lesson, path in zip(catalogue(), NOTEBOOKS, strict=True):
        assert lesson.minutes + lesson.go_live == stated(nbformat.read(path, as_version=4)), path
