"""Twilio's default opt-out keywords on a long code: STOP, START and HELP, and their replies.

Twilio reads a message as a keyword only when the whole message is that one word (any case,
surrounding spaces ignored): "STOP" opts the phone out, "STOP PLEASE" is an ordinary
message. It still passes every keyword message on to the webhook, so a handler, the panel
and the room can all tell who opted out from the messages alone.
Source: Twilio's support article "Twilio support for opt-out keywords (SMS STOP filtering)",
https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering
"""

from __future__ import annotations

import threading
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

# Twilio's standard replies on a long code. The STOP and START texts are as Twilio sends them
# (quoted, e.g., in TextIt's "Managing Opt-Outs through Twilio Channels"); the support article
# lists the keywords but its copy we could read does not quote the HELP text, so that one is
# the usual wording, not a verified quote (see docs/fidelity.md).
DEFAULT_REPLIES = {
    Keyword.STOP: "You have successfully been unsubscribed. You will not receive any more "
    "messages from this number. Reply START to resubscribe.",
    Keyword.START: "You have successfully been re-subscribed to messages from this number. "
    "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    Keyword.HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}

# What Twilio's Messages API answers when a reply goes to a phone that texted STOP
# (https://www.twilio.com/docs/api/errors/21610).
UNSUBSCRIBED = (
    "Message cannot be sent to the 'To' number because the customer has replied with STOP."
)

_BY_WORD = {word: keyword for keyword, words in KEYWORDS.items() for word in words}


def keyword(body: str) -> Keyword | None:
    """The keyword a whole message is, or None for an ordinary message."""
    return _BY_WORD.get(body.strip().upper())


class OptOuts:
    """Which phones have texted STOP to which numbers: Twilio's block list, thread-safe."""

    def __init__(self, pairs=()):
        self._pairs: set[tuple[str, str]] = {tuple(pair) for pair in pairs}
        self._lock = threading.Lock()

    def pairs(self) -> list[tuple[str, str]]:
        """The (phone, number) pairs opted out now, sorted."""
        with self._lock:
            return sorted(self._pairs)

    def __contains__(self, pair: tuple[str, str]) -> bool:
        with self._lock:
            return pair in self._pairs

    def apply(self, sender: str, to: str, word: Keyword | None) -> None:
        """Record what a keyword message does to the pair (STOP adds it, START removes it)."""
        with self._lock:
            if word is Keyword.STOP:
                self._pairs.add((sender, to))
            elif word is Keyword.START:
                self._pairs.discard((sender, to))
