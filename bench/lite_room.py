"""11. The browser edition served to a room: N learners' first loads at once, old server and new.

Chromium opens the learner edition's lesson 00 once (fresh profile, until the Pyodide kernel is
idle) and the requests it made are recorded. Then LEARNERS learners replay that list at once
over loopback, each with a browser's headers (Accept-Encoding: gzip, deflate, br, zstd) and at
most 6 connections at a time, as Chromium opens them: against the previous server (the
standard library's file server with its backlog of 5, kept here as a variant) and the new
one (lite.serve), each in its own process, in the same run. Reported: failed requests, p50/p99
per request, seconds until the last learner has every file, megabytes per learner. Then a
lesson's first open to a finished Run All in a fresh Chromium profile, on the new server.
"""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from lite.build import build
from lite.serve import LEARNER_PAGE, site_server

from .common import percentile

LEARNERS, PER_LEARNER = 100, 6
REQUEST_TIMEOUT_S, ROOM_TIMEOUT_S = 30, 240  # bounded: one stuck variant cannot hold the bench
BROWSER_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36",
}
VARIANTS = ("before (http.server, backlog 5)", "after (lite.serve)")
RUN_ALL_LESSON = "notebooks/01_http_cookies.ipynb"  # the lesson timed from first open
FAILURES_TARGET, LAST_LEARNER_TARGET_S, MB_TARGET, OPEN_TO_RUN_ALL_TARGET_S = 0, 60.0, 15.0, 15.0


@dataclass
class RoomLoad:
    """One server under the room's first loads."""

    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    last_learner_s: float
    mb_per_learner: float


@dataclass
class LiteRoomResult:
    learners: int
    requests_per_learner: int
    loads: dict[str, RoomLoad]
    open_to_run_all_s: float


class PreviousHandler(SimpleHTTPRequestHandler):
    """The server before issue 22: plain files, only the types Pyodide needs, default backlog."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".whl": "application/zip",
    }

    def log_message(self, format: str, *args) -> None:
        pass


def serve(variant: int, site: str) -> None:
    """Serve site with a variant in this process; print its port first."""
    if variant == 0:
        handler = functools.partial(PreviousHandler, directory=site)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    else:
        server = site_server(Path(site))
    print(server.server_address[1], flush=True)
    server.serve_forever()


def record_first_load(origin: str) -> dict[str, int]:
    """The paths a fresh Chromium asks the site for, opening the learner's 00 until its kernel
    is idle, with the status each got; what JupyterLite's service worker answers never leaves
    the browser and is left out (/api/drive)."""
    from playwright.sync_api import sync_playwright

    from tests.drive import CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, PATIENCE_MS, expose_app

    answers: list[tuple[str, int]] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            context.on(
                "response", lambda r: r.from_service_worker or answers.append((r.url, r.status))
            )
            page = context.new_page()
            page.set_default_timeout(PATIENCE_MS)
            page.route("**/jupyter-lite.json", expose_app)
            page.goto(f"{origin}/{LEARNER_PAGE}")
            page.wait_for_function(KERNEL_IDLE, polling=250)
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    # A path fetched twice (the page, then its service worker) is one request on the wire.
    return {
        urlsplit(url)._replace(fragment="").geturl().removeprefix(origin): status
        for url, status in answers
        if url.startswith(origin + "/")
    }


async def learner(origin: str, paths: dict[str, int], times: list[float]) -> tuple[int, int, float]:
    """One learner's first load: (failures, bytes on the wire, seconds until every file)."""
    import aiohttp  # twilio's dependency, in every environment of the kit

    started, failures, received = time.perf_counter(), 0, 0
    connector = aiohttp.TCPConnector(limit=PER_LEARNER)
    slots = asyncio.Semaphore(PER_LEARNER)  # a request's time counts from its connection's turn
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False, headers=BROWSER_HEADERS
    ) as session:

        async def fetch(path: str) -> None:
            async with slots:
                began = time.perf_counter()
                await one(path)
                times.append(time.perf_counter() - began)

        async def one(path: str) -> None:
            nonlocal failures, received
            try:
                async with session.get(origin + path) as answer:
                    body = await answer.read()
                    if answer.status != paths[path]:
                        failures += 1
                    received += len(body)
            except (aiohttp.ClientError, TimeoutError, OSError):
                failures += 1

        await asyncio.gather(*(fetch(path) for path in paths))
    return failures, received, time.perf_counter() - started


async def room(origin: str, paths: dict[str, int]) -> RoomLoad:
    """LEARNERS learners loading at once."""
    times: list[float] = []
    began = time.perf_counter()
    everyone = [learner(origin, paths, times) for _ in range(LEARNERS)]
    done = await asyncio.wait_for(asyncio.gather(*everyone), ROOM_TIMEOUT_S)
    finished = time.perf_counter() - began
    return RoomLoad(
        requests=len(times),
        failures=sum(failures for failures, _, _ in done),
        p50_ms=percentile(times, 50) * 1000,
        p99_ms=percentile(times, 99) * 1000,
        last_learner_s=finished,
        mb_per_learner=sum(received for _, received, _ in done) / LEARNERS / 1e6,
    )


def served(variant: int, site: Path) -> tuple[subprocess.Popen, str]:
    """A variant's server in its own process (so the learners do not share its GIL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.lite_room", str(variant), str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the previous server prints a traceback per dropped client
        text=True,
    )
    return process, f"http://127.0.0.1:{int(process.stdout.readline())}"


def run() -> LiteRoomResult:
    from tests.drive import run_lesson, site_in_chromium

    site = build()
    process, origin = served(1, site)
    try:
        paths = record_first_load(origin)
    finally:
        process.terminate()
        process.wait()
    loads = {}
    for variant, name in enumerate(VARIANTS):
        process, origin = served(variant, site)
        try:
            loads[name] = asyncio.run(room(origin, paths))
        finally:
            process.terminate()
            process.wait()
    with site_in_chromium(site) as (origin, browser):
        lesson = run_lesson(origin, browser, RUN_ALL_LESSON)
    return LiteRoomResult(LEARNERS, len(paths), loads, lesson.kernel_ready + lesson.run_all)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
