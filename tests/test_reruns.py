"""Re-running the cells that start things leaves nothing behind: threads, sockets, fds, widgets.

A notebook's cells get run again and again in one kernel; each test below does what a re-run does
N times and compares the process's resources (from /proc/self/fd and threading) before and after.
"""

import gc
import os
import threading
import time

import pytest
from ipywidgets.widgets import widget as widget_registry

from smskit import LocalTwilio, serve, servers
from smskit.live import go_live, go_local
from smskit.panel import ConversationPanel, panels
from smskit.server import MAX_WORKERS, WORKER_THREAD_PREFIX
from tests.fakes.stand_ins import LIVE_SETTINGS, agents, created, starts
from tests.figures import record
from tests.support import OUR_NUMBER, port_is_free

pytestmark = pytest.mark.integration  # starts a server and a process

GEORGE = "+14158675309"


def resources() -> dict[str, int]:
    """Threads, a running server's request workers, open file descriptors and sockets now.

    Workers are counted apart from the other threads: a server's pool starts one more whenever a
    request arrives before the last worker has marked itself idle (under load, more often), keeps
    at most MAX_WORKERS and ends them when the server stops.
    """
    workers = sum(t.name.startswith(WORKER_THREAD_PREFIX) for t in threading.enumerate())
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the descriptor listdir itself used, closed since
            pass
    return {
        "threads": threading.active_count() - workers,
        "workers": workers,
        "fds": len(targets),
        "sockets": sum(target.startswith("socket:") for target in targets),
    }


def settled(before: dict[str, int], seconds: float = 2.0) -> dict[str, int]:
    """Resources once finishing threads have ended and garbage is collected (or time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        gc.collect()
        now = resources()
        if all(now[key] <= before[key] for key in before) or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def assert_no_growth(
    name: str, runs: int, before: dict[str, int], after: dict[str, int], serving: bool = False
) -> None:
    """Nothing grew; while a server still serves, its request workers only stay bounded."""
    record(name, runs=runs, before=before, after=after)
    if serving:
        assert after["workers"] <= MAX_WORKERS, f"{after['workers']} request workers"
        before, after = (
            {key: value for key, value in counts.items() if key != "workers"}
            for counts in (before, after)
        )
    grown = {key: (before[key], after[key]) for key in before if after[key] > before[key]}
    assert not grown, f"after {runs} re-runs these grew (before, after): {grown}"


def test_starting_and_stopping_the_server_50_times_leaks_nothing(app):
    """30 runs serve again under one name (replacing the server), 20 start and stop one."""
    with serve(app, name="warm-up") as server:  # first-use imports and lazy set-up
        LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, "hi")
    before = settled(resources())
    ports = set()
    for run in range(30):
        server = serve(app, name="rerun-50")  # a cell run again: the old server is replaced
        ports.add(server.port)
        assert LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, f"run {run}").ok
    server.stop()
    for run in range(20):
        with serve(app, name=f"started-and-stopped-{run % 3}") as server:
            ports.add(server.port)
            assert LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, "hi").ok
    assert not {"rerun-50", "started-and-stopped-0"} & servers().keys()
    assert all(port_is_free(port) for port in ports)
    assert_no_growth("reruns server x50", 50, before, settled(before))


def test_re_running_the_serve_and_panel_cell_50_times_leaks_nothing(app):
    """Each run serves the app again and builds a new panel on it, then texts from its phone."""
    with serve(app, name="rerun-panel") as server:  # warm-up: first-use imports
        ConversationPanel(server).close()
    before = settled(resources())
    for run in range(50):
        server = serve(app, name="rerun-panel")
        panel = ConversationPanel(server)
        assert panel.send(f"run {run}").ok
    assert panels()["rerun-panel"] is panel and panel.totals().messages == 1
    panel.close()
    server.stop()
    after = settled(before)
    assert_no_growth("reruns server + panel x50", 50, before, after)


def test_re_running_the_panel_cell_leaves_no_widget_open(server_for_panels):
    ConversationPanel(server_for_panels).close()  # warm-up
    before = len(widget_registry._instances)
    for _ in range(3):
        ConversationPanel(server_for_panels)
    panels()[server_for_panels.name].close()
    after = len(widget_registry._instances)
    record("reruns panel widgets x3", runs=3, before=before, after=after)
    assert after == before, f"{after - before} widgets left open after 3 re-runs"


@pytest.fixture
def server_for_panels(app):
    with serve(app, name="panel-widgets") as server:
        yield server


def test_re_running_the_go_live_cell_20_times_leaks_nothing(app, agent, twilio_api):
    """go_live again reuses the tunnel: no new agent, thread, socket or descriptor.

    The ngrok agent and Twilio's REST API are the live-path stand-ins (tests/fakes), driven by
    the real pyngrok and twilio-python.
    """
    log = agent("ok")
    client = twilio_api.client()
    with serve(app, name="rerun-live") as server:
        first = go_live(server, settings=LIVE_SETTINGS, http_client=client)
        before = settled(resources())
        for _ in range(20):
            assert go_live(server, settings=LIVE_SETTINGS, http_client=client) == first
        after = settled(before)
        go_local(server)
    assert len(starts(log)) == 1 and len(created(log)) == 1 and agents(log) == []
    assert_no_growth("reruns go_live x20", 20, before, after, serving=True)


def test_going_live_and_local_again_3_times_leaks_nothing(app, agent, twilio_api):
    """Each cycle starts and stops the (stand-in) ngrok agent."""
    log = agent("ok")
    client = twilio_api.client()
    with serve(app, name="live-local") as server:
        go_live(server, settings=LIVE_SETTINGS, http_client=client)  # warm-up
        go_local(server)
        before = settled(resources())
        for _ in range(3):
            assert go_live(server, settings=LIVE_SETTINGS, http_client=client).live
            assert not go_local(server).live
        after = settled(before)
    assert len(starts(log)) == 4 and agents(log) == []
    assert_no_growth("reruns go_live/go_local x3", 3, before, after, serving=True)
