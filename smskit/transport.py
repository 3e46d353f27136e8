"""How the local Twilio reaches a webhook: over HTTP, or by calling a WSGI app in-process.

Deadlines and retries are Twilio's:

* https://www.twilio.com/docs/api/errors/11205 — a TCP connection gets 5 s per attempt and two
  attempts; the whole exchange, connection included, gets 15 s.
* https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides — the webhook URL's
  fragment (``#ct=…&rt=…&tt=…&rc=…&rp=…``, milliseconds) overrides them, and a fragment is never
  sent on the wire. The read timeout applies to the first packet of the answer and between
  its packets, so a reply trickled slowly still ends at the total deadline.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import urllib3
from werkzeug.test import Client

from .twiml import WebhookError

logger = logging.getLogger(__name__)

# Twilio's defaults and the ranges its connection-overrides page allows (ms; rc is a count).
DEFAULTS_MS = {"ct": 5000, "rt": 15000, "tt": 15000, "rc": 1}
RANGES = {"ct": (100, 10000), "rt": (100, 15000), "tt": (100, 15000), "rc": (0, 5)}
RETRY_POLICIES = {"ct", "rt", "4xx", "5xx", "all"}
IGNORED_OVERRIDES = {"e", "edge", "sni"}  # Twilio's edge location and SNI mean nothing locally

# How many requests one transport has in flight at once. More messages wait for a free
# connection before their deadline starts, as messages queue inside Twilio; the connection
# pool holds exactly this many, so none is ever opened beyond it and then thrown away.
MAX_CONNECTIONS = 32
CHUNK = 16 * 1024


@dataclass(frozen=True)
class Deadlines:
    """Twilio's limits for one webhook request (seconds), and when it retries."""

    connect: float = DEFAULTS_MS["ct"] / 1000
    read: float = DEFAULTS_MS["rt"] / 1000
    total: float = DEFAULTS_MS["tt"] / 1000
    retries: int = DEFAULTS_MS["rc"]
    retry_on: frozenset[str] = field(default_factory=lambda: frozenset({"ct"}))

    def retries_after(self, failure: str) -> bool:
        """Whether rp asks for another attempt after this failure (ct, rt, 4xx or 5xx)."""
        return "all" in self.retry_on or failure in self.retry_on


def split_overrides(url: str, total: float | None = None) -> tuple[str, Deadlines]:
    """The URL as sent (no fragment) and the deadlines its fragment asks for.

    `total` (seconds) caps the total deadline, for a caller that wants to wait less.
    Raises ValueError with one sentence when an override is out of Twilio's range.
    """
    parts = urlsplit(url)
    values = dict(DEFAULTS_MS)
    retry_on = {"ct"}
    for key, raw in parse_qsl(parts.fragment, keep_blank_values=True):
        if key in RANGES:
            low, high = RANGES[key]
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise ValueError(f"Connection override {key}={raw} must be {low} to {high}.")
            values[key] = int(raw)
        elif key == "rp":
            retry_on = set(raw.split(","))
            if not retry_on <= RETRY_POLICIES:
                raise ValueError(f"Connection override rp={raw} takes {sorted(RETRY_POLICIES)}.")
        elif key not in IGNORED_OVERRIDES:
            logger.info("ignoring %s in %s: not a connection override", key, url)
    deadlines = Deadlines(
        connect=values["ct"] / 1000,
        read=values["rt"] / 1000,
        total=min(values["tt"] / 1000, total if total is not None else float("inf")),
        retries=values["rc"],
        retry_on=frozenset(retry_on),
    )
    return urlunsplit(parts._replace(fragment="")), deadlines


@dataclass(frozen=True)
class Answer:
    """A webhook's HTTP answer (the body already un-gzipped)."""

    status: int
    content_type: str | None
    set_cookies: list[str]
    date: str | None
    body: bytes
    location: str | None = None

    @classmethod
    def of(cls, status: int, headers, body: bytes) -> Answer:
        """The answer with this status, headers (urllib3's or werkzeug's) and un-gzipped body."""
        return cls(
            status,
            headers.get("Content-Type"),
            headers.getlist("Set-Cookie"),
            headers.get("Date"),
            body,
            headers.get("Location"),
        )


class Transport(Protocol):
    """How a local Twilio's request reaches a webhook: over HTTP, or into an app in-process."""

    def send(
        self, method: str, url: str, headers: dict, body: bytes | None, deadlines: Deadlines
    ) -> Answer:
        """The webhook's answer; raises WebhookError (11200, 11205, 11206) as Twilio logs it."""
        ...


class Attempt:
    """One request's clock: what is left of the total deadline."""

    def __init__(self, deadlines: Deadlines):
        self.deadlines = deadlines
        self.ends = time.monotonic() + deadlines.total

    def left(self) -> float:
        return self.ends - time.monotonic()

    def timed_out(self, url: str) -> WebhookError:
        return WebhookError(11205, f"no complete answer from {url} in {self.deadlines.total:g} s.")


class HttpTransport:
    """Sends requests over real HTTP with Twilio's deadlines and retries, no cookies of its own.

    With `via` ("http://127.0.0.1:8000"), requests for a public URL are sent to that address
    instead, keeping the public Host header, as a tunnel's edge would (like curl --connect-to).
    """

    def __init__(self, via: str | None = None, max_connections: int = MAX_CONNECTIONS):
        self.pool = urllib3.PoolManager(maxsize=max_connections, block=True, retries=False)
        self.slots = threading.BoundedSemaphore(max_connections)
        self.via = via.rstrip("/") if via else None

    def send(
        self, method: str, url: str, headers: dict, body: bytes | None, deadlines: Deadlines
    ) -> Answer:
        if self.via:
            parts = urlsplit(url)
            headers = {**headers, "Host": parts.netloc}
            url = f"{self.via}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
        with self.slots:  # the deadline starts when a connection is free, not before
            attempt, tries_left = Attempt(deadlines), deadlines.retries
            while True:
                try:
                    answer = self._once(attempt, method, url, headers, body)
                except _Retryable as failure:
                    if not (tries_left and deadlines.retries_after(failure.kind)):
                        raise failure.error from None
                    logger.info("retrying %s after %s (same idempotency token)", url, failure)
                else:
                    kind = f"{answer.status // 100}xx"
                    if kind not in ("4xx", "5xx") or not tries_left:
                        return answer
                    if not deadlines.retries_after(kind):
                        return answer
                tries_left -= 1

    def _once(self, attempt: Attempt, method, url, headers, body) -> Answer:
        """One attempt within what is left of the deadline; raises _Retryable or WebhookError."""
        deadlines = attempt.deadlines
        left = attempt.left()
        if left <= 0:
            raise attempt.timed_out(url)
        timeout = urllib3.Timeout(
            connect=min(deadlines.connect, left), read=min(deadlines.read, left)
        )
        try:
            response = self.pool.request(
                method,
                url,
                body=body,
                headers=headers,
                redirect=False,
                timeout=timeout,
                preload_content=False,
            )
        except urllib3.exceptions.NewConnectionError as problem:  # refused: nobody listens
            error = WebhookError(11200, f"could not reach {url} ({problem}).", refused=True)
            raise _Retryable("ct", error) from None
        except urllib3.exceptions.ConnectTimeoutError:  # (NewConnectionError is one too)
            seconds = timeout.connect_timeout
            error = WebhookError(11205, f"no TCP connection to {url} in {seconds:g} s.")
            raise _Retryable("ct", error) from None
        except urllib3.exceptions.TimeoutError:
            error = WebhookError(11205, f"{url} sent no answer in {timeout.read_timeout:g} s.")
            raise _Retryable("rt", error) from None
        except urllib3.exceptions.HTTPError as problem:
            raise WebhookError(11200, f"could not reach {url} ({problem}).") from None
        try:
            data = self._read(attempt, response, url)
        finally:
            response.release_conn()
        return Answer.of(response.status, response.headers, data)

    def _read(self, attempt: Attempt, response, url: str) -> bytes:
        """The body, un-gzipped: each packet within the read timeout, the whole in time.

        The read timeout already bounds each wait; a watchdog shuts the socket at the total
        deadline, so a reply trickled in small packets cannot outlast it.
        """
        watchdog = threading.Timer(max(attempt.left(), 0), response.shutdown)
        watchdog.start()
        chunks = []
        try:
            while chunk := response.read1(CHUNK, decode_content=True):  # one packet's worth
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            if attempt.left() > 0:
                raise WebhookError(11205, f"{url} paused longer than the read timeout.") from None
        except (urllib3.exceptions.HTTPError, OSError) as problem:
            if attempt.left() > 0:
                raise WebhookError(11206, f"the answer from {url} broke off ({problem}).") from None
        finally:
            watchdog.cancel()
        if attempt.left() <= 0:
            raise attempt.timed_out(url)
        return b"".join(chunks)


class _Retryable(Exception):
    """A failed attempt Twilio may retry (rp names its kind: ct or rt)."""

    def __init__(self, kind: str, error: WebhookError):
        super().__init__(str(error))
        self.kind = kind
        self.error = error


def call_app(client: Client, method: str, url: str, headers: dict, body: bytes | None):
    """The app's werkzeug response to the request, its URL split as a server would."""
    parts = urlsplit(url)
    return client.open(
        parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=headers,
        data=body,
    )


class WsgiTransport:
    """Calls a WSGI app in this process, as if the request had come over HTTP.

    Nothing can interrupt an app in the same process: an answer later than the total deadline
    is reported as 11205 once it comes.
    """

    def __init__(self, app):
        self.client = Client(app, use_cookies=False)

    def send(
        self, method: str, url: str, headers: dict, body: bytes | None, deadlines: Deadlines
    ) -> Answer:
        attempt = Attempt(deadlines)
        try:
            response = call_app(self.client, method, url, headers, body)
        except Exception as problem:  # the app crashed instead of answering
            raise WebhookError(11200, f"the app raised {problem!r}.") from None
        if attempt.left() <= 0:
            raise WebhookError(11205, f"the app took longer than {deadlines.total:g} s.")
        data = response.get_data()
        if response.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as problem:
                raise WebhookError(11206, f"the gzip answer is broken ({problem}).") from None
        return Answer.of(response.status_code, response.headers, data)
