"""The desktop edition's server: a WSGI app served from a background thread of this process.

>>> server = serve(app, name="sms")   # again with the same name replaces it cleanly
>>> server.url
'http://127.0.0.1:PORT'
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Response

from .gate import HeadGate
from .registry import Server
from .transport import HttpTransport

log = logging.getLogger(__name__)

# A lesson's request is a few KB (Twilio's largest webhook is under 24 KB: a 1,600-character Body,
# at most 10 media URLs); anything over a megabyte is refused with 413 before it is read.
MAX_BODY_BYTES = 1024 * 1024
# Seconds a client has to send its request head, and then each read and write may take: Twilio
# itself gives up on a webhook after 15 s.
SOCKET_TIMEOUT = 10.0
# Requests handled at once (threads); connections still sending their head wait in the gate and
# hold no thread, so slow clients cannot take them all (the lessons' requests take milliseconds).
MAX_WORKERS = 32
WORKER_THREAD_PREFIX = "smskit-server-worker"
MAX_WAITING = 2048  # connections waiting for their head; beyond, the oldest is closed
MAX_HEAD_BYTES = 64 * 1024  # werkzeug answers a longer request line or header itself (414/431)
BACKLOG = 1024

_received = threading.local()  # the request head the gate read, for the worker that handles it


class _Prefixed(io.RawIOBase):
    """A stream that yields the bytes the gate already read, then the rest of the connection."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase):
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            count = min(len(buffer), len(self.head))
            buffer[:count], self.head = self.head[:count], self.head[count:]
            return count
        try:
            return self.rest.readinto1(buffer)  # what has arrived, not a full buffer
        except TimeoutError:
            raise
        except OSError:  # reset, or read again after a timeout: the connection has ended
            return 0


class QuietRequestHandler(WSGIRequestHandler):
    """Sends access log lines to the smskit.server logger, never to a cell's stderr."""

    # One request per connection: after a re-run, no kept-alive socket reaches the old app.
    protocol_version = "HTTP/1.0"
    timeout = SOCKET_TIMEOUT  # socketserver applies it to every read and write

    def setup(self) -> None:
        super().setup()
        head = getattr(_received, "head", b"")
        if head:
            self.rfile = io.BufferedReader(_Prefixed(head, self.rfile))

    def log_request(self, code="-", size="-"):
        log.info('"%s %s" %s', self.command, getattr(self, "path", "-"), code)  # no path: 414

    def log(self, type, message, *args):
        getattr(log, type)(message.rstrip(), *args)


class KernelWSGIServer(ThreadedWSGIServer):
    """werkzeug's server behind a HeadGate and MAX_WORKERS threads, logging to smskit.server.

    The accepting thread only hands each connection to the gate; the gate passes it to the pool
    once its request head is in.
    """

    _gate: HeadGate | None = None  # werkzeug's __init__ calls server_close before we have one

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix=WORKER_THREAD_PREFIX)
        self._gate = HeadGate(
            lambda sock, address, head: self._pool.submit(self._handle, sock, address, head),
            seconds=SOCKET_TIMEOUT,
            max_waiting=MAX_WAITING,
            max_head=MAX_HEAD_BYTES,
            max_body=MAX_BODY_BYTES,
        )

    def process_request(self, request, client_address):
        self._gate.add(request, client_address)

    def _handle(self, request, client_address, head: bytes) -> None:
        _received.head = head
        try:
            self.process_request_thread(request, client_address)  # handles, then closes
        finally:
            _received.head = b""

    def server_close(self) -> None:
        super().server_close()
        if self._gate is not None:
            self._gate.close()
            self._pool.shutdown(wait=False)  # requests under way finish, within the timeouts

    def log(self, type, message, *args):
        getattr(log, type)(message.rstrip(), *args)

    def handle_error(self, request, client_address):
        log.info("Connection from %s ended early", client_address, exc_info=True)


def plain(status: int, text: str) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")


def bounded_body(app):
    """WSGI middleware: read the body first, at most MAX_BODY_BYTES (413), a broken one is 400.

    werkzeug's server has no body limit of its own, and a malformed chunked body surfaces as an
    OSError inside whatever app reads it (a 500 with a traceback).
    """

    def guarded(environ, start_response):
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            refusal = plain(413, f"Content Too Large: over {MAX_BODY_BYTES} bytes.")
            return refusal(environ, start_response)
        if declared.isdigit() or environ.get("wsgi.input_terminated"):
            wanted = int(declared) if declared.isdigit() else MAX_BODY_BYTES + 1
            try:
                body = environ["wsgi.input"].read(wanted)
            except TimeoutError:
                refusal = plain(408, f"Request Timeout: no body within {SOCKET_TIMEOUT:g} s.")
                return refusal(environ, start_response)
            except OSError:
                refusal = plain(400, "Bad Request: the request body could not be read.")
                return refusal(environ, start_response)
            if len(body) > MAX_BODY_BYTES:
                return plain(413, f"Content Too Large: over {MAX_BODY_BYTES} bytes.")(
                    environ, start_response
                )
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.update(
                {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                 "wsgi.input_terminated": False}
            )  # fmt: skip
        return app(environ, start_response)

    return guarded


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; raises OSError (werkzeug would exit the kernel instead)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


class InKernelServer(Server):
    """A WSGI app served on a loopback port by a daemon thread: the desktop edition's Server."""

    def __init__(self, app, name: str, host: str = "127.0.0.1", port: int = 0, events=None):
        with listening_socket(host, port) as listener:  # werkzeug keeps a duplicate of it
            self._server = KernelWSGIServer(
                host, port, bounded_body(app), handler=QuietRequestHandler, fd=listener.fileno()
            )
        super().__init__(app, name, events)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"smskit-server-{name}",
            daemon=True,
        )
        self._thread.start()
        log.info("Serving %r at %s", name, self.url)

    @classmethod
    def start(cls, app, name: str, old: Server | None, port: int | None = None) -> InKernelServer:
        """Serve app in place of old: on its port when free (a tunnel to it stays valid)."""
        feed = old.events if old is not None else None
        wanted = port if port is not None else (old.port if old is not None else 0)
        try:
            return cls(app, name, port=wanted, events=feed)
        except OSError:
            if port is not None:
                raise OSError(
                    f"Port {port} is taken; call serve() without port= to pick a free one."
                ) from None
            return cls(app, name, port=0, events=feed)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def transport(self) -> HttpTransport:
        return HttpTransport()

    def _halt(self) -> None:
        """End the thread and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
