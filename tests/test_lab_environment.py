"""The learner edition, as `kit.py lab` opens it, runs top to bottom in the environment `kit.py lab`
makes, and in no more; its checks fail in plain words on the blanks.

The environment is built by kit.py's own set_up with lab's groups (none: the lessons' packages
alone), into a temporary .venv, so a package only the test tools bring (gunicorn was one) cannot
hide: each learner notebook then runs once, in that environment's own Python and JupyterLab tools,
with errors allowed. Every check cell must fail with CheckFailed and a one-sentence message (not a
NameError traceback), and every other cell must still run. The blanks keep each solution's
imports, so a module a lesson needs still shows here. That the same checks pass on the solutions
is what nbval proves on notebooks/, in the run that also tries the wrong answers.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import kit
from smskit.learner import CHECK_TAG, build
from tests.support import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))

pytestmark = pytest.mark.notebook  # runs every lesson in a real kernel


@pytest.fixture(scope="module")
def lab_environment(tmp_path_factory):
    """A .venv made exactly as `python3 kit.py lab` makes one, in a temporary folder."""
    venv = tmp_path_factory.mktemp("lab") / ".venv"
    bin_folder = venv / ("Scripts" if os.name == "nt" else "bin")
    where = {
        "VENV": venv,
        "BIN": bin_folder,
        "PYTHON": bin_folder / ("python.exe" if os.name == "nt" else "python"),
        "STAMP": venv / "kit-installed.json",
        "LAB_SETTINGS": venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, path in where.items():
            patch.setattr(kit, name, path)
        kit.set_up(kit.COMMANDS["lab"].extras)
    return where["BIN"]


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """The learner edition, built once into a temporary folder."""
    out = tmp_path_factory.mktemp("learner")
    build(ROOT / "notebooks", out)
    return out


def mistakes_in(notebook: dict) -> tuple[list[str], int]:
    """What is wrong in a run learner notebook, and how many checks failed as they should: a
    check must fail once, with CheckFailed and one sentence; other cells must not fail (unless
    tagged raises-exception), and no output may say "No module named"."""
    found, checks = [], 0
    for cell in notebook["cells"]:
        where, tags = cell.get("id"), cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if CHECK_TAG in tags:
            checks += 1
            if len(errors) != 1:
                found.append(f"{where}: the check passed on a blank answer")
            elif errors[0]["ename"] != "CheckFailed":
                found.append(f"{where}: {errors[0]['ename']}: {errors[0]['evalue']}")
            elif errors[0]["traceback"] != [f"✗ Not yet: {errors[0]['evalue']}"]:
                found.append(f"{where}: the check's message is not one line: {errors[0]}")
            elif not errors[0]["evalue"].endswith(".") or "\n" in errors[0]["evalue"]:
                found.append(f"{where}: not one sentence: {errors[0]['evalue']}")
        elif errors and "raises-exception" not in tags:
            found += [
                f"{where} fails without its exercise: {e['ename']}: {e['evalue']}" for e in errors
            ]
        for output in cell.get("outputs", []):
            if "No module named" in "".join(output.get("text", "")):
                found.append(f"{where}: {''.join(output['text']).strip()}")
    return found, checks


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_learner_lesson_runs_in_the_lab_environment_and_fails_its_checks_in_plain_words(
    lab_environment, learner, path, tmp_path
):
    env = {
        **os.environ,
        "PATH": str(lab_environment) + os.pathsep + os.environ.get("PATH", ""),
        "VIRTUAL_ENV": str(lab_environment.parent),
        "SMSKIT_OFFLINE": "1",
    }
    env.pop("PYTHONPATH", None)  # the test's own .venv must not leak in
    done = subprocess.run(
        [lab_environment / "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--allow-errors", "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path),
         path.name],
        cwd=learner, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found, checks = mistakes_in(json.loads((tmp_path / path.name).read_text()))
    assert found == [] and checks >= 1, found
