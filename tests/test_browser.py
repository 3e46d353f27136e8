"""Notebook 04 in real JupyterLab, driven by real Chromium: Run All, then use the live panel.

Debian's chromium (found on PATH) runs headless through the Python playwright package; no
browser is downloaded. JupyterLab serves a temporary copy of the notebooks, on loopback only,
so the committed notebook is never touched. Skips, saying why, when no chromium is found.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from smskit.processes import free_port
from tests.support import ARTIFACTS

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")

from tests.drive import CHROMIUM, LONG, chromium_page, grave_violations  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/04_go_live.ipynb"
BOOTS, TWILIO_NUMBER = "+14158675310", "+15005550006"  # a sender the notebook does not use

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)"),
]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Poll JupyterLab's /api/status until it answers; fail with its log if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free loopback port, serving a copy of notebooks/ and quickstart/."""
    root = tmp_path / "kit"
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "instance", "__pycache__")
    for folder in ("notebooks", "quickstart"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    for name in ("NGROK_AUTHTOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name, None)  # offline: the live cells must skip themselves
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "lab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()  # jupyter shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # any kernel it left in its session
        except ProcessLookupError:
            pass


def kernel_idle(lab: str) -> bool:
    """Whether the server has a kernel that has started and is idle."""
    with urllib.request.urlopen(f"{lab}/api/kernels", timeout=5) as answer:
        return any(k["execution_state"] == "idle" for k in json.load(answer))


def run_all(page, expect, lab: str) -> None:
    """Clear notebook 04's committed outputs, Run All, and wait for its last cell's output."""
    page.wait_for_selector(".jp-Notebook .jp-CodeCell")
    deadline = time.monotonic() + LONG / 1000
    while not kernel_idle(lab):
        assert time.monotonic() < deadline, "the notebook's kernel did not start"
        time.sleep(0.25)
    page.locator(".jp-Notebook .jp-Cell").first.click()  # the menus act on the focused notebook
    page.click("li.lm-MenuBar-item:has-text('Edit')")
    page.click("li[data-command='editmenu:clear-all']")
    expect(page.locator(".jp-OutputArea-output")).to_have_count(0)
    started = page.locator(".jp-CodeCell .jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    for _ in range(3):  # a Run All issued while the kernel connection is settling can be lost
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li[data-command='runmenu:run-all']")
        try:
            expect(started.first).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            continue
    expect(page.locator(".jp-OutputArea-output", has_text="Skipped: no Twilio")).to_be_visible()


def use_the_panel(page, expect) -> None:
    """Text three times from the panel's phone, fast-forward four hours, text again."""
    panel = page.locator(".smskit-panel.jupyter-widgets")
    expect(panel).to_be_visible()
    panel.scroll_into_view_if_needed()
    panel.locator(".smskit-from input").fill(BOOTS)
    count = panel.locator(f"tr[data-from='{BOOTS}'] td.smskit-count")
    for expected in ("1", "2", "3"):
        panel.locator("button.smskit-send").click()
        expect(count).to_have_text(expected)
    expect(panel.locator(".smskit-answer")).to_have_text(
        f"Boots has messaged {TWILIO_NUMBER} 3 times"
    )
    panel.screenshot(path=ARTIFACTS / "panel.png")
    panel.locator("button.smskit-plus-4h").click()
    expires = panel.locator(f"tr[data-from='{BOOTS}'] td.smskit-expires")
    expect(expires).to_have_text("expired")
    panel.locator("button.smskit-send").click()
    expect(count).to_have_text("1")
    expect(expires).to_have_text("4:00:00")
    expect(panel.locator(".smskit-log")).to_contain_text('"POST /sms" 200')


def test_notebook_04_runs_in_jupyterlab_and_its_panel_counts_and_passes_axe(lab):
    expect = playwright.expect
    expect.set_options(timeout=LONG)
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    with chromium_page(1400, 1000) as page:
        try:
            page.goto(f"{lab}/lab/tree/{NOTEBOOK}")
            run_all(page, expect, lab)
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
            assert errors.count() == 0, errors.all_inner_texts()
            use_the_panel(page, expect)
            page.screenshot(path=ARTIFACTS / "notebook.png", full_page=True)
            # WCAG 2.1 AA on our widgets, as used (JupyterLab's own chrome is not ours to check)
            grave = grave_violations(page, ".smskit-panel")
            assert grave == [], json.dumps(grave, indent=1)
        except Exception:
            page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
            raise
    print(f"\nbrowser test: {time.monotonic() - started:.1f} s in the browser")
