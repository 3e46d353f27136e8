"""How the local Twilio reaches a webhook: over HTTP, or by calling a WSGI app in-process."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from werkzeug.test import Client

from .twiml import WebhookError

CONNECT_TIMEOUT = 10.0  # seconds; Twilio's limits
RESPONSE_TIMEOUT = 15.0


@dataclass(frozen=True)
class Answer:
    """A webhook's HTTP answer."""

    status: int
    content_type: str | None
    set_cookies: list[str]
    date: str | None
    body: bytes


class HttpTransport:
    """Sends requests over real HTTP, with Twilio's timeouts and no cookie handling of its own.

    With `via` ("http://127.0.0.1:8000"), requests for a public URL are sent to that address
    instead, keeping the public Host header, as a tunnel's edge would (like curl --connect-to).
    """

    def __init__(self, response_timeout: float = RESPONSE_TIMEOUT, via: str | None = None):
        timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=response_timeout)
        self.pool = urllib3.PoolManager(timeout=timeout, retries=False)
        self.via = via.rstrip("/") if via else None

    def send(self, method: str, url: str, headers: dict, body: bytes | None) -> Answer:
        if self.via:
            parts = urlsplit(url)
            headers = {**headers, "Host": parts.netloc}
            url = f"{self.via}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
        try:
            response = self.pool.request(method, url, body=body, headers=headers, redirect=False)
        except urllib3.exceptions.NewConnectionError as problem:  # refused: nobody listens
            raise WebhookError(11200, f"could not reach {url} ({problem}).") from None
        except urllib3.exceptions.TimeoutError:
            raise WebhookError(11205, f"no answer from {url} in time.") from None
        except urllib3.exceptions.HTTPError as problem:
            raise WebhookError(11200, f"could not reach {url} ({problem}).") from None
        return Answer(
            response.status,
            response.headers.get("Content-Type"),
            response.headers.getlist("Set-Cookie"),
            response.headers.get("Date"),
            response.data,
        )


class WsgiTransport:
    """Calls a WSGI app in this process, as if the request had come over HTTP."""

    def __init__(self, app, response_timeout: float = RESPONSE_TIMEOUT):
        self.client = Client(app, use_cookies=False)
        self.response_timeout = response_timeout

    def send(self, method: str, url: str, headers: dict, body: bytes | None) -> Answer:
        parts = urlsplit(url)
        started = time.monotonic()
        try:
            response = self.client.open(
                parts.path or "/",
                base_url=f"{parts.scheme}://{parts.netloc}",
                query_string=parts.query,
                method=method,
                headers=headers,
                data=body,
            )
        except Exception as problem:  # the app crashed instead of answering
            raise WebhookError(11200, f"the app raised {problem!r}.") from None
        if time.monotonic() - started > self.response_timeout:
            raise WebhookError(11205, f"the app took longer than {self.response_timeout:g} s.")
        return Answer(
            response.status_code,
            response.headers.get("Content-Type"),
            response.headers.getlist("Set-Cookie"),
            response.headers.get("Date"),
            response.get_data(),
        )
