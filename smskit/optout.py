"""Twilio's default opt-out keywords on a long code: STOP, START and HELP, and their replies.

Twilio reads a message as a keyword only when the whole message is that one word (any case,
surrounding spaces ignored): "STOP" opts the phone out, "STOP PLEASE" is an ordinary
message. It still passes every keyword message on to the webhook, so a handler, the panel
and the room can all tell who opted out from the messages alone.
Source: Twilio's support article "Twilio support for opt-out keywords (SMS STOP filtering)".
"""

from __future__ import annotations

from enum import StrEnum


class Keyword(StrEnum):
    """What a keyword message does to the From/To pair."""

    STOP = "STOP"  # opt out: Twilio delivers no more messages from the number to the phone
    START = "START"  # opt back in
    HELP = "HELP"  # Twilio answers with its help text; nothing changes


KEYWORDS = {
    Keyword.STOP: {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"},
    Keyword.START: {"START", "YES", "UNSTOP"},
    Keyword.HELP: {"HELP", "INFO"},
}

_BY_WORD = {word: keyword for keyword, words in KEYWORDS.items() for word in words}


def keyword(body: str) -> Keyword | None:
    """The keyword a whole message is, or None for an ordinary message."""
    return _BY_WORD.get(body.strip().upper())
