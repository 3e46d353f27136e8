"""The in-kernel server under hostile traffic on loopback: bursts, slow clients, broken bodies.

These assert behaviour (answered at all, threads bounded, files and threads back to baseline);
how fast it answers is measured in bench/attacks.py, not here.
"""

import os
import socket
import threading
import time

import pytest
from flask import Flask, request

from smskit import serve
from smskit import server as server_module
from tests.support import status_of

pytestmark = pytest.mark.integration  # starts a server

BROKEN_CHUNKED = (
    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nFrom=x\r\n0\r\n\r\n"
)


@pytest.fixture
def lesson_app():
    """An app like the lessons' spy: it reads the form, with no limits of its own."""
    app = Flask(__name__)

    @app.route("/echo", methods=["GET", "POST"])
    def echo():
        return f"{len(request.form)} fields"

    return app


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def settle(baseline_threads: int, baseline_files: int, seconds: float = 20) -> bool:
    """Whether threads and open files are back to baseline (or below) within seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if threading.active_count() <= baseline_threads and open_files() <= baseline_files:
            return True
        time.sleep(0.1)
    return False


def test_a_broken_chunked_body_gets_400_and_no_traceback(lesson_app, caplog):
    with serve(lesson_app, name="broken-body") as server:
        assert status_of(server.port, BROKEN_CHUNKED).split()[1] == "400"
    assert "Traceback" not in caplog.text


def test_a_declared_large_body_gets_413_unread(lesson_app):
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n"
    with serve(lesson_app, name="large-body") as server:
        assert status_of(server.port, head).split()[1] == "413"


def test_a_silent_client_is_dropped_after_the_socket_timeout(lesson_app, monkeypatch):
    monkeypatch.setattr(server_module, "SOCKET_TIMEOUT", 0.5)
    with serve(lesson_app, name="silent") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as silent:
            assert silent.recv(100) == b""  # closed by the server, not by our 15 s


def test_a_client_slow_to_send_its_body_gets_408(lesson_app, monkeypatch):
    monkeypatch.setattr(server_module.QuietRequestHandler, "timeout", 0.5)
    with serve(lesson_app, name="slow-body") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as slow:
            slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
            assert slow.recv(100).split()[1] == b"408"  # Request Timeout, not a wait forever


def test_3000_connections_opened_and_closed_at_once_then_a_request_is_answered(lesson_app):
    threads, files = threading.active_count(), open_files()
    with serve(lesson_app, name="burst") as server:
        burst = []
        for _ in range(3000):
            conn = socket.socket()
            conn.setblocking(False)
            conn.connect_ex(("127.0.0.1", server.port))
            burst.append(conn)
        for conn in burst:
            conn.close()
        assert status_of(server.port, b"GET /echo HTTP/1.0\r\n\r\n").split()[1] == "200"
    assert settle(threads, files), (threading.active_count(), open_files(), threads, files)


def test_1000_slow_clients_hold_no_threads_and_others_are_still_answered(lesson_app):
    threads, files = threading.active_count(), open_files()
    with serve(lesson_app, name="slow") as server:
        slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(1000)]
        for conn in slow:
            conn.send(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        assert status_of(server.port, b"GET /echo HTTP/1.0\r\n\r\n").split()[1] == "200"
        # the serving thread, the gate and at most the pool's workers, however many wait
        assert threading.active_count() <= threads + 2 + server_module.MAX_WORKERS
        for conn in slow:
            conn.close()
    assert settle(threads, files), (threading.active_count(), open_files(), threads, files)
