"""The Server protocol both editions' servers follow, and the one registry of those running.

An edition's server is a part: the desktop's (smskit.server, a thread with a socket) and the
browser's (smskit.inprocess, an app called in-process) are both a `Server`, found by name in
the same registry, stopped by the same stop() and stop_all(), and each hands a local Twilio
the `Transport` that reaches it.

>>> servers()                       # whichever edition served them
{'sms': <InKernelServer 'sms' at http://127.0.0.1:PORT (running)>}
"""

from __future__ import annotations

import atexit
import threading
from abc import ABC, abstractmethod
from urllib.parse import urlsplit

from flask import Flask

from .events import EventFeed
from .transport import HttpTransport, Transport

_servers: dict[str, Server] = {}  # by name
_lock = threading.Lock()


class Server(ABC):
    """What serve() hands out in either edition: a WSGI app served under a name; a context manager.

    The protocol, which each edition's server subclasses (the abstract parts are its own):
    * `start(app, name, old, port)` serves app in place of old, keeping what it can of it;
    * `name`, `app`, `events` (the app's EventFeed), `host`, `port`, `url`, `running`;
    * `transport()`: what a local Twilio sends its requests to this server with;
    * `stop()`: stop answering and free what it holds (`_halt()`), harmless when stopped.
    """

    host: str
    port: int

    def __init__(self, app, name: str, events: EventFeed | None = None):
        self.app, self.name = app, name
        self.events = events if events is not None else EventFeed()
        self._unwatch = self.events.watch(app) if isinstance(app, Flask) else None

    @classmethod
    @abstractmethod
    def start(cls, app, name: str, old: Server | None, port: int | None = None) -> Server: ...

    @property
    @abstractmethod
    def url(self) -> str: ...

    @property
    @abstractmethod
    def running(self) -> bool: ...

    @abstractmethod
    def transport(self) -> Transport: ...

    @abstractmethod
    def _halt(self) -> None: ...

    def stop(self) -> None:
        """Stop answering requests and free what the server holds; harmless when stopped."""
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        self._halt()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} at {self.url} ({state})>"


def replace(name: str, start) -> Server:
    """Stop the server called name, if one runs, and register start(old) in its place.

    `start` builds the new server and may take what it keeps (a port, an event feed) from
    the old one, which is None when nothing ran under that name.
    """
    with _lock:
        old = _servers.pop(name, None)
    if old is not None and not old.running:
        old = None  # stopped by hand: the new server starts afresh
    if old is not None:
        old.stop()
    server = start(old)
    with _lock:
        stale = [other for other in _servers.values() if other.url == server.url]
        for other in stale:  # two names, one address: the newer one answers there
            del _servers[other.name]
        _servers[name] = server
    for other in stale:
        other.stop()
    return server


def servers() -> dict[str, Server]:
    """The servers running now, by name (either edition's)."""
    with _lock:
        return {name: server for name, server in _servers.items() if server.running}


def serving(url: str) -> Server | None:
    """The running server whose address url is at, or None."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    return next((s for s in servers().values() if s.url == origin), None)


def stop(name: str = "webhook") -> None:
    """Stop the server of that name, if there is one."""
    with _lock:
        server = _servers.pop(name, None)
    if server is not None:
        server.stop()


@atexit.register
def stop_all() -> None:
    """Stop every server (also run when the kernel exits)."""
    with _lock:
        running = list(_servers.values())
        _servers.clear()
    for server in running:
        server.stop()


def transport_to(url: str, via: str | None = None) -> Transport:
    """What reaches url: the transport its server hands out when served here, else HTTP.

    The browser edition's servers are reached only this way (their address is no host);
    `via` sends a public URL's requests to a local address (see HttpTransport).
    """
    server = serving(url)
    return server.transport() if server is not None else HttpTransport(via)
