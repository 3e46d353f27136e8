"""The browser edition's server (Pyodide has no sockets or threads): the app called in-process.

serve() hands out an InProcessServer at `http://<name>.lite`. A local Twilio reaches it with the
transport the server hands out (InProcessTransport); `requests` reaches it through a transport
adapter that calls the WSGI app in-process (werkzeug's test client), so that `requests`, its
Session's cookies and `show_exchange` work as over HTTP.

Why requests' adapter is swapped process-wide (in the browser only, at the first serve()): the
lessons call `requests.get(...)` and `requests.Session()` themselves, as learners will with any
real server, so there is no session the kit could hand out and mount an adapter on; and requests
has no public hook for the adapters a new Session mounts (Session.__init__ mounts the name
`requests.sessions.HTTPAdapter`), so that name is the one place to reach them all. No library
does this for every `requests` call: requests-wsgi-adapter (last released in 2019) must be
mounted on each Session by hand. On the desktop nothing is swapped.

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
from urllib3 import HTTPResponse
from werkzeug.http import http_date
from werkzeug.test import Client

from .events import EventFeed
from .registry import Server, serving
from .transport import Answer, Deadlines, WsgiTransport, call_app
from .twiml import WebhookError

log = logging.getLogger(__name__)

DOMAIN = ".lite"  # a name no real host has; nothing under it is ever looked up

_plain_adapter = requests.sessions.HTTPAdapter


def host_for(name: str) -> str:
    """The host name of the server called name ("Sessions 2" -> "sessions-2.lite")."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "webhook"
    return label + DOMAIN


class InProcessServer(Server):
    """A WSGI app reachable at http://<name>.lite in this process: the browser edition's Server."""

    def __init__(self, app, name: str, events: EventFeed | None = None):
        super().__init__(app, name, events)
        self.host, self.port = host_for(name), 80
        self._running = True

    @classmethod
    def start(cls, app, name: str, old: Server | None, port: int | None = None) -> InProcessServer:
        """Serve app in place of old, keeping its events (no ports in a browser: port is unused)."""
        install_adapter()
        server = cls(app, name, events=old.events if old is not None else None)
        log.info("Serving %r in-process at %s", name, server.url)
        return server

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def running(self) -> bool:
        return self._running

    def transport(self) -> InProcessTransport:
        return InProcessTransport()

    def _halt(self) -> None:
        self._running = False


def app_at(url: str):
    """The app an in-process server answers url with now, or None if nothing is served there."""
    server = serving(url)
    return server.app if isinstance(server, InProcessServer) else None


class InProcessTransport:
    """A local Twilio's way to a *.lite URL: the app serving it now, called in-process.

    Like a port, the address is looked up at each request, so a server served again under
    the same name answers the local Twilio made for the one before.
    """

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
        if not (urlsplit(request.url).hostname or "").endswith(DOMAIN):
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
    client = Client(app, use_cookies=False)
    answer = call_app(client, request.method, request.url, dict(request.headers), request.body)
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
