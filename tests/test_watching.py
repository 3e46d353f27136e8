"""Whether a page is attached to the room's kernel, as the Jupyter server's REST API says
(a Flask stand-in answering GET /api/kernels/<id> the way jupyter_server does)."""

from __future__ import annotations

import time

import ipywidgets as widgets
import pytest
from flask import Flask, abort

from smskit import serve
from smskit.events import EventFeed
from smskit.watching import EVERY, PageWatch, page_watch
from smskit.widget_host import WidgetHost

KERNEL = "0ce561ff-cebd-4dbd-9e7a-09d7e2c5b4b2"


def kernels_api(connections: dict[str, int]) -> Flask:
    app = Flask(__name__)

    @app.get("/api/kernels/<kernel_id>")
    def kernel(kernel_id):
        if kernel_id not in connections:
            abort(404)
        return {"id": kernel_id, "name": "python3", "connections": connections[kernel_id]}

    return app


@pytest.mark.integration  # starts a server
def test_a_watch_follows_the_servers_connections_and_says_yes_when_it_cannot_tell():
    connections = {KERNEL: 1}
    with serve(kernels_api(connections), "kernels") as server:
        watch = PageWatch(server.url, KERNEL, every=0)
        assert watch() is True
        connections[KERNEL] = 0  # the page went
        assert watch() is False
        assert PageWatch(server.url, "not-a-kernel", every=0)() is True  # 404: cannot tell
    assert PageWatch("http://127.0.0.1:9", KERNEL, every=0)() is True  # nobody answers
    assert page_watch({}) is None  # outside kit.py room: always render


@pytest.fixture
def watched():
    """A host that draws into a list, with a page attached while attached[0] is true; no tick
    comes for an hour, so only an event or the page's watch can draw."""
    attached, drawn = [True], []
    host = WidgetHost(
        EventFeed(), model=None, root=widgets.HTML(), draw=lambda: drawn.append(1),
        interval=0.01, tick=3600, name="watch-test", watched=lambda: attached[0],
    )  # fmt: skip
    yield host, attached, drawn
    host.close()


def test_a_host_sends_nothing_while_no_page_watches(watched):
    host, attached, drawn = watched
    assert host.renders == 1  # the first values, shown with the widgets, always
    host.render()
    attached[0] = False  # the page went: nothing is drawn, so nothing is sent
    host.render()
    assert host.renders == 2 == len(drawn)


def test_a_page_that_attaches_after_the_last_event_is_drawn_within_seconds_not_a_tick(watched):
    """A rehearsal that ended while the page loaded: its events were not drawn (no page), and
    no event or tick comes for an hour; the page that attaches is drawn about a second later."""
    host, attached, drawn = watched
    attached[0] = False
    host.poke()  # an event while no page watches: its render is skipped
    time.sleep(0.2)
    assert host.renders == 1
    attached[0] = True
    asked = time.monotonic()
    while host.renders < 2:
        assert time.monotonic() - asked < 10 * EVERY, "not drawn when the page attached"
        time.sleep(0.01)
    assert host.renders == 2 == len(drawn)
