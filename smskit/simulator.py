"""A local Twilio: sends incoming-message webhooks exactly as Twilio does, and keeps the cookies.

Where each behaviour comes from, and where the local Twilio knowingly differs: docs/fidelity.md.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from .carrier import Carrier, Outgoing, segments
from .clock import SimulatedClock
from .cookies import CookieJars, ExpiryRule
from .optout import DEFAULT_REPLIES, UNSUBSCRIBED, Keyword, OptOuts, keyword
from .registry import transport_to
from .transport import Answer, Transport, WsgiTransport, split_overrides
from .twiml import TwilioWarning, WebhookError, read_reply

logger = logging.getLogger(__name__)

MAX_BODY = 1600  # characters Twilio delivers in one incoming message
MAX_REPLIES = 10  # <Message> replies to one incoming message (warning 14109)
MAX_DOCUMENTS = 50  # TwiML documents one message may fetch through <Redirect> (warning 14106)
# HTTP redirects followed in a row before 11215. Twilio documents the error, not the number:
# 10 is the bound browsers and HTTP clients commonly use (see docs/fidelity.md).
MAX_HTTP_REDIRECTS = 10
REDIRECT_STATUSES = {301, 302, 303, 307}  # the only ones Twilio follows (error 11216's page)

# The order of the parameters and headers in three real captures of Twilio's inbound-SMS
# requests (2022–2024); MessagingServiceSid comes after To when the number has a service.
PARAMETER_ORDER = (
    "ToCountry ToState SmsMessageSid NumMedia ToCity FromZip SmsSid FromState SmsStatus "
    "FromCity Body FromCountry To MessagingServiceSid ToZip NumSegments MessageSid AccountSid "
    "From ApiVersion"
).split()
FORM = "application/x-www-form-urlencoded"  # no charset, as captured


def new_sid(prefix: str) -> str:
    """A Twilio-style identifier: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class Delivery:
    """One incoming message and what came of it: the replies the phone gets, or Twilio's error.

    `replies` is everything the phone receives: Twilio's own opt-out reply (`auto_reply`)
    first, then the webhook's. `blocked` holds the webhook's replies Twilio did not send
    because the phone had texted STOP (error 21610); `warnings` what Twilio would log.
    """

    sender: str
    to: str
    body: str
    message_sid: str
    status: int | None
    replies: tuple[str, ...]
    cookie_sent: str | None
    set_cookies: tuple[str, ...]
    error: WebhookError | None = None
    warnings: tuple[TwilioWarning, ...] = ()
    auto_reply: str | None = None
    blocked: tuple[str, ...] = ()
    signed: bool = False
    outgoing: tuple[Outgoing, ...] = ()  # each reply's way out: when it left, or its error

    @property
    def left(self) -> float | None:
        """When (clock seconds) the last reply left the sender's queue; None if none did."""
        return max((o.left for o in self.outgoing if o.left is not None), default=None)

    @property
    def waited(self) -> float:
        """Seconds the last reply waited in the sender's queue."""
        return max((o.waited for o in self.outgoing if o.left is not None), default=0.0)

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


@dataclass
class Exchange:
    """What the webhook said over one message's requests (redirects followed)."""

    status: int | None = None
    cookie_sent: str | None = None
    set_cookies: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    warnings: list[TwilioWarning] = field(default_factory=list)
    error: WebhookError | None = None


WEB_PAGE = "the server answered with a web page (is this the webhook's URL?)"


def refusal_reason(answer: Answer) -> str:
    """The server's own one-line reason for a non-2xx answer (tags stripped), or ''.

    A page with scripts (another app's 404, JupyterLab's) has no one-line reason: it is named.
    """
    text = answer.body.decode("utf-8", errors="replace")
    kind = answer.content_type or ""
    if "javascript" in kind or ("html" in kind and re.search(r"<script\b", text, re.I)):
        return WEB_PAGE
    if "html" in kind:
        text = html.unescape(re.sub(r"<[^>]*>", "\n", text))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[-1] if "html" in (answer.content_type or "") and lines else ""
    reason = reason or (lines[0] if lines else "")
    return reason if len(reason) <= 200 else reason[:199] + "…"


class LocalTwilio:
    """Stands in for Twilio: texts a webhook (a URL, or a WSGI app in-process).

    `transport` is how the requests reach the URL; by default the one its server hands out
    when it is served here (the browser edition's are reached no other way), else HTTP, where
    `via` sends the requests for a public URL to a local address (see HttpTransport).
    `timeout` (seconds) shortens Twilio's 15 s total deadline; the URL's fragment
    (#ct=…&rt=…&tt=…&rc=…&rp=…) overrides the deadlines as Twilio's does.
    STOP/START/HELP are handled as on a Twilio long code unless `opt_out=False`;
    `advanced_opt_out` (replies per Keyword, "" for none) acts like Advanced Opt-Out,
    which also adds OptOutType to the webhook's parameters. `jars` and `opt_outs` may be
    shared, or loaded from a file (the command line's jar file keeps both).

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
        timeout: float | None = None,
        account_sid: str | None = None,
        messaging_service_sid: str | None = None,
        jars: CookieJars | None = None,
        via: str | None = None,
        opt_out: bool = True,
        advanced_opt_out: dict[Keyword, str] | None = None,
        opt_outs: OptOuts | None = None,
        carrier: Carrier | None = None,
        transport: Transport | None = None,
    ):
        if isinstance(webhook, str):
            self.url, self.deadlines = split_overrides(webhook, timeout)
            self.transport = transport if transport is not None else transport_to(self.url, via)
        else:
            self.url, self.deadlines = split_overrides(url, timeout)
            self.transport = WsgiTransport(webhook)
        if method not in ("POST", "GET"):
            raise ValueError("Twilio calls webhooks with POST or GET.")
        self.method = method
        self.auth_token = auth_token
        self.clock = clock if clock is not None else SimulatedClock()
        self.jars = jars if jars is not None else CookieJars(self.clock, rule)
        self.account_sid = account_sid or new_sid("AC")
        self.messaging_service_sid = messaging_service_sid
        self.opt_out = opt_out
        self.advanced_opt_out = advanced_opt_out
        self.opt_outs = opt_outs if opt_outs is not None else OptOuts()
        self.carrier = carrier if carrier is not None else Carrier(self.clock)  # the reply queue

    def params(self, sender: str, to: str, body: str, message_sid: str) -> dict[str, str]:
        """The parameters of an incoming-message webhook, in the order Twilio sends them."""
        values = {
            "ToCountry": "US" if to.startswith("+1") else "",
            "ToState": "",
            "SmsMessageSid": message_sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": message_sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US" if sender.startswith("+1") else "",
            "To": to,
            "MessagingServiceSid": self.messaging_service_sid,
            "ToZip": "",
            "NumSegments": str(segments(body)),
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        return {name: values[name] for name in PARAMETER_ORDER if values[name] is not None}

    def signature(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature for a request to url with these form parameters."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def opted_out(self, sender: str, to: str) -> bool:
        """Whether the phone `sender` texted STOP to `to` (and not START since)."""
        return (sender, to) in self.opt_outs

    def text(self, sender: str, to: str, body: str, **extra: str) -> Delivery:
        """Deliver one SMS from sender to to; extra parameters are added as Twilio might."""
        if len(body) > MAX_BODY:
            raise ValueError(f"Twilio delivers at most {MAX_BODY} characters in one message.")
        word = keyword(body) if self.opt_out else None
        was_out = self.opted_out(sender, to)
        message_sid = new_sid("SM")
        params = self.params(sender, to, body, message_sid) | extra
        if word and self.advanced_opt_out is not None:
            params["OptOutType"] = word.value  # Advanced Opt-Out's extra parameter
        self.opt_outs.apply(sender, to, word)
        exchange = self.exchange(sender, to, params)
        auto_reply = self.auto_reply(word, was_out)
        texts, warnings, blocked = exchange.texts, exchange.warnings, ()
        if len(texts) > MAX_REPLIES:
            warnings.append(
                TwilioWarning(14109, f"{len(texts)} replies; Twilio sends the first {MAX_REPLIES}.")
            )
            texts = texts[:MAX_REPLIES]
        if texts and self.opted_out(sender, to):  # Twilio's block list stops the replies
            blocked, texts = tuple(texts), []
            warnings.append(TwilioWarning(21610, UNSUBSCRIBED))
        outgoing = self.carrier.send(to, sender, ([auto_reply] if auto_reply else []) + texts)
        return Delivery(
            sender=sender,
            to=to,
            body=body,
            message_sid=message_sid,
            status=exchange.status,
            replies=tuple(reply.body for reply in outgoing if reply.error is None),
            cookie_sent=exchange.cookie_sent,
            set_cookies=tuple(exchange.set_cookies),
            error=exchange.error,
            warnings=tuple(warnings),
            auto_reply=auto_reply,
            blocked=blocked,
            signed=bool(self.auth_token),
            outgoing=outgoing,
        )

    def auto_reply(self, word: Keyword | None, was_out: bool) -> str | None:
        """Twilio's own answer to a keyword; none to HELP from a phone that had opted out."""
        if word is None or (word is Keyword.HELP and was_out):
            return None
        replies = DEFAULT_REPLIES if self.advanced_opt_out is None else self.advanced_opt_out
        return replies.get(word) or None

    def exchange(self, sender: str, to: str, params: dict[str, str]) -> Exchange:
        """Fetch the webhook's TwiML, following HTTP redirects and <Redirect> as Twilio does."""
        exchange = Exchange()
        url, method, hops, documents = self.url, self.method, 0, 1
        try:
            while True:
                answer, cookie, problems = self.request(sender, to, url, method, params)
                if exchange.status is None:
                    exchange.cookie_sent = cookie
                exchange.status = answer.status
                exchange.set_cookies += answer.set_cookies
                if problems and exchange.error is None:  # Twilio refuses the cookie, not the reply
                    exchange.error = WebhookError(11206, problems[0])
                if answer.status // 100 == 3:
                    hops += 1
                    url, method = self.follow(answer, url, method, hops)
                    continue
                if not 200 <= answer.status < 300:
                    reason = refusal_reason(answer)
                    said = f" It said: {reason}" if reason else ""
                    raise WebhookError(
                        11200, f"the webhook answered HTTP {answer.status}, not 2xx.{said}"
                    )
                reply = read_reply(answer.status, answer.content_type, answer.body)
                exchange.texts += reply.texts
                exchange.warnings += reply.warnings
                if reply.redirect is None:
                    return exchange
                if documents == MAX_DOCUMENTS:
                    detail = f"stopped after {MAX_DOCUMENTS} TwiML documents (a <Redirect> loop?)."
                    exchange.warnings.append(TwilioWarning(14106, detail))
                    return exchange
                documents, hops = documents + 1, 0
                url, method = urljoin(url, reply.redirect.url), reply.redirect.method
        except WebhookError as error:
            exchange.error = error
        return exchange

    def follow(self, answer: Answer, url: str, method: str, hops: int) -> tuple[str, str]:
        """Where an HTTP redirect leads, as Twilio follows it (errors 11215 and 11216)."""
        if answer.status not in REDIRECT_STATUSES or not answer.location:
            raise WebhookError(
                11216,
                f"HTTP {answer.status} is not a redirect Twilio follows (301, 302, 303, "
                "307 with a Location).",
            )
        if hops > MAX_HTTP_REDIRECTS:
            raise WebhookError(11215, f"more than {MAX_HTTP_REDIRECTS} redirects in a row.")
        return urljoin(url, answer.location), "GET" if answer.status == 303 else method

    def request(self, sender, to, url, method, params) -> tuple[Answer, str | None, list[str]]:
        """One request, signed, with the pair's cookies: the answer, the Cookie sent, and the
        problems with any Set-Cookie Twilio refuses (the others are stored)."""
        form = params
        if method == "GET":
            url, form = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}", {}
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if form:
            headers["Content-Type"] = FORM
        headers |= {"Accept": "*/*", "Accept-Encoding": "gzip", "X-Home-Region": "us1"}
        headers["I-Twilio-Idempotency-Token"] = str(uuid.uuid4())  # kept by a retried connection
        if self.auth_token:
            headers["X-Twilio-Signature"] = self.signature(url, form)
        path = urlsplit(url).path or "/"
        cookie = self.jars.cookie_header(sender, to, path)
        if cookie:
            headers["Cookie"] = cookie
        body = urlencode(form).encode() if form else None
        answer = self.transport.send(method, url, headers, body, self.deadlines)
        problems = self.jars.receive(sender, to, answer.set_cookies, path, answer.date)
        return answer, cookie, problems
