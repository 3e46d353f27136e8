"""7. The room under load: 500 simulated phones, 20 messages a second in all, in Chromium.

`python -m smskit.room_command --simulate 500 --rate 20` (what `kit.py room` runs) serves the
room with the real Voilà; Debian's Chromium (playwright, executable_path) opens it. The
kernel writes one line per handled message (--trace: when, masked number, count); a
MutationObserver in the page notes when each card (or, beyond the cards that fit, each phone of
the room's index) first shows each count. Latency: from the
handled message to its card showing that count (or a later one, when two messages of one
phone land in the same render). Kernel CPU per message: the kernel's CPU time over the
rehearsal, divided by the messages handled in it; it includes the simulated phones' side of
each request (the local Twilio runs in the same kernel), so it overstates the room's cost.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .common import ROOT, percentile

PHONES, RATE, MESSAGES = 500, 20.0, 700

OBSERVER = """
window.__seen = {};
new MutationObserver(() => {
  const now = Date.now() / 1000;
  for (const card of document.querySelectorAll('.room-card, .room-phone')) {
    const key = card.querySelector('.room-who').textContent + '|' + card.dataset.count;
    if (!(key in window.__seen)) window.__seen[key] = now;
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@dataclass
class RoomResult:
    phones: int
    rate: float
    messages: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms_per_message: float
    target_ms: float


def latencies(trace: list[dict], seen: dict[str, float]) -> list[float]:
    """Seconds from each handled message to its card showing that count or a later one
    (messages handled before the page showed its first card are left out)."""
    shown: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for key, when in seen.items():
        who, _, count = key.rpartition("|")
        if count.isdigit():
            shown[who].append((int(count), when))
    found, page_up = [], min(seen.values())
    for line in trace:
        if line["when"] < page_up:  # handled before the page showed any card
            continue
        times = [when for count, when in shown[line["who"]] if count >= line["count"]]
        if not times:
            raise RuntimeError(f"room benchmark: a message never reached its card: {line}")
        found.append(min(times) - line["when"])
    return found


def kernel_of(process):
    """The room's kernel: the ipykernel among the Voilà process's descendants."""
    import psutil

    for child in psutil.Process(process.pid).children(recursive=True):
        if "ipykernel_launcher" in " ".join(child.cmdline()):
            return child
    raise RuntimeError("room benchmark: Voilà started no kernel")


def cpu_seconds(kernel) -> float:
    times = kernel.cpu_times()
    return times.user + times.system


def run(target_ms: float = 1000.0) -> RoomResult:
    from playwright.sync_api import sync_playwright

    from smskit.processes import free_port

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("room benchmark: no chromium on PATH (apt-get install chromium)")
    work = Path(tempfile.mkdtemp(prefix="bench-room-"))
    trace_file, port = work / "trace.jsonl", free_port()
    command = [
        sys.executable, "-m", "smskit.room_command", "--no-browser", f"--port={port}",
        f"--simulate={PHONES}", f"--rate={RATE:g}", f"--messages={MESSAGES}",
        f"--trace={trace_file}",
    ]  # fmt: skip
    env = {"JUPYTER_RUNTIME_DIR": str(work / "runtime"), "SMSKIT_OFFLINE": "1"}
    with (work / "room.log").open("w") as log:
        room = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or room.poll() is not None:
                    raise RuntimeError("room benchmark: Voilà did not start") from None
                time.sleep(0.2)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.add_init_script(OBSERVER)
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.wait_for_selector(".room-card", timeout=120_000)
            kernel = kernel_of(room)
            cpu_start, handled_start = cpu_seconds(kernel), len(read(trace_file))
            page.wait_for_selector(
                f".room-status:has-text('{MESSAGES:,} delivered')", timeout=MESSAGES / RATE * 4e3
            )
            cpu = cpu_seconds(kernel) - cpu_start
            time.sleep(1.0)  # the last render
            seen = page.evaluate("window.__seen")
            browser.close()
    finally:
        os.killpg(room.pid, signal.SIGTERM)
        room.wait(timeout=30)
    trace = read(trace_file)
    found = sorted(latencies(trace, seen))
    handled = len(trace) - handled_start
    return RoomResult(
        phones=PHONES,
        rate=RATE,
        messages=len(trace),
        p50_ms=percentile(found, 50) * 1e3,
        p99_ms=percentile(found, 99) * 1e3,
        max_ms=found[-1] * 1e3,
        cpu_ms_per_message=cpu * 1e3 / max(1, handled),
        target_ms=target_ms,
    )


def read(trace_file: Path) -> list[dict]:
    if not trace_file.exists():
        return []
    return [json.loads(line) for line in trace_file.read_text().splitlines() if line.strip()]
