#!/usr/bin/env python3
"""The kit's commands; each sets up a local environment (.venv) first.

    python3 kit.py lab    open the lessons in JupyterLab
    python3 kit.py test   run every test: the code, the notebooks (nbval), the browser test
    python3 kit.py bench  run the benchmarks (about 3 minutes) and write bench/RESULTS.md
    python3 kit.py room   the workshop's projector page (--simulate N to rehearse; --help)
    python3 kit.py lite   build and serve the browser edition of lessons 00-03 (--build: only build)

Needs only Python 3.11+. Extra arguments go to JupyterLab, pytest or the benchmarks.
"""

from __future__ import annotations  # so that an old Python reaches the version check

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / "kit-installed.txt"
FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"


def wanted_stamp() -> str:
    """What the environment was built from: the Python version and pyproject.toml."""
    recipe = (ROOT / "pyproject.toml").read_bytes() + sys.version.encode()
    return hashlib.sha256(recipe).hexdigest()


def has_pip(python: str) -> bool:
    """Whether .venv's Python exists and has pip (a half-made .venv has not)."""
    if not Path(python).exists():
        return False
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    return subprocess.call([python, "-m", "pip", "--version"], **quiet) == 0


def set_up() -> None:
    """Create .venv and install the kit into it, unless it is already up to date."""
    if STAMP.exists() and STAMP.read_text() == wanted_stamp():
        return
    python = str(PYTHON)
    if not has_pip(python):
        print("Creating the environment in .venv ...", flush=True)
        try:
            venv.create(VENV, with_pip=True, clear=True)
        except subprocess.CalledProcessError:
            sys.exit(
                "Python could not create .venv with pip: install your system's venv package "
                "(on Debian or Ubuntu: sudo apt install python3-venv), then run this again."
            )
    print("Installing the kit and its dependencies (first time: a few minutes) ...", flush=True)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.call([*pip, "--editable", f"{ROOT}[test]"]) != 0:
        sys.exit(
            "Installing the kit failed (see pip's message above); fix that, then run this again."
        )
    STAMP.write_text(wanted_stamp())


def run(program: str, *args: str) -> int:
    """Run a program from .venv in the repository root, as if .venv were activated."""
    activated = {
        **os.environ,
        "VIRTUAL_ENV": str(VENV),
        "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""),
    }
    return subprocess.call([str(BIN / program), *args], cwd=ROOT, env=activated)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - kit.py may be started by any python3
        print("The kit needs Python 3.11 or newer; run this with python3.11 (or newer).")
        return 2
    command, *rest = argv or ["help"]
    if command not in ("lab", "test", "bench", "room", "lite"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    set_up()
    if command == "lab":
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        start_at = f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}"
        return run("jupyter", "lab", f"--ServerApp.root_dir={ROOT}", start_at, *as_root, *rest)
    if command == "bench":
        return run("python", "-m", "bench.run", *rest)
    if command == "room":
        return run("python", "-m", "smskit.room_command", *rest)
    if command == "lite":
        return run("python", "-m", "lite", *rest)
    return run("python", "-m", "pytest", *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
