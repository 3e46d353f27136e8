"""Serve a WSGI app from a background thread of this process, such as a notebook kernel.

>>> server = serve(app, name="sms")   # again with the same name replaces it cleanly
>>> server.url
'http://127.0.0.1:PORT'
"""

from __future__ import annotations

import atexit
import logging
import socket
import threading

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .edition import IN_BROWSER
from .events import EventFeed
from .inprocess import serve_in_process

log = logging.getLogger(__name__)

_servers: dict[str, InKernelServer] = {}
_servers_lock = threading.Lock()


class QuietRequestHandler(WSGIRequestHandler):
    """Sends access log lines to the smskit.server logger, never to a cell's stderr."""

    # One request per connection: after a re-run, no kept-alive socket reaches the old app.
    protocol_version = "HTTP/1.0"

    def log_request(self, code="-", size="-"):
        log.info('"%s %s" %s', self.command, getattr(self, "path", "-"), code)  # no path: 414

    def log(self, type, message, *args):
        getattr(log, type)(message.rstrip(), *args)


class KernelWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server, logging to smskit.server."""

    def log(self, type, message, *args):
        getattr(log, type)(message.rstrip(), *args)

    def handle_error(self, request, client_address):
        log.exception("Error while serving %s", client_address)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; raises OSError (werkzeug would exit the kernel instead)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


class InKernelServer:
    """A WSGI app served on a loopback port by a daemon thread; a context manager."""

    def __init__(self, app, name: str, host: str = "127.0.0.1", port: int = 0, events=None):
        self.app, self.name = app, name
        self.events = events if events is not None else EventFeed()
        with listening_socket(host, port) as listener:  # werkzeug keeps a duplicate of it
            self._server = KernelWSGIServer(
                host, port, app, handler=QuietRequestHandler, fd=listener.fileno()
            )
        self.host, self.port = self._server.server_address[:2]
        self._unwatch = self.events.watch(app) if isinstance(app, Flask) else None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"smskit-server-{name}",
            daemon=True,
        )
        self._thread.start()
        log.info("Serving %r at %s", name, self.url)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving, free the port and end the thread; harmless when already stopped."""
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        with _servers_lock:
            if _servers.get(self.name) is self:
                del _servers[self.name]

    def __enter__(self) -> InKernelServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<InKernelServer {self.name!r} at {self.url} ({state})>"


def serve(app, name: str = "webhook", port: int | None = None) -> InKernelServer:
    """Serve app on 127.0.0.1 in a background thread, replacing any server of that name.

    A replacement keeps the old port when it can (so a tunnel pointing at it stays valid)
    and keeps the old server's event feed (so subscribers keep receiving).
    """
    if IN_BROWSER:  # no sockets or threads in a browser: see smskit/inprocess.py
        return serve_in_process(app, name)
    with _servers_lock:
        old = _servers.pop(name, None)
    if old is not None:
        old.stop()
    feed = old.events if old is not None else None
    wanted = port if port is not None else (old.port if old is not None else 0)
    try:
        server = InKernelServer(app, name, port=wanted, events=feed)
    except OSError:
        if port is not None:
            raise OSError(
                f"Port {port} is taken; call serve() without port= to pick a free one."
            ) from None
        server = InKernelServer(app, name, port=0, events=feed)
    with _servers_lock:
        _servers[name] = server
    return server


def servers() -> dict[str, InKernelServer]:
    """The servers running now, by name."""
    with _servers_lock:
        return dict(_servers)


def stop(name: str = "webhook") -> None:
    """Stop the server of that name, if there is one."""
    server = servers().get(name)
    if server is not None:
        server.stop()


@atexit.register
def stop_all() -> None:
    """Stop every server (also run when the kernel exits)."""
    for server in servers().values():
        server.stop()
