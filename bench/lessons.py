"""5. The lessons: wall time of all notebooks under nbval in one pytest run, and of each notebook.

Every notebooks/*.ipynb present when the benchmark runs is included. pytest runs them all in one
process with the project's settings (nbval, strict), as `pytest notebooks` does; the wall time
of that process is the total, and pytest's own report gives each notebook's time (its kernel's
start and its cells). The rest of the wall time is pytest's start-up and collection.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from .common import ROOT, Spread

ALL = "all, one pytest run (wall)"
STARTUP = "pytest start-up and collection"


@dataclass
class LessonsResult:
    notebooks: list[str]
    seconds: dict[str, Spread]  # per notebook, STARTUP and ALL
    failed: list[str] = field(default_factory=list)  # pytest's last line, per failed run
    target: float = 60.0


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def pytest_run(
    paths: list[Path], report: Path, environment: dict[str, str] | None
) -> tuple[float, bool, str]:
    """Run pytest (nbval, the project's settings) on paths; wall seconds, passed, last line."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += [f"--junitxml={report}", *(str(p.relative_to(ROOT)) for p in paths)]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    return wall, done.returncode == 0, lines[-1] if lines else done.stderr.strip()[-200:]


def seconds_by_notebook(report: Path) -> dict[str, float]:
    """Sum pytest's per-cell times (setup, which starts the kernel, included) by notebook."""
    totals: dict[str, float] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = case.get("classname", "").removeprefix("notebooks.")
        totals[name] = totals.get(name, 0.0) + float(case.get("time", 0))
    return totals


def run(
    repeats: int = 3, target: float = 60.0, environment: dict[str, str] | None = None
) -> LessonsResult:
    """environment: what pytest runs in (default this process's)."""
    paths = notebooks()
    samples: dict[str, list[float]] = {p.name: [] for p in paths} | {STARTUP: [], ALL: []}
    failed = []
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"
        for _ in range(repeats):
            wall, passed, last = pytest_run(paths, report, environment)
            if not passed:
                failed.append(last)
            inside = seconds_by_notebook(report)
            for name, seconds in inside.items():
                samples.setdefault(name, []).append(seconds)
            samples[STARTUP].append(wall - sum(inside.values()))
            samples[ALL].append(wall)
    return LessonsResult(
        notebooks=[p.name for p in paths],
        seconds={name: Spread.of(values) for name, values in samples.items() if values},
        failed=failed,
        target=target,
    )
