#!/usr/bin/env python3
"""The kit's commands; all but lock set up a local environment (.venv) from the lock first.

    python3 kit.py lab    open your copy of the lessons (learner/) in JupyterLab;
                          lab --solutions opens notebooks/, where the exercises are solved
    python3 kit.py test   run every test: the code, the notebooks (nbval), the browser test;
                          test --fast runs the unit layer only
    python3 kit.py bench  run the benchmarks (about half an hour) and write bench/RESULTS.md
    python3 kit.py room   the workshop's projector page (--simulate N to rehearse; --help)
    python3 kit.py lock   write requirements.lock from pyproject.toml (after changing dependencies)
    python3 kit.py lite   build and serve the browser edition of lessons 00-03 (--build: only build)
    python3 kit.py site   build and serve the course website, with the browser edition inside it

Needs only Python 3.11+. Extra arguments go to JupyterLab, pytest or the benchmarks.
`lab` installs what the lessons need; `lite` adds the site's build tools; `test` and `bench` add
those and the test tools. All install the exact versions in requirements.lock, with uv when it
can be had from the package index (seconds) and with pip otherwise (a minute or two);
SMSKIT_NO_UV=1 makes it use pip.
"""

from __future__ import annotations  # so that an old Python reaches the version check

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
LOCK_COMMAND = "python3 kit.py lock"
LOCK_PYTHON = "3.11"  # the oldest Python the kit supports; the lock holds for it and newer ones
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / "kit-installed.json"
LAB_SETTINGS = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
# JupyterLab asks to fetch news in a pop-up that covers the bottom of the cells; the kit says no.
# https://jupyterlab.readthedocs.io/en/stable/user/announcements.html
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


class Trouble(Exception):
    """Something the user must fix; its message says what, in one sentence."""


# --- the lock ---------------------------------------------------------------------------------


def dependency_digest(pyproject: Path) -> str:
    """A digest of what pyproject.toml asks for: Python version, dependencies, every extra."""
    import tomllib

    project = tomllib.loads(pyproject.read_text())["project"]
    asked = {key: project.get(key) for key in ("requires-python", "dependencies")}
    asked["optional-dependencies"] = project.get("optional-dependencies", {})
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def digest_line(digest: str) -> str:
    return f"# pyproject.toml dependencies sha256: {digest}"


def lock_is_current(lock: Path, pyproject: Path) -> bool:
    """Whether the lock was written from pyproject.toml's dependencies as they are now."""
    return lock.exists() and digest_line(dependency_digest(pyproject)) in lock.read_text()


def check_lock(strict: bool) -> None:
    """Say when pyproject.toml and the lock disagree: an error if strict, else a warning."""
    if lock_is_current(LOCK, PYPROJECT):
        return
    problem = (
        f"pyproject.toml's dependencies changed since {LOCK.name} was written: "
        f"run `{LOCK_COMMAND}` and commit {LOCK.name}."
    )
    if strict:
        raise Trouble(problem)
    print(f"Warning: {problem} Until then the new packages are not pinned.", flush=True)


def write_lock(uv: str) -> None:
    """Resolve every group of pyproject.toml to exact versions, for every platform, into LOCK."""
    compiled = subprocess.run(
        [uv, "pip", "compile", str(PYPROJECT.relative_to(ROOT)), "--all-extras", "--universal",
         "--python-version", LOCK_PYTHON, "--no-header", "--quiet"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if compiled.returncode != 0:
        raise Trouble(f"uv could not resolve pyproject.toml: {compiled.stderr.strip()}")
    header = [
        "# The exact versions the kit installs. Do not edit: after changing pyproject.toml's",
        f"# dependencies, run `{LOCK_COMMAND}` and commit this file with it.",
        digest_line(dependency_digest(PYPROJECT)),
    ]
    LOCK.write_text("\n".join(header) + "\n" + compiled.stdout)
    pinned = [line for line in compiled.stdout.splitlines() if line[:1] not in ("", " ", "#")]
    print(f"Wrote {LOCK.name} ({len(pinned)} pinned packages).")


# --- the environment --------------------------------------------------------------------------


def wanted(extras: tuple[str, ...]) -> dict:
    """What .venv must be built from: this Python, the lock and the groups asked for."""
    return {
        "python": sys.version,
        "lock": hashlib.sha256(LOCK.read_bytes()).hexdigest() if LOCK.exists() else None,
        "extras": sorted(extras),
    }


def up_to_date(extras: tuple[str, ...]) -> bool:
    """Whether .venv already holds the lock's versions of these groups (or more groups)."""
    try:
        have = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return False
    want = wanted(extras)
    same = all(have.get(key) == want[key] for key in ("python", "lock"))
    return same and set(want["extras"]) <= set(have.get("extras", []))


def has_pip(python: Path) -> bool:
    """Whether .venv's Python exists and has pip (a half-made .venv has not)."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    return python.exists() and subprocess.call([python, "-m", "pip", "--version"], **quiet) == 0


def make_venv() -> None:
    """Create .venv with pip (pip is the fallback, and learners' %pip needs it)."""
    if has_pip(PYTHON):
        return
    print("Creating the environment in .venv ...", flush=True)
    try:
        venv.create(VENV, with_pip=True, clear=True)
    except subprocess.CalledProcessError:
        raise Trouble(
            "Python could not create .venv with pip: install your system's venv package "
            "(on Debian or Ubuntu: sudo apt install python3-venv), then run this again."
        ) from None


def pip(*args: str, quiet: bool = True) -> int:
    hush = ["--quiet"] if quiet else ["--progress-bar", "off"]  # a line per package, no bars
    return subprocess.call([PYTHON, "-m", "pip", *args, *hush, "--disable-pip-version-check"])


def find_uv() -> str | None:
    """uv from PATH or .venv, else installed into .venv (made first) from the package index."""
    found = shutil.which("uv") or shutil.which("uv", path=str(BIN))
    if found or os.environ.get("SMSKIT_NO_UV"):
        return found
    pip("install", "uv")
    return shutil.which("uv", path=str(BIN))


def install(extras: tuple[str, ...]) -> None:
    """Install the kit (editable) and these groups into .venv, at the lock's exact versions."""
    make_venv()
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    pinned = ["--constraint", str(LOCK), "--editable", target]
    uv = find_uv()
    groups = f" and {', '.join(extras)}" if extras else ""
    print(f"Installing the kit{groups} with {'uv' if uv else 'pip'} ...", flush=True)
    if uv:  # uv says what it resolved, downloaded and installed, step by step
        done = subprocess.call([uv, "pip", "install", "--python", PYTHON, *pinned])
    else:
        done = pip("install", *pinned, quiet=False)
    if done != 0:
        raise Trouble("Installing the kit failed (see the message above); fix that, run again.")
    LAB_SETTINGS.parent.mkdir(parents=True, exist_ok=True)
    LAB_SETTINGS.write_text(json.dumps(NO_NEWS, indent=2) + "\n")
    STAMP.write_text(json.dumps(wanted(extras)))


def set_up(extras: tuple[str, ...]) -> None:
    """Make .venv hold the lock's versions of these groups, unless it already does."""
    check_lock(strict=bool(extras))  # lessons go on with a warning; tests and CI stop
    if not up_to_date(extras):
        install(extras)


def run(program: str, *args: str) -> int:
    """Run a program from .venv in the kit's folder, as if .venv were activated.

    Ctrl-C and SIGTERM reach the program too, so stopping kit.py never leaves it running.
    """
    activated = {
        **os.environ,
        "VIRTUAL_ENV": str(VENV),
        "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""),
    }
    child = subprocess.Popen([str(BIN / program), *args], cwd=ROOT, env=activated)

    def forward(signum: int, _frame: object) -> None:
        if os.name == "nt":  # Windows sends Ctrl-C to the child itself; it has no SIGINT to send
            child.terminate()
        else:
            child.send_signal(signum)

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, forward)
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


# --- the commands -----------------------------------------------------------------------------


def lab(args: list[str]) -> int:
    """JupyterLab at the learner edition (built on first use, never overwritten) or solutions."""
    folder = "notebooks"
    if "--solutions" in args:
        args.remove("--solutions")
    elif run("python", "-m", "smskit.learner", "--quiet") == 0:
        folder = "learner"
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    start_at = f"--LabApp.default_url=/lab/tree/{folder}/00_start_here.ipynb"
    # answer_yes: Ctrl-C stops JupyterLab at once instead of asking "Shut down (y/[n])?"
    return run(
        "jupyter", "lab", f"--ServerApp.root_dir={ROOT}", start_at, "--ServerApp.answer_yes=True",
        *as_root, *args,
    )  # fmt: skip


def test(args: list[str]) -> int:
    """pytest on every core, naming each test as it ends (the run takes minutes), unless told how
    loud to be or how many workers to use; --fast runs the unit layer only (no kernels, no browser,
    no servers) in one process, since starting workers would take longer than its tests."""
    fast = "--fast" in args
    if fast:
        args = ["-m", "unit", *(a for a in args if a != "--fast")]
    told = any(a.startswith(("-q", "-v", "--quiet", "--verbose")) for a in args)
    workers = fast or any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in args)
    return run(
        "python", "-m", "pytest", *([] if told else ["-v"]),
        *([] if workers else ["--numprocesses=auto"]), *args,
    )  # fmt: skip


def lock(_args: list[str]) -> int:
    make_venv()
    uv = find_uv()
    if not uv:
        raise Trouble("Writing the lock needs uv, which could not be installed: pip install uv.")
    write_lock(uv)
    return 0


@dataclass(frozen=True)
class Command:
    """One subcommand: the groups of pyproject.toml it needs (None: no .venv) and what it does."""

    extras: tuple[str, ...] | None
    action: Callable[[list[str]], int]


COMMANDS = {
    "lab": Command((), lab),
    # test and bench build the browser edition and the course website too
    "test": Command(("test", "lite", "site"), test),
    "bench": Command(
        ("test", "lite", "site"), lambda args: run("python", "-m", "bench.run", *args)
    ),
    "room": Command((), lambda args: run("python", "-m", "smskit.room_command", *args)),
    "lite": Command(("lite",), lambda args: run("python", "-m", "lite", *args)),
    "site": Command(("lite", "site"), lambda args: run("python", "site/build.py", *args)),
    "lock": Command(None, lock),
}


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - kit.py may be started by any python3
        print("The kit needs Python 3.11 or newer; run this with python3.11 (or newer).")
        return 2
    name, *rest = argv or ["help"]
    command = COMMANDS.get(name)
    if command is None:
        print(__doc__)
        return 0 if name in ("help", "-h", "--help") else 2
    try:
        if command.extras is not None:
            set_up(command.extras)
        return command.action(rest)
    except Trouble as problem:
        print(problem, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
