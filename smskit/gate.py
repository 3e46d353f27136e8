"""Wait for each connection's request head in one thread, then hand the connection on.

A server that gives every accepted connection its own thread lets 1,000 slow or idle clients hold
1,000 threads, and a bounded pool of threads lets them hold all of it, so a real request waits.
The gate instead keeps a waiting connection as a socket in a selector: one thread reads whatever
arrives, and only a connection whose request head is complete (or too long to wait for) is
handed on, with the bytes read so far. A connection that takes longer than its deadline to send
its head is closed; when too many are waiting, the oldest is closed.

No library fits: the standard library's and werkzeug's servers give each connection its thread at
accept, and waitress (which buffers like this) would replace the werkzeug server whose wire
format the lessons show.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Dispatch = Callable[[socket.socket, tuple, bytes], None]


@dataclass
class Waiting:
    """A connection whose request head has not fully arrived."""

    address: tuple
    deadline: float
    head: bytearray = field(default_factory=bytearray)


def head_is_complete(head: bytes) -> bool:
    """Whether the request line and headers have ended (a blank line, CRLF or bare LF)."""
    return b"\r\n\r\n" in head or b"\n\n" in head


class HeadGate:
    """Holds connections until their request head is in, then calls dispatch(sock, address, head).

    dispatch runs in the gate's thread and must not block (submit to a pool).
    """

    def __init__(self, dispatch: Dispatch, *, seconds: float, max_waiting: int, max_head: int):
        self._dispatch, self._seconds = dispatch, seconds
        self._max_waiting, self._max_head = max_waiting, max_head
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, Waiting] = {}
        self._arrivals: list[tuple[socket.socket, tuple]] = []
        self._lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="smskit-gate", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, address: tuple) -> None:
        """Wait for sock's request head (called from the accepting thread)."""
        with self._lock:
            self._arrivals.append((sock, address))
        self._wake()

    def close(self) -> None:
        """Stop the gate's thread and close every connection still waiting."""
        self._closing = True
        self._wake()
        self._thread.join()
        with self._lock:
            arrivals, self._arrivals = self._arrivals, []
        for sock in [*self._waiting, *(sock for sock, _ in arrivals)]:
            sock.close()
        self._waiting.clear()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def waiting(self) -> int:
        """How many connections are waiting for their head now."""
        return len(self._waiting)

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except OSError:  # the pipe is full (already woken) or closed
            pass

    def _run(self) -> None:
        while not self._closing:
            for key, _ in self._selector.select(timeout=0.25):
                if key.fileobj is self._wake_reader:
                    self._admit()
                elif key.fileobj in self._waiting:  # not dropped earlier in this round
                    self._read(key.fileobj)
            self._expire()

    def _admit(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            arrivals, self._arrivals = self._arrivals, []
        deadline = time.monotonic() + self._seconds
        for sock, address in arrivals:
            if len(self._waiting) >= self._max_waiting:
                oldest = next(iter(self._waiting))  # dicts keep insertion order
                log.info(
                    "Too many connections waiting; closing %s's", self._waiting[oldest].address
                )
                self._drop(oldest)
            sock.setblocking(False)
            self._waiting[sock] = Waiting(address, deadline)
            self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, sock: socket.socket) -> None:
        waiting = self._waiting[sock]
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # closed before sending a whole request
            self._drop(sock)
            return
        waiting.head += data
        if head_is_complete(waiting.head) or len(waiting.head) >= self._max_head:
            self._selector.unregister(sock)
            del self._waiting[sock]
            sock.setblocking(True)
            self._dispatch(sock, waiting.address, bytes(waiting.head))

    def _expire(self) -> None:
        now = time.monotonic()
        for sock in [sock for sock, waiting in self._waiting.items() if waiting.deadline < now]:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        del self._waiting[sock]
        sock.close()
