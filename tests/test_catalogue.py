"""One lesson catalogue: notebooks/lessons.toml is the only list of lessons.

00's route table and the README's table must be what the catalogue writes, the catalogue must
name every notebook, and a new lesson (a temporary catalogue with a lesson 06) must reach every
list the kit keeps: the tables, the export, the tests' and the benchmark's.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from smskit import lessons
from smskit.lessons import catalogue, readme_table, route_table
from tests.support import ROOT

SIX = """
[[lesson]]
notebook = "06_webhooks_at_scale"
title = "Webhooks at scale"
learn = "many servers, one store"
minutes = 50
editions = ["desktop", "browser"]
exports = true
browser_key_cells = ["c001"]
"""


def test_the_catalogue_names_every_notebook_in_order():
    on_disk = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))
    assert [lesson.notebook for lesson in catalogue()] == on_disk


def test_the_route_in_00_is_the_catalogues():
    cells = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4).cells
    route = next(c.source for c in cells if "| Notebook | What you learn |" in c.source)
    table = [line for line in route.splitlines() if line.startswith("|")]
    assert "\n".join(table) == route_table(), "write 00's route as smskit.lessons.route_table()"


def test_the_readmes_table_is_the_catalogues():
    assert readme_table() in (ROOT / "README.md").read_text(encoding="utf-8")


LISTS = """
import json, sys
from pathlib import Path
from smskit import lessons
lessons.CATALOGUE = Path(sys.argv[1])
import bench.lite, tests.test_learner_edition, tests.test_lite, tests.test_minutes
print(json.dumps({
    "bench lite": bench.lite.LESSONS,
    "test_lite": tests.test_lite.LESSONS,
    "test_lite key cells": list(tests.test_lite.KEY_CELLS),
    "test_learner_edition": tests.test_learner_edition.LESSONS,
    "test_minutes": [p.stem for p in tests.test_minutes.NOTEBOOKS],
    "export": lessons.exported(),
    "route": lessons.route_table(),
    "readme": lessons.readme_table(),
}))
"""


@pytest.mark.integration  # starts a process
def test_a_lesson_06_is_one_catalogue_entry_and_reaches_every_list(tmp_path):
    temporary = tmp_path / "lessons.toml"
    temporary.write_text(lessons.CATALOGUE.read_text(encoding="utf-8") + SIX, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", LISTS, str(temporary)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip  (a fresh interpreter: the lists are made when their modules are imported)
    lists = json.loads(done.stdout)
    for name, found in lists.items():
        assert "06_webhooks_at_scale" in json.dumps(found), f"lesson 06 is missing from {name}"
    assert lists["export"][-1] == "06_webhooks_at_scale.ipynb"
    assert "[06 Webhooks at scale](06_webhooks_at_scale.ipynb)" in lists["route"]
