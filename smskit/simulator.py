"""A local Twilio: sends incoming-message webhooks exactly as Twilio does, and keeps the cookies."""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from .clock import SimulatedClock
from .cookies import CookieJars, ExpiryRule
from .inprocess import InProcessTransport, is_in_process
from .transport import RESPONSE_TIMEOUT, HttpTransport, WsgiTransport
from .twiml import WebhookError, reply_texts

MAX_BODY = 1600  # characters Twilio delivers in one incoming message

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """How many SMS segments a carrier splits the body into (GSM-7 or UCS-2)."""
    if all(ch in GSM7 or ch in GSM7_EXTENSION for ch in body):
        units, single, part = len(body) + sum(ch in GSM7_EXTENSION for ch in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


def new_sid(prefix: str) -> str:
    """A Twilio-style identifier: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class Delivery:
    """One incoming message and what came of it: the replies, or Twilio's error."""

    sender: str
    to: str
    body: str
    message_sid: str
    status: int | None
    replies: tuple[str, ...]
    cookie_sent: str | None
    set_cookies: tuple[str, ...]
    error: WebhookError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reply(self) -> str | None:
        """The first reply text (most webhooks send exactly one), or None."""
        return self.replies[0] if self.replies else None

    def __repr__(self) -> str:
        outcome = f"error={self.error}" if self.error else f"replies={list(self.replies)}"
        return f"<Delivery {self.sender} -> {self.to}: {outcome}>"


class LocalTwilio:
    """Stands in for Twilio: texts a webhook (a URL, or a WSGI app in-process).

    `via` sends the requests for a public URL to a local address (see HttpTransport).

    >>> twilio = LocalTwilio(app)                        # in-process, no server needed
    >>> twilio.text("+14158675309", "+15005550006", "hi").reply
    'Curious George has messaged +15005550006 1 times'
    """

    def __init__(
        self,
        webhook,
        *,
        url: str = "http://localhost/sms",
        method: str = "POST",
        auth_token: str | None = None,
        clock=None,
        rule: ExpiryRule = ExpiryRule.FROM_SET,
        timeout: float = RESPONSE_TIMEOUT,
        account_sid: str | None = None,
        messaging_service_sid: str | None = None,
        jars: CookieJars | None = None,
        via: str | None = None,
    ):
        if isinstance(webhook, str):
            in_process = is_in_process(webhook)  # the browser edition's servers
            transport = InProcessTransport(timeout) if in_process else HttpTransport(timeout, via)
            self.url, self.transport = webhook, transport
        else:
            self.url, self.transport = url, WsgiTransport(webhook, timeout)
        if method not in ("POST", "GET"):
            raise ValueError("Twilio calls webhooks with POST or GET.")
        self.method = method
        self.auth_token = auth_token
        self.clock = clock if clock is not None else SimulatedClock()
        self.jars = jars if jars is not None else CookieJars(self.clock, rule)
        self.account_sid = account_sid or new_sid("AC")
        self.messaging_service_sid = messaging_service_sid

    def params(self, sender: str, to: str, body: str, message_sid: str) -> dict[str, str]:
        """The parameters of an incoming-message webhook, as Twilio sends them."""
        params = {
            "ToCountry": "US" if to.startswith("+1") else "",
            "ToState": "",
            "ToCity": "",
            "ToZip": "",
            "SmsMessageSid": message_sid,
            "NumMedia": "0",
            "SmsSid": message_sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": "US" if sender.startswith("+1") else "",
            "FromState": "",
            "FromCity": "",
            "FromZip": "",
            "To": to,
            "NumSegments": str(segments(body)),
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        if self.messaging_service_sid:
            params["MessagingServiceSid"] = self.messaging_service_sid
        return params

    def signature(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature for a request to url with these form parameters."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def text(self, sender: str, to: str, body: str, **extra: str) -> Delivery:
        """Deliver one SMS from sender to to; extra parameters are added as Twilio might."""
        if len(body) > MAX_BODY:
            raise ValueError(f"Twilio delivers at most {MAX_BODY} characters in one message.")
        message_sid = new_sid("SM")
        params = self.params(sender, to, body, message_sid) | extra
        url, form = self.url, params
        if self.method == "GET":
            url, form = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}", {}
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        if self.auth_token:
            headers["X-Twilio-Signature"] = self.signature(url, form)
        path = urlsplit(url).path or "/"
        cookie = self.jars.cookie_header(sender, to, path)
        if cookie:
            headers["Cookie"] = cookie
        outcome = dict(sender=sender, to=to, body=body, message_sid=message_sid, cookie_sent=cookie)
        try:
            answer = self.transport.send(
                self.method, url, headers, urlencode(form).encode() if form else None
            )
        except WebhookError as error:
            return Delivery(**outcome, status=None, replies=(), set_cookies=(), error=error)
        problems = self.jars.receive(sender, to, answer.set_cookies, path, answer.date)
        error, replies = None, ()
        try:
            replies = tuple(reply_texts(answer.status, answer.content_type, answer.body))
        except WebhookError as failure:
            error = failure
        if error is None and problems:
            error = WebhookError(11206, problems[0])
        return Delivery(
            **outcome,
            status=answer.status,
            replies=replies,
            set_cookies=tuple(answer.set_cookies),
            error=error,
        )
