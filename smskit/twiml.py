"""Read a webhook's answer the way Twilio does: the texts a phone receives, or an error."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

# Twilio's names for the webhook errors the local Twilio can report
# (https://www.twilio.com/docs/api/errors).
TWILIO_ERRORS = {
    11200: "HTTP retrieval failure",
    11205: "HTTP connection failure",
    11206: "HTTP protocol violation",
    11215: "HTTP too many redirects",
    11216: "HTTP invalid redirect",
    12100: "Document parse failure",
    12300: "Invalid Content-Type",
}

# Warnings: Twilio logs them and still delivers what it can.
TWILIO_WARNINGS = {
    14103: "Invalid Body",  # https://www.twilio.com/docs/api/errors/14103
    14106: "Document retrieval limit reached",  # https://www.twilio.com/docs/api/errors/14106
    14109: "TwiML Reply message limit exceeded",  # https://www.twilio.com/docs/api/errors/14109
    21610: "Attempt to send to unsubscribed recipient",  # https://www.twilio.com/docs/api/errors/21610
}

TWIML_TYPES = {"text/xml", "application/xml", "text/html"}
MAX_REPLY_BODY = 1600  # characters in one <Message> (14103)


class TwilioCode:
    """Twilio's code and title for something it logs, with the local Twilio's detail."""

    KIND, TITLES = "error", TWILIO_ERRORS
    code: int
    detail: str

    @property
    def title(self) -> str:
        return self.TITLES[self.code]

    def __str__(self) -> str:
        return f"Twilio {self.KIND} {self.code} ({self.title}): {self.detail}"


class WebhookError(TwilioCode, Exception):
    """A webhook failure, with Twilio's error code and words.

    `refused` says that nothing listened at the address (the TCP connection was refused).
    """

    def __init__(self, code: int, detail: str, *, refused: bool = False):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.refused = refused


@dataclass(frozen=True)
class TwilioWarning(TwilioCode):
    """A warning Twilio would log for a delivery that still went ahead."""

    KIND, TITLES = "warning", TWILIO_WARNINGS
    code: int
    detail: str


@dataclass(frozen=True)
class Redirect:
    """A TwiML <Redirect>: where Twilio fetches the next TwiML document, and how."""

    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Reply:
    """What one TwiML document says: the texts to send, then maybe a <Redirect>."""

    texts: list[str] = field(default_factory=list)
    redirect: Redirect | None = None
    warnings: list[TwilioWarning] = field(default_factory=list)


def reply_texts(status: int, content_type: str | None, body: bytes) -> list[str]:
    """The messages a phone would get back from this answer; raises WebhookError."""
    return read_reply(status, content_type, body).texts


def read_reply(status: int, content_type: str | None, body: bytes) -> Reply:
    """The texts and the <Redirect> of an answer, as Twilio reads it; raises WebhookError."""
    if not 200 <= status < 300:
        raise WebhookError(11200, f"the webhook answered HTTP {status}, not 2xx.")
    if not body.strip():
        return Reply()  # an empty answer sends no reply
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "text/plain":
        return _checked([body.decode("utf-8", errors="replace")])
    if media_type not in TWIML_TYPES:
        raise WebhookError(
            12300, f"the webhook answered {media_type or 'no Content-Type'}; TwiML is text/xml."
        )
    return _document(body)


def _document(body: bytes) -> Reply:
    """The texts of <Message> (and the seed's legacy <Sms>) up to a <Redirect>."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as problem:
        raise WebhookError(12100, f"the answer is not well-formed XML ({problem}).") from None
    if root.tag != "Response":
        raise WebhookError(12100, f"TwiML starts with <Response>, not <{root.tag}>.")
    texts, media_only = [], set()
    for verb in root:
        if verb.tag in ("Message", "Sms"):
            part = verb.find("Body")
            texts.append(((part if part is not None else verb).text or "").strip())
            if verb.find("Media") is not None:
                media_only.add(len(texts) - 1)
        elif verb.tag == "Redirect":  # verbs after a <Redirect> are never reached
            redirect = Redirect((verb.text or "").strip(), verb.get("method", "POST").upper())
            return _checked(texts, redirect, media_only)
    return _checked(texts, None, media_only)


def _checked(texts: list[str], redirect=None, media_only=frozenset()) -> Reply:
    """Twilio's 14103: an empty body (and no media) is not sent; one over 1,600 is warned of."""
    kept, warnings = [], []
    for n, text in enumerate(texts):
        if not text and n not in media_only:
            warnings.append(TwilioWarning(14103, "a <Message> with no body or media is not sent."))
            continue
        if len(text) > MAX_REPLY_BODY:
            warnings.append(
                TwilioWarning(14103, f"a reply of {len(text)} characters is over {MAX_REPLY_BODY}.")
            )
        kept.append(text)
    return Reply(kept, redirect, warnings)
