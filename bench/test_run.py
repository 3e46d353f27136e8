"""12. The full test run: `python3 kit.py test` once, as a contributor runs it, timed end to end.

Once, not repeated: the run takes minutes, and the README states its duration from this figure.
The environment is already set up (the bench runs in it), so the time is pytest's alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass

from .common import ROOT


@dataclass
class TestRunResult:
    seconds: float
    summary: str  # pytest's last line, e.g. "571 passed in 480.2s"
    passed: bool


def run() -> TestRunResult:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "kit.py", "test", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    lines = [line.strip("= ") for line in done.stdout.splitlines()]
    summary = next((s for s in reversed(lines) if re.search(r"\d+ (passed|failed)", s)), "")
    return TestRunResult(seconds, summary, done.returncode == 0)
