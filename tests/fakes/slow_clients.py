"""Slow HTTP clients: many connections that send a request line, head or body a byte a second.

>>> with SlowClients(port, 50, "body"):   # 50 connections, each trickling its body
...     ...                                # a real request meanwhile
"""

from __future__ import annotations

import socket
import threading

KINDS = ("line", "head", "body")
# What each kind sends at once; then one more byte ("a") every second, for as long as it is open.
OPENINGS = {
    "line": b"POST /sms?",
    "head": b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ",
    "body": (
        b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\nBody="
    ),
}


class SlowClients:
    """count connections to 127.0.0.1:port of one kind, trickling until closed (a context)."""

    def __init__(self, port: int, count: int, kind: str):
        self.sockets: list[socket.socket] = []
        for _ in range(count):
            conn = socket.socket()
            conn.settimeout(5)
            try:
                conn.connect(("127.0.0.1", port))
                conn.sendall(OPENINGS[kind])
            except OSError:  # refused or queued too long: a client the server turned away
                conn.close()
                continue
            conn.setblocking(False)
            self.sockets.append(conn)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(1.0):
            for conn in self.sockets:
                try:
                    conn.send(b"a")
                except OSError:  # closed by the server, or its buffer is full
                    pass

    def still_open(self) -> int:
        """How many of the connections the server has not closed."""
        open_ = 0
        for conn in self.sockets:
            try:
                open_ += conn.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                open_ += 1
            except OSError:
                pass
        return open_

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.sockets:
            conn.close()

    def __enter__(self) -> SlowClients:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
