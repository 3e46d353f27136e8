"""A test driver: Debian's Chromium (headless, through Python playwright) for tests and bench.

It drives the built site: open a lesson, wait for the Pyodide kernel, Run All, and read back
the notebook with its outputs; chromium_page gives the desktop edition's tests a plain page.

Chromium starts so that every host but 127.0.0.1 resolves to nothing, and every request the page
makes is recorded, so a caller can check that nothing left the site's origin. No browser is ever
downloaded: playwright drives the chromium found on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from filelock import FileLock
from playwright.sync_api import Browser, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lite.serve import site_server
from tests.support import ROOT

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # nowhere but this machine
]
LONG = 60_000  # ms: generous waits for a shared two-core machine
PATIENCE_MS = 240_000  # a kernel once took 107 s to start on a busy two-core machine

KERNEL_IDLE = """() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel
    ?.status === 'idle'"""
# Run All ends with the last cell, or at the first error (JupyterLab skips the cells after it).
ALL_RAN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.model.toJSON().cells.filter(cell => cell.cell_type === 'code');
    const failed = cells.some(cell => cell.outputs.some(output => output.output_type === 'error'));
    return panel.sessionContext.session.kernel.status === 'idle'
        && (failed || cells.every(cell => cell.execution_count !== null));
}"""
CLEAR_AND_RUN_ALL = """async () => {
    await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
    window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""
NOTEBOOK = "() => window.jupyterapp.shell.currentWidget.content.model.toJSON()"
# What a page shows while its kernel is not idle: the kernel's status and the service worker.
KERNEL_STATE = """() => JSON.stringify({
    widget: window.jupyterapp?.shell.currentWidget?.title?.label ?? null,
    kernel: window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status ?? null,
    shown: window.jupyterapp?.shell.currentWidget?.sessionContext?.kernelDisplayStatus ?? null,
    serviceWorker: navigator.serviceWorker?.controller?.scriptURL ?? null})"""


def record(context) -> list[str]:
    """Everything a browser context's pages and workers say: console lines, page errors, and the
    requests that failed or were refused, newest last (for a message when a wait times out)."""
    said: list[str] = []
    started = time.monotonic()

    def note(line: str) -> None:
        said.append(f"{time.monotonic() - started:6.1f} s {line}")

    context.on("console", lambda message: note(f"console.{message.type}: {message.text}"))
    context.on("weberror", lambda error: note(f"error: {error.error}"))
    context.on("requestfailed", lambda r: note(f"failed: {r.method} {r.url} {r.failure}"))
    refused = lambda r: r.status >= 400 and note(f"{r.status}: {r.request.method} {r.url}")  # noqa: E731
    context.on("response", refused)
    return said


def wait_for_kernel_idle(page, said: list[str]) -> None:
    """Wait for the open notebook's kernel to be idle; on timeout, say what the page showed."""
    try:
        page.wait_for_function(KERNEL_IDLE, polling=250)
    except PlaywrightTimeoutError:
        state = page.evaluate(KERNEL_STATE)
        lines = "\n".join(said[-60:])
        said_last = f"The kernel never got idle: {state}. The page said:\n{lines}"
        raise AssertionError(said_last) from None


@dataclass
class LessonRun:
    """One lesson opened and run: its timings, and the notebook with its outputs (nbformat)."""

    kernel_ready: float
    run_all: float
    notebook: dict
    outside: list[str] = field(default_factory=list)  # requests that left the site's origin


def expose_app(route: Route) -> None:
    """Serve jupyter-lite.json with the app exposed as window.jupyterapp, for reading the model."""
    answer = route.fetch()
    config = answer.json()
    config["jupyter-config-data"]["exposeAppInBrowser"] = True
    route.fulfill(response=answer, json=config)


@contextmanager
def site_in_chromium(site: Path) -> Iterator[tuple[str, Browser]]:
    """The site served on a free loopback port, and a headless Chromium to open it with."""
    server = site_server(site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield f"http://{host}:{port}", browser
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def run_lesson(origin: str, browser: Browser, path: str) -> LessonRun:
    """Open the notebook at path (e.g. notebooks/01_http_cookies.ipynb) and Run All in it.

    Returns when the last cell is done, or when a cell failed (Run All stops there)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(PATIENCE_MS)
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(origin + "/") else outside.append(r.url))
    page.route("**/jupyter-lite.json", expose_app)
    try:
        opened = time.monotonic()
        page.goto(f"{origin}/lab/index.html?path={path}")
        page.wait_for_function(KERNEL_IDLE, polling=250)
        ready = time.monotonic()
        page.evaluate(CLEAR_AND_RUN_ALL)
        page.wait_for_function(ALL_RAN, polling=250)
        ran = time.monotonic()
        notebook = page.evaluate(NOTEBOOK)
    finally:
        page.close()
    return LessonRun(ready - opened, ran - ready, notebook, outside)


@contextmanager
def chromium_page(width: int, height: int) -> Iterator:
    """A page of Debian's Chromium (headless, found on PATH), closed with its browser after."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(LONG)
            yield page
        finally:
            browser.close()


# --- accessibility: axe-core, from npm into an ignored folder (never a CDN) ---------------------

AXE_FOLDER = ROOT / "build" / "axe"
AXE = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GRAVE = {"serious", "critical"}
AXE_RUN = """async ([tags, within]) => {
    const context = within ? {include: [[within]]} : document;
    const found = await axe.run(context, {runOnly: {type: 'tag', values: tags}});
    return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def axe_core() -> Path:
    """axe-core's script, installed from npm on first use (skips, saying why, without npm)."""
    if shutil.which("npm") is None and not AXE.exists():
        pytest.skip("npm is missing (apt-get install npm): axe-core comes from npm")
    AXE_FOLDER.mkdir(parents=True, exist_ok=True)
    with FileLock(AXE_FOLDER / "install.lock"):  # test workers install it once between them
        if not AXE.exists():
            quiet = ["--silent", "--no-audit", "--no-fund"]
            subprocess.run(
                ["npm", "install", *quiet, f"axe-core@{AXE_VERSION}"], cwd=AXE_FOLDER, check=True
            )
    return AXE


def grave_violations(page, within: str | None = None) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on an open page (or within)."""
    page.add_script_tag(path=str(axe_core()))
    found = page.evaluate(AXE_RUN, [WCAG_AA, within])
    return [violation for violation in found if violation["impact"] in GRAVE]
