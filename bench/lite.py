"""10. The browser edition: site size, build time cold and warm, kernel start, Run All per lesson.

Cold: an empty output folder with pip's and npm's own caches turned off, so every wheel and
Pyodide come from the registries (what a fresh clone pays). Warm: the downloads cached, the site
rebuilt (what an edit to a lesson costs). Up to date: inputs unchanged, nothing rebuilt. Then
lessons 00-03 open in headless Chromium, one page each: seconds from opening the page to an idle
Pyodide kernel, and from Run All to the last cell done.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lite.build import build
from smskit.lessons import in_edition

from .common import Spread

LESSONS = [lesson.notebook for lesson in in_edition("browser")]
REPEATS = 2  # builds and lesson runs; a cold build is done once (it downloads everything)
SITE_TARGET_MB, KERNEL_TARGET_S, RUN_ALL_TARGET_S = 50.0, 20.0, 60.0


@dataclass
class LiteResult:
    site_mb: float
    build_seconds: dict[str, Spread]  # cold, warm, up to date
    kernel_ready: dict[str, Spread]  # per lesson
    run_all: dict[str, Spread]  # per lesson


def megabytes(folder: Path) -> float:
    """The site's size without its .gz/.br variants (each the same file, smaller)."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br")]
    return sum(path.stat().st_size for path in files) / 1e6


@contextmanager
def no_download_caches():
    """pip and npm without their caches, as on a machine that never downloaded them."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as npm_cache:
        os.environ.update(PIP_NO_CACHE_DIR="1", npm_config_cache=npm_cache)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run() -> LiteResult:
    from tests.drive import run_lesson, site_in_chromium  # needs playwright

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        with no_download_caches():
            cold = timed(lambda: build(out=out))
        warm = [timed(lambda: build(force=True, out=out)) for _ in range(REPEATS)]
        current = [timed(lambda: build(out=out)) for _ in range(REPEATS)]
        site = build(out=out)
        ready: dict[str, list[float]] = {lesson: [] for lesson in LESSONS}
        ran: dict[str, list[float]] = {lesson: [] for lesson in LESSONS}
        with site_in_chromium(site) as (origin, browser):
            for _ in range(REPEATS):
                for lesson in LESSONS:
                    lesson_run = run_lesson(origin, browser, f"notebooks/{lesson}.ipynb")
                    ready[lesson].append(lesson_run.kernel_ready)
                    ran[lesson].append(lesson_run.run_all)
        return LiteResult(
            megabytes(site),
            {
                "cold (downloads everything)": Spread.of([cold]),
                "warm (downloads cached)": Spread.of(warm),
                "up to date (nothing to do)": Spread.of(current),
            },
            {lesson: Spread.of(values) for lesson, values in ready.items()},
            {lesson: Spread.of(values) for lesson, values in ran.items()},
        )
