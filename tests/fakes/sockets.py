"""Local sockets that misbehave on purpose, to test Twilio's deadlines in well under a second.

* `stalled_address()`: a listening socket whose accept queue is already full, so a new TCP
  connection is never completed (the connect times out, as to a host that drops packets).
* `ScriptedServer`: accepts connections and answers each with a script (stall, trickle, or
  a plain HTTP answer), keeping every request it read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stalled_address() -> Iterator[str]:
    """http://127.0.0.1:PORT where a TCP connection is never completed (queue of one, full)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # Linux queues backlog + 1 = one connection, the filler's
        filler.connect(listener.getsockname())
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def read_request(conn: socket.socket) -> bytes:
    """One HTTP request (headers and Content-Length body) from conn."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answer(status: str = "200 OK", body: bytes = b"<Response/>", headers: dict | None = None):
    """A script that answers the request at once."""
    headers = {"Content-Type": "text/xml", **(headers or {})}

    def script(conn: socket.socket, n: int) -> None:
        fields = {**headers, "Content-Length": len(body), "Connection": "close"}
        head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        conn.sendall(f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body)

    return script


def stall(seconds: float = 5.0):
    """A script that reads the request and says nothing for `seconds`."""

    def script(conn: socket.socket, n: int) -> None:
        time.sleep(seconds)

    return script


def trickle(body: bytes, every: float):
    """A script that sends headers, then the body one byte every `every` seconds."""

    def script(conn: socket.socket, n: int) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        for byte in body:
            time.sleep(every)
            conn.sendall(bytes([byte]))

    return script


class ScriptedServer:
    """Accepts connections; the n-th request (from 0) is answered by scripts[min(n, last)]."""

    def __init__(self, *scripts: Callable[[socket.socket, int], None]):
        self.scripts = scripts
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # so that the accepting thread sees close() soon
        self.closed = False
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            conn.settimeout(None)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            request = read_request(conn)
            if not request:
                return
            n = len(self.requests)
            self.requests.append(request)
            with contextlib.suppress(OSError):  # the client may have given up
                self.scripts[min(n, len(self.scripts) - 1)](conn, n)

    def headers(self, n: int) -> dict[str, str]:
        """The n-th request's headers."""
        head = self.requests[n].partition(b"\r\n\r\n")[0].decode()
        return dict(line.split(": ", 1) for line in head.split("\r\n")[1:])

    def close(self) -> None:
        self.closed = True
        self.thread.join(timeout=5)
        self.listener.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
