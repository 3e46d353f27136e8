"""Wait for each connection's whole request in one thread, then hand the connection on.

A server that gives every accepted connection its own thread lets 1,000 slow or idle clients hold
1,000 threads, and a bounded pool of threads lets them hold all of it, so a real request waits.
The gate instead keeps a waiting connection as a socket in a selector: one thread reads whatever
arrives, and only a connection whose request is complete (head and body, or too long to wait for)
is handed on, with the bytes read so far. A connection that takes longer than its deadline to send
its head is closed; one whose body is not in within the same time from its head's arrival (one
total deadline, however it trickles) is answered 408; when too many wait, the oldest is closed.

No library fits: the standard library's and werkzeug's servers give each connection its thread at
accept, and waitress (which buffers like this) would replace the werkzeug server whose wire
format the lessons show.
"""

from __future__ import annotations

import logging
import re
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
    head: bytearray = field(default_factory=bytearray)  # what arrived: the head, then the body
    has_head: bool = False


HEAD_END = re.compile(rb"\r?\n\r?\n")
CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
CHUNKED = re.compile(rb"(?im)^transfer-encoding:.*chunked")
TIMED_OUT = b"HTTP/1.0 408 Request Timeout\r\nContent-Type: text/plain\r\nConnection: close\r\n"


def head_is_complete(head: bytes) -> bool:
    """Whether the request line and headers have ended (a blank line, CRLF or bare LF)."""
    return HEAD_END.search(head) is not None


def chunks_ended(body: bytes) -> bool:
    """Whether a chunked body has ended (its zero-size chunk), or is malformed (no use waiting)."""
    at = 0
    while (line_end := body.find(b"\n", at)) >= 0:
        try:
            size = int(body[at:line_end].split(b";")[0].strip(), 16)
        except ValueError:
            return True  # malformed: the server answers 400
        if size == 0:
            rest = body[line_end + 1 :]
            return rest.startswith((b"\r\n", b"\n")) or HEAD_END.search(rest) is not None
        at = line_end + 1 + size + 2  # the chunk's data and its CRLF
    return False


def request_is_complete(received: bytes, max_body: int) -> bool:
    """Whether the head and the whole body are in (or the body is over max_body: answer 413)."""
    end = HEAD_END.search(received)
    head, body = received[: end.start()], received[end.end() :]
    if len(body) > max_body:
        return True
    declared = CONTENT_LENGTH.search(head)
    if CHUNKED.search(head):
        return chunks_ended(body)
    wanted = int(declared.group(1)) if declared else 0
    return wanted > max_body or len(body) >= wanted  # over the limit: 413 from the head alone


class HeadGate:
    """Holds connections until their request head is in, then calls dispatch(sock, address, head).

    dispatch runs in the gate's thread and must not block (submit to a pool).
    """

    def __init__(
        self,
        dispatch: Dispatch,
        *,
        seconds: float,
        max_waiting: int,
        max_head: int,
        max_body: int,
    ):
        self._dispatch, self._seconds = dispatch, seconds
        self._max_waiting, self._max_head, self._max_body = max_waiting, max_head, max_body
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
        if not waiting.has_head and head_is_complete(waiting.head):
            waiting.has_head = True
            waiting.deadline = time.monotonic() + self._seconds  # the body's, from the head
        if waiting.has_head:
            ready = request_is_complete(waiting.head, self._max_body)
        else:
            ready = len(waiting.head) >= self._max_head
        if ready:
            self._selector.unregister(sock)
            del self._waiting[sock]
            sock.setblocking(True)
            self._dispatch(sock, waiting.address, bytes(waiting.head))

    def _expire(self) -> None:
        now = time.monotonic()
        for sock in [sock for sock, waiting in self._waiting.items() if waiting.deadline < now]:
            if self._waiting[sock].has_head:
                reason = f"Request Timeout: the body did not arrive within {self._seconds:g} s.\n"
                try:
                    sock.send(TIMED_OUT + f"Content-Length: {len(reason)}\r\n\r\n{reason}".encode())
                except OSError:
                    pass
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        del self._waiting[sock]
        sock.close()
