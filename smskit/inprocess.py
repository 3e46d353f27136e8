"""serve() in the browser edition (Pyodide): no sockets and no threads, so no real server.

Instead serve() hands out an InProcessServer at `http://<name>.lite`, and a `requests` transport
adapter answers that host by calling the WSGI app in-process (werkzeug's test client), so that
`requests`, its Session's cookies and `show_exchange` work as over HTTP, and `LocalTwilio` reaches
the URL too. No library does this for every `requests` call: requests-wsgi-adapter (last released
in 2019) must be mounted on each Session by hand, while the lessons also call `requests.get`.

>>> server = serve(app, name="sms")      # in a browser
>>> server.url
'http://sms.lite'
"""

from __future__ import annotations

import io
import logging
import re
import sys
from email.message import Message
from importlib.metadata import version
from types import SimpleNamespace
from urllib.parse import urlsplit

import requests
import requests.sessions
from flask import Flask
from urllib3 import HTTPResponse
from werkzeug.http import http_date
from werkzeug.test import Client

from .events import EventFeed
from .transport import Answer, Deadlines, WsgiTransport
from .twiml import WebhookError

log = logging.getLogger(__name__)

DOMAIN = ".lite"  # a name no real host has; nothing under it is ever looked up

_servers: dict[str, InProcessServer] = {}  # by host
_plain_adapter = requests.sessions.HTTPAdapter


def host_for(name: str) -> str:
    """The host name of the server called name ("Sessions 2" -> "sessions-2.lite")."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "webhook"
    return label + DOMAIN


class InProcessServer:
    """A WSGI app reachable at http://<name>.lite by `requests` in this process."""

    def __init__(self, app, name: str, events: EventFeed | None = None):
        self.app, self.name = app, name
        self.events = events if events is not None else EventFeed()
        self.host, self.port = host_for(name), 80
        self._unwatch = self.events.watch(app) if isinstance(app, Flask) else None
        self.running = True

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def stop(self) -> None:
        """Stop answering requests; harmless when already stopped."""
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        self.running = False
        if _servers.get(self.host) is self:
            del _servers[self.host]

    def __enter__(self) -> InProcessServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "in-process" if self.running else "stopped"
        return f"<InProcessServer {self.name!r} at {self.url} ({state})>"


def serve_in_process(app, name: str = "webhook") -> InProcessServer:
    """Serve app at http://<name>.lite in this process, replacing any server of that name."""
    install_adapter()
    old = _servers.pop(host_for(name), None)
    if old is not None:
        old.stop()
    server = InProcessServer(app, name, events=old.events if old is not None else None)
    _servers[server.host] = server
    log.info("Serving %r in-process at %s", name, server.url)
    return server


def is_in_process(url: str) -> bool:
    """Whether url is an in-process server's (served or not)."""
    return (urlsplit(url).hostname or "").endswith(DOMAIN)


def app_at(url: str):
    """The app an in-process server answers url with, or None if nothing is served there."""
    server = _servers.get(urlsplit(url).hostname or "")
    return server.app if server is not None else None


class InProcessTransport:
    """LocalTwilio's way to a *.lite URL: the app serving it now, called in-process."""

    def send(
        self, method: str, url: str, headers: dict, body: bytes | None, deadlines: Deadlines
    ) -> Answer:
        app = app_at(url)
        if app is None:
            raise WebhookError(11200, f"could not reach {url} (nothing is served there).")
        return WsgiTransport(app).send(method, url, headers, body, deadlines)


class InProcessAdapter(_plain_adapter):
    """requests' HTTP adapter, except that it answers *.lite hosts from their app in-process."""

    def send(self, request, **kwargs):
        if not is_in_process(request.url):
            return super().send(request, **kwargs)
        app = app_at(request.url)
        if app is None:
            raise requests.ConnectionError(
                f"Nothing is served at {request.url}: run the cell that calls serve() first.",
                request=request,
            )
        return self.build_response(request, wsgi_response(app, request))


def wsgi_response(app, request: requests.PreparedRequest) -> HTTPResponse:
    """Call app with the request and answer as an HTTP/1.0 server would (like serve()'s)."""
    parts = urlsplit(request.url)
    answer = Client(app, use_cookies=False).open(
        parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method,
        headers=dict(request.headers),
        data=request.body,
    )
    headers = list(answer.headers.items())
    headers += [
        ("Server", f"Werkzeug/{version('werkzeug')} Python/{sys.version.split()[0]}"),
        ("Date", http_date()),
    ]
    message = Message()  # what requests reads Set-Cookie from, as from http.client
    for name, value in headers:
        message[name] = value
    return HTTPResponse(
        body=io.BytesIO(answer.get_data()),
        headers=headers,
        status=answer.status_code,
        reason=answer.status.partition(" ")[2],
        version=10,
        preload_content=False,
        original_response=SimpleNamespace(msg=message, isclosed=lambda: True),
    )


def install_adapter() -> None:
    """Make every new requests.Session (requests.get too) use InProcessAdapter for http(s)."""
    # requests has no global hook: Session() mounts requests.sessions.HTTPAdapter, so swap that.
    requests.sessions.HTTPAdapter = InProcessAdapter


def uninstall_adapter() -> None:
    """Put requests' own adapter back (for tests on the desktop)."""
    requests.sessions.HTTPAdapter = _plain_adapter
