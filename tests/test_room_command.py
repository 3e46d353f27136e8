"""`python3 kit.py room`'s life cycle with real processes and real signals (offline rehearsal).

SIGTERM or SIGINT to kit.py stops Voilà and every kernel it started, prints no traceback, and
leaves nothing listening on the port. psutil reads the process tree.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from smskit.processes import free_port
from smskit.room_command import arguments, cull_interval, exposure, voila_command
from smskit.watching import EVERY
from tests.support import ROOT, start_room, stop_room

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")

from tests.drive import CHROMIUM, chromium_page  # noqa: E402 - needs playwright

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_kit_py_stops_voila_and_its_kernels_without_a_traceback(tmp_path, signum):
    process, port, log = start_room(tmp_path, "--simulate=5", "--rate=5", "--messages=10")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as page:
        assert page.status == 200 and b"room" in page.read()  # a page: Voilà started a kernel
    tree = psutil.Process(process.pid).children(recursive=True)
    kernels = [p for p in tree if "ipykernel" in " ".join(p.cmdline())]
    assert kernels, [p.cmdline() for p in tree]

    process.send_signal(signum)  # to kit.py alone, as `kill` or a terminal's Ctrl+C would
    assert process.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(tree, timeout=30)
    assert alive == [], [p.cmdline() for p in alive]
    output = log.read_text()
    assert "Traceback" not in output and "The room is closed." in output, output
    listening = [c for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    assert not any(c.laddr.port == port for c in listening)


def kernels_by_id(process) -> dict[str, psutil.Process]:
    """The room's kernels under kit.py, by the id in their connection file's name."""
    found = {}
    for child in psutil.Process(process.pid).children(recursive=True):
        named = re.search(r"kernel-([\w-]+)\.json", " ".join(child.cmdline()))
        if named and "ipykernel" in " ".join(child.cmdline()):
            found[named.group(1)] = child
    return found


# --cull-after for the test below: short, yet far above the second or two a page takes from
# the end of its notebook's run to its websocket (a kernel is fair game in between).
CULL_AFTER = 15
# How soon after its page went a kernel is gone: idle for CULL_AFTER from its last render (the
# watch trusts an answer for EVERY), seen at the next check, then shut down; 10 s to spare for
# a busy machine (the default's "within a minute" spares 9).
CULLED_WITHIN = CULL_AFTER + cull_interval(CULL_AFTER) + EVERY + 10


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_kernels_no_page_is_attached_to_are_culled_after_cull_after_and_the_shown_one_is_not(
    tmp_path,
):
    """Three kernels of a room that rehearses without end: a page that stays (the projector),
    a page that goes without a word (closed with no beforeunload, as a crashed tab or a lost
    network does) and a `curl` that never attaches. The last two are culled once idle for
    --cull-after seconds; the projector's keeps rendering. (That the default culls within a
    minute is the next test's: the same arithmetic on Voilà's command line.)"""
    process, port, log = start_room(
        tmp_path, "--simulate=20", "--rate=4", f"--cull-after={CULL_AFTER}"
    )
    url = f"http://127.0.0.1:{port}/"
    kernel_of = (
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
    )
    try:
        with chromium_page(1920, 1080) as shown:
            shown.goto(url)
            shown.locator(".room-card").first.wait_for()
            gone = shown.context.browser.new_page()
            gone.goto(url)
            gone.locator(".room-card").first.wait_for()
            with urllib.request.urlopen(url, timeout=120) as page:
                assert page.status == 200 and b"room" in page.read()
            kept, closed = shown.evaluate(kernel_of), gone.evaluate(kernel_of)
            kernels = kernels_by_id(process)
            assert len(kernels) == 3 and {kept, closed} <= set(kernels), kernels
            gone.close(run_before_unload=False)  # Voilà's shutdown beacon never leaves
            left = time.monotonic()
            others = [k for kernel_id, k in kernels.items() if kernel_id != kept]
            culled, alive = psutil.wait_procs(others, timeout=CULLED_WITHIN)
            took = time.monotonic() - left
            assert alive == [], f"still running {took:.0f} s after the page went"
            assert set(kernels_by_id(process)) == {kept}
            before = shown.locator(".room-totals").inner_text()
            playwright.expect(shown.locator(".room-totals")).not_to_have_text(before)  # live
    finally:
        stop_room(process)
        print(log.read_text()[-3000:])
    print(f"culled {took:.0f} s after the page went")


def culling(command: list[str]) -> tuple[int, int]:
    """The idle time and the check interval Voilà's command line asks for."""
    joined = " ".join(command)
    assert "--MappingKernelManager.cull_connected=False" in joined
    idle = int(joined.split("cull_idle_timeout=")[1].split()[0])
    return idle, int(joined.split("cull_interval=")[1].split()[0])


def test_voila_is_asked_to_cull_idle_kernels_with_no_page_within_a_minute():
    options = arguments(["--no-browser"])  # kit.py room's defaults
    idle, interval = culling(voila_command(free_port(), False, options.host, options.cull_after))
    assert idle + interval + EVERY <= 60
    asked = arguments([f"--cull-after={CULL_AFTER}"]).cull_after
    assert culling(voila_command(free_port(), False, cull_after=asked)) == (
        CULL_AFTER, cull_interval(CULL_AFTER),
    )  # fmt: skip


def test_serving_beyond_loopback_says_what_it_exposes():
    assert exposure("127.0.0.1", 8866) is None and exposure("localhost", 8866) is None
    said = exposure("0.0.0.0", 8866)
    assert "to your network, without a password" in said and "starts a kernel" in said
    help_text = subprocess.run(
        [sys.executable, "-m", "smskit.room_command", "--help"], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ}, check=True,
    ).stdout  # fmt: skip
    assert "--host" in help_text


def test_check_without_credentials_names_every_missing_value_and_exits_1(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "NGROK_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "kit.py"), "room", "--check"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER", "NGROK"):
        assert name in done.stdout
