"""Read a webhook's answer the way Twilio does: the texts a phone receives, or an error."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

# Twilio's names for the webhook errors the local Twilio can report.
TWILIO_ERRORS = {
    11200: "HTTP retrieval failure",
    11205: "HTTP connection failure",
    11206: "HTTP protocol violation",
    12100: "Document parse failure",
    12300: "Invalid Content-Type",
}

TWIML_TYPES = {"text/xml", "application/xml", "text/html"}


class WebhookError(Exception):
    """A webhook failure, with Twilio's error code and words."""

    def __init__(self, code: int, detail: str):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    @property
    def title(self) -> str:
        return TWILIO_ERRORS[self.code]

    def __str__(self) -> str:
        return f"Twilio error {self.code} ({self.title}): {self.detail}"


def reply_texts(status: int, content_type: str | None, body: bytes) -> list[str]:
    """The messages a phone would get back from this answer; raises WebhookError."""
    if not 200 <= status < 300:
        raise WebhookError(11200, f"the webhook answered HTTP {status}, not 2xx.")
    if not body.strip():
        return []  # an empty answer sends no reply
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "text/plain":
        return [body.decode("utf-8", errors="replace")]
    if media_type not in TWIML_TYPES:
        raise WebhookError(
            12300, f"the webhook answered {media_type or 'no Content-Type'}; TwiML is text/xml."
        )
    return _messages(body)


def _messages(body: bytes) -> list[str]:
    """The texts of <Message> (and the seed's legacy <Sms>) in a TwiML document."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as problem:
        raise WebhookError(12100, f"the answer is not well-formed XML ({problem}).") from None
    if root.tag != "Response":
        raise WebhookError(12100, f"TwiML starts with <Response>, not <{root.tag}>.")
    texts = []
    for verb in root:
        if verb.tag in ("Message", "Sms"):
            part = verb.find("Body")
            texts.append(((part if part is not None else verb).text or "").strip())
    return texts
