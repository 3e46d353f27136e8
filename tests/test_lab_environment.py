"""Every solved lesson runs, top to bottom, in the environment `kit.py lab` makes, and in no more.

The environment is built by kit.py's own set_up with lab's groups (none: the lessons' packages
alone), into a temporary .venv, so a package only the test tools bring (gunicorn was one) cannot
hide: each lesson then runs in that environment's own Python and JupyterLab tools.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import kit
from tests.support import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))


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


def errors_in(notebook: dict) -> list[str]:
    """The error outputs of cells not tagged raises-exception, and any "No module named"."""
    found = []
    for cell in notebook["cells"]:
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" and not expected:
                found.append(f"{cell.get('id')}: {output['ename']}: {output['evalue']}")
            if "No module named" in "".join(output.get("text", "")):
                found.append(f"{cell.get('id')}: {''.join(output['text']).strip()}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_solved_lesson_runs_in_the_lab_environment(lab_environment, path, tmp_path):
    env = {
        **os.environ,
        "PATH": str(lab_environment) + os.pathsep + os.environ.get("PATH", ""),
        "VIRTUAL_ENV": str(lab_environment.parent),
        "SMSKIT_OFFLINE": "1",
    }
    env.pop("PYTHONPATH", None)  # the test's own .venv must not leak in
    done = subprocess.run(
        [lab_environment / "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path), path.name],
        cwd=path.parent, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert errors_in(json.loads((tmp_path / path.name).read_text())) == []
