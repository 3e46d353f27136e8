"""The in-kernel server's gate: a request's body has one total deadline from its head's arrival.

Slow clients come from tests/fakes/slow_clients.py (a byte a second each); the server is the
kit's own serve(), on loopback.
"""

import socket
import time

import pytest
from flask import Flask, request

from smskit import serve, server
from smskit.gate import request_is_complete
from tests.fakes.slow_clients import OPENINGS, SlowClients
from tests.support import status_of

FORM = b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"


@pytest.fixture
def app():
    app = Flask(__name__)
    app.add_url_rule("/f", "f", lambda: f"{len(request.form)} fields", methods=["GET", "POST"])
    return app


@pytest.mark.parametrize(
    "received, complete",
    [
        (FORM + b"\r\n", True),  # no body
        (FORM + b"Content-Length: 5\r\n\r\na=1", False),
        (FORM + b"Content-Length: 5\r\n\r\na=1&b", True),
        (FORM + b"Content-Length: 9999999\r\n\r\n", True),  # over the limit: 413 from the head
        (FORM + b"Transfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n", False),
        (FORM + b"Transfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n0\r\n\r\n", True),
        (FORM + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nboom\r\n", True),  # malformed: 400
        (FORM + b"Transfer-Encoding: chunked\r\n\r\n" + b"a" * 2_000_000, True),  # over: 413
    ],
)
def test_a_request_is_handed_on_once_its_body_is_in(received, complete):
    assert request_is_complete(received, server.MAX_BODY_BYTES) is complete


@pytest.mark.integration  # starts a server
def test_forty_slow_bodies_leave_a_request_answered(app):
    """Before, the body was read in a worker: 40 trickled bodies held all 32 of them."""
    with serve(app, name="slow-bodies") as served, SlowClients(served.port, 40, "body"):
        time.sleep(0.5)  # every slow head is in, and its body trickling
        answer = status_of(served.port, FORM + b"Content-Length: 3\r\n\r\na=1", seconds=5)
    assert answer == "HTTP/1.0 200 OK"


@pytest.mark.integration  # starts a server
def test_a_body_that_trickles_past_the_deadline_gets_408(app, monkeypatch):
    monkeypatch.setattr(server, "SOCKET_TIMEOUT", 1.5)
    with serve(app, name="trickle") as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
            conn.sendall(OPENINGS["body"].replace(b"/sms", b"/f"))
            started, answer = time.monotonic(), b""
            while not answer and time.monotonic() - started < 10:
                conn.sendall(b"a")  # a byte every 0.2 s: each read is quick, the whole is not
                try:
                    conn.settimeout(0.2)
                    answer = conn.recv(4096)
                except TimeoutError:
                    pass
    assert answer.startswith(b"HTTP/1.0 408 ") and b"did not arrive within 1.5 s" in answer
