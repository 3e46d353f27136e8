"""The learner edition: how it is built, and its checks' committed outputs on the solutions.

That its checks fail in plain words on the blanks is proven where each learner notebook runs,
once, in the environment `kit.py lab` makes (tests/test_lab_environment.py). That the same checks
pass on the solutions is what nbval proves on notebooks/ (it reruns them and compares their
committed outputs); here we make sure those committed outputs are the checks' ✓ lines.
"""

import subprocess
import sys

import nbformat
import pytest

from smskit.learner import (
    CHECK_TAG,
    SOLUTION_TAG,
    YOUR_ANSWER,
    YOUR_CODE,
    NotBlankable,
    blank_code,
    main,
)
from smskit.lessons import catalogue
from tests.support import ROOT

NOTEBOOKS = ROOT / "notebooks"
LESSONS = [lesson.notebook for lesson in catalogue()[1:]]  # every lesson after 00 has exercises


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def with_exercises() -> list[str]:
    """The notebooks that have at least one solution cell."""
    return [
        path.stem
        for path in sorted(NOTEBOOKS.glob("*.ipynb"))
        if any(SOLUTION_TAG in tags(c) for c in nbformat.read(path, as_version=4).cells)
    ]


@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_has_two_exercises_each_followed_by_its_check(name):
    cells = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells
    solutions = [i for i, cell in enumerate(cells) if SOLUTION_TAG in tags(cell)]
    assert len(solutions) >= 2
    for i in solutions:
        assert CHECK_TAG in tags(cells[i + 1]), f"{name}: no check right after cell {i + 1}"


@pytest.mark.parametrize("name", with_exercises())
def test_the_solutions_committed_outputs_show_each_check_passing(name):
    for cell in nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells:
        if CHECK_TAG in tags(cell):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert text.startswith("✓ "), f"{name}: a check's saved output is {cell.outputs}"


def test_a_blank_keeps_signatures_docstrings_imports_and_names_but_no_answer():
    solution = '''
import re
from json import loads

def parse(header: str) -> dict:
    """Turn a header into a dict."""
    return dict(pair.split("=", 1) for pair in re.split("; ", header))

answer: int = 42
print(loads("1"))
'''
    blank = blank_code(solution)
    assert "import re\nfrom json import loads" in blank
    assert (
        f'def parse(header: str) -> dict:\n    """Turn a header into a dict."""\n    {YOUR_CODE}'
        in blank
    )
    assert f"answer = {YOUR_ANSWER}" in blank
    assert "split" not in blank and "42" not in blank and "print" not in blank
    compile(blank, "blank", "exec")


def test_a_solution_the_builder_cannot_blank_is_named_in_one_sentence():
    with pytest.raises(NotBlankable, match="plain names only"):
        blank_code("answers[0] = 1")
    with pytest.raises(NotBlankable, match="plain Python"):
        blank_code("%timeit 1 + 1")


def test_the_command_keeps_the_learners_work_unless_forced(tmp_path, capsys):
    out = tmp_path / "learner"
    assert main(["--source", str(NOTEBOOKS), "--out", str(out)]) == 0
    mine = out / "01_http_cookies.ipynb"
    mine.write_text(mine.read_text().replace("your code here", "my own answer"))
    assert main(["--source", str(NOTEBOOKS), "--out", str(out)]) == 0
    assert "my own answer" in mine.read_text()
    assert "kept, it is already there" in capsys.readouterr().out
    assert main(["--source", str(NOTEBOOKS), "--out", str(out), "--force"]) == 0
    assert "my own answer" not in mine.read_text()


def test_the_command_refuses_bad_folders_in_one_sentence(tmp_path, capsys):
    assert main(["--source", str(tmp_path / "nowhere")]) == 2
    assert main(["--source", str(NOTEBOOKS), "--out", str(NOTEBOOKS)]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("No notebooks in ") and said[1].startswith("The learner edition")


@pytest.mark.integration  # starts a Python process
def test_python_m_smskit_learner_runs_from_the_kits_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "smskit.learner", "--out", str(tmp_path / "learner")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "01_http_cookies.ipynb: 2 exercises to do" in done.stdout
    assert (tmp_path / "learner" / "03_sms_conversations.ipynb").exists()
