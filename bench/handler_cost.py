"""1. Handler cost in-process: microseconds per webhook request, each carrying the last cookie.

Every app gets the same Twilio-shaped POST (the form the local Twilio sends) and each request
carries the cookie of that app's previous answer, as Twilio does. Two harnesses, interleaved:
"wsgi" calls the WSGI app directly (the handler's own cost), "test client" goes through Flask's
test client and its cookie jar (how tests and notebooks call a handler in-process).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from werkzeug.test import EnvironBuilder

from quickstart.sms.sms_conversation import production_app
from smskit import LocalTwilio

from .apps import create_docs, create_floor, create_layer
from .common import Spread, interleaved, ratios, where_time_goes

URL = "http://localhost/sms"
SENDER, OURS = "+14158675309", "+15005550006"
KEY = "bench key, 32 characters or more as the quickstart requires"
TOKEN = "12345"  # a made-up auth token, for the signature-checking arm
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def webhook_request(app, signed_by: str | None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one incoming-message webhook, as the local Twilio builds them."""
    twilio = LocalTwilio(app, url=URL, auth_token=signed_by)
    form = twilio.params(SENDER, OURS, "hello", "SM" + "0" * 32)
    headers = {"Content-Type": FORM_TYPE}
    if signed_by:
        headers["X-Twilio-Signature"] = twilio.signature(URL, form)
    return urlencode(form).encode(), headers


class WsgiCaller:
    """Calls a WSGI app directly, sending back the name=value of its last Set-Cookie."""

    def __init__(self, app, signed_by: str | None = None):
        self.app = app
        self.body, headers = webhook_request(app, signed_by)
        self.template = EnvironBuilder(
            path="/sms", base_url="http://localhost", method="POST", headers=headers, data=self.body
        ).get_environ()
        self.cookie = ""
        self.status = ""

    def _start_response(self, status, headers, exc_info=None):
        self.status = status
        for name, value in headers:
            if name.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]

    def once(self) -> bytes:
        environ = dict(self.template)
        environ["wsgi.input"] = io.BytesIO(self.body)
        if self.cookie:
            environ["HTTP_COOKIE"] = self.cookie
        answer = self.app(environ, self._start_response)
        try:
            return b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()


class ClientCaller:
    """Posts through Flask's test client, whose cookie jar keeps the cookie."""

    def __init__(self, app, signed_by: str | None = None):
        self.client = app.test_client()
        self.body, self.headers = webhook_request(app, signed_by)
        self.status = ""

    def once(self) -> bytes:
        response = self.client.post("/sms", data=self.body, headers=self.headers)
        self.status = response.status
        return response.get_data()


def microseconds(caller, requests: int) -> float:
    """Mean microseconds per request over a batch of requests."""
    started = time.perf_counter()
    for _ in range(requests):
        caller.once()
    return (time.perf_counter() - started) * 1e6 / requests


@dataclass
class HandlerResult:
    per_request: dict[str, Spread]  # µs, by arm
    ratio: dict[str, Spread]  # against the floor of the same harness
    target: float
    profile: str | None

    def quickstart_ratio(self, harness: str) -> Spread:
        return self.ratio[f"{harness}: quickstart"]


def apps() -> dict[str, tuple[object, str | None]]:
    """Each app under test, and the auth token its requests are signed with."""
    return {
        "floor": (create_floor(), None),
        "quickstart": (production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None}), None),
        "docs-style": (create_docs(KEY), None),
        "quickstart, signature checked": (
            production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN}),
            TOKEN,
        ),
    }


def layers() -> dict[str, object]:
    """Steps from the floor to docs-style, to show where the time goes."""
    return {
        "floor + form": create_layer(KEY, counts=False),
        "floor + form + session": create_layer(KEY, counts=True),
    }


def arms() -> dict[str, WsgiCaller | ClientCaller]:
    callers: dict[str, WsgiCaller | ClientCaller] = {}
    for name, (app, token) in apps().items():
        callers[f"wsgi: {name}"] = WsgiCaller(app, token)
    for name, app in layers().items():
        callers[f"wsgi: {name}"] = WsgiCaller(app)
    for name, (app, token) in apps().items():
        callers[f"test client: {name}"] = ClientCaller(app, token)
    return callers


def check(callers: dict[str, WsgiCaller | ClientCaller]) -> None:
    """Each app answers 200, and the counting ones count to 2: the cookie really is carried."""
    for name, caller in callers.items():
        caller.once()
        second = caller.once()
        if not caller.status.startswith("200"):
            raise RuntimeError(f"handler benchmark: {name} answered {caller.status}")
        counts = "quickstart" in name or "docs-style" in name
        if counts and b" 2 times" not in second:
            raise RuntimeError(f"handler benchmark: {name} did not count to 2: {second!r}")


def run(repeats: int = 9, requests: int = 600, target: float = 2.0) -> HandlerResult:
    callers = arms()
    check(callers)
    for caller in callers.values():  # warm caches and imports before timing
        microseconds(caller, 200)
    batches: dict[str, Callable[[], float]] = {
        name: (lambda c=caller: microseconds(c, requests)) for name, caller in callers.items()
    }
    values = interleaved(batches, repeats)
    ratio = {}
    for name in callers:
        harness = name.split(":")[0]
        if name != f"{harness}: floor":
            ratio[name] = Spread.of(ratios(values, name, f"{harness}: floor"))
    result = HandlerResult({n: Spread.of(v) for n, v in values.items()}, ratio, target, None)
    if max(result.quickstart_ratio(h).median for h in ("wsgi", "test client")) > target:
        quickstart = callers["wsgi: quickstart"]
        result.profile = where_time_goes(lambda: microseconds(quickstart, 3000))
    return result
