"""5. The lessons: wall time of each notebook under nbval, and of all of them in one run.

Every notebooks/*.ipynb present when the benchmark runs is included. Each notebook runs as its
own pytest process (the wall time a learner or CI pays, pytest's start-up included) and all of
them run in one pytest process (the total, one start-up); the runs are interleaved. pytest's
own report gives the time inside pytest (kernel start and cells) for each notebook.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .common import ROOT, Spread, interleaved

ALL = "all in one run"


@dataclass
class LessonsResult:
    notebooks: list[str]
    wall: dict[str, Spread]  # seconds, per notebook and ALL
    inside: dict[str, Spread]  # seconds inside pytest, per notebook (from the one-run report)
    failed: dict[str, str] = field(default_factory=dict)  # notebook -> pytest's last line
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
    inside: dict[str, list[float]] = {p.name: [] for p in paths}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"

        def one(path: Path) -> Callable[[], float]:
            def once() -> float:
                wall, passed, last = pytest_run([path], report, environment)
                if not passed:
                    failed[path.name] = last
                return wall

            return once

        def everything() -> float:
            wall, passed, last = pytest_run(paths, report, environment)
            if not passed:
                failed[ALL] = last
            for name, seconds in seconds_by_notebook(report).items():
                inside.setdefault(name, []).append(seconds)
            return wall

        arms = {p.name: one(p) for p in paths} | {ALL: everything}
        wall = interleaved(arms, repeats)
    return LessonsResult(
        notebooks=[p.name for p in paths],
        wall={name: Spread.of(values) for name, values in wall.items()},
        inside={name: Spread.of(values) for name, values in inside.items() if values},
        failed=failed,
        target=target,
    )
