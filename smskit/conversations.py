"""The conversations a served app is having, built from its events alone: rows, totals, text.

>>> model = Conversations(LocalTwilioJars(twilio), names=name_for)
>>> unsubscribe = server.events.subscribe(model.add)   # any thread may call add
>>> print(model.text())

No widgets and no threads (smskit.panel_view and smskit.room render it; tests feed it events
directly). Each event is read once, when it arrives, into the few facts a row shows.
Requests the app refused (4xx: unsigned, malformed) are not conversations: they add one to
a total and nothing of them is kept, so a flood of forged requests costs nothing but a count.
A STOP message opts its conversation out and START opts it back in (smskit.optout), as
Twilio passes keyword messages on to the webhook.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .countdown import Expiry
from .events import MessageEvent
from .numbers import mask_number
from .optout import Keyword, keyword

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Conversation:
    """What the model keeps of one From/To pair: its latest event, already interpreted."""

    sender: str
    to: str
    who: str
    count: int | None
    messages: int
    body: str
    reply: str
    session: dict
    texted_at: float  # wall-clock epoch seconds of the latest message
    cookie_set_at: float | None  # ... of the latest reply that carried a session
    opted_out: bool


@dataclass(frozen=True)
class Row:
    """One conversation as shown; expires_in and since are seconds on the row's clock."""

    who: str
    sender: str
    to: str
    count: int | None
    messages: int
    message: str
    reply: str
    session: dict
    expires_in: float | None  # None: no cookie
    since: float | None  # since the last message
    clock: str  # which clock the countdown follows
    opted_out: bool

    @property
    def masked_sender(self) -> str:
        return mask_number(self.sender)


@dataclass(frozen=True)
class Totals:
    """Everything the model has seen, shown or not."""

    conversations: int
    messages: int
    opted_out: int = 0
    refused: int = 0

    def text(self) -> str:
        """Like "2 conversations, 3 messages" (opt-outs and refusals named when there are any)."""
        parts = [counted(self.conversations, "conversation"), counted(self.messages, "message")]
        if self.opted_out:
            parts.append(f"{self.opted_out:,} opted out")
        if self.refused:
            parts.append(f"{counted(self.refused, 'request')} refused")
        return ", ".join(parts)


@dataclass(frozen=True)
class Column:
    """One column of the conversation table; text and HTML views both read COLUMNS."""

    key: str  # the HTML cell's class is smskit-<key>
    title: str
    cell: Callable[[Row], str]


COLUMNS = (
    Column("who", "who", lambda r: r.who),
    Column("from", "From", lambda r: r.sender),
    Column("to", "To", lambda r: r.to),
    Column("count", "count", lambda r: "-" if r.count is None else str(r.count)),
    Column("expires", "expires in", lambda r: remaining(r.expires_in)),
    Column("clock", "clock", lambda r: r.clock),
    Column("optout", "opted out", lambda r: "yes" if r.opted_out else "no"),
    Column("session", "session", lambda r: session_text(r.session)),
    Column("message", "last message", lambda r: r.message),
    Column("reply", "reply", lambda r: r.reply),
)


def remaining(seconds: float | None) -> str:
    """A countdown as H:MM:SS, "expired", or "no cookie"."""
    if seconds is None:
        return "no cookie"
    if seconds <= 0:
        return "expired"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def ago(seconds: float | None) -> str:
    """How long ago, roughly: "just now", "42 s ago", "5 min ago", "2 h ago"."""
    if seconds is None:
        return "never"
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"


def counted(number: int, noun: str) -> str:
    """ "1 message", "10,000 messages"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def session_text(session: dict) -> str:
    """The decoded session as compact JSON."""
    return json.dumps(session, sort_keys=True, default=str, ensure_ascii=False)


def reply_text(event: MessageEvent) -> str:
    """What the app answered: its replies, "(no reply)", or the HTTP status of a failure."""
    if event.replies:
        return " / ".join(event.replies)
    return f"HTTP {event.status}" if event.status >= 400 else "(no reply)"


def table_text(totals: Totals, rows: list[Row]) -> str:
    """The totals line, then COLUMNS as aligned plain text."""
    table = [tuple(c.title for c in COLUMNS)] + [tuple(c.cell(r) for c in COLUMNS) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [totals.text()]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


class Conversations:
    """Every conversation's latest state, most recent last; fed by MessageEvents from any thread."""

    def __init__(
        self,
        expiry: Expiry,
        *,
        names: Callable[[str], str] | None = None,
        counter_key: str = "counter",
    ):
        self.expiry, self.names, self.counter_key = expiry, names, counter_key
        self._conversations: OrderedDict[tuple[str, str], Conversation] = OrderedDict()
        self._messages = self._refused = self._opted_out = 0
        self._lock = threading.Lock()
        self.version = 0  # goes up with every event taken in

    def add(self, event: MessageEvent) -> None:
        """Take one event in (a dict update under a lock: cheap on a request thread)."""
        if event.refused:
            with self._lock:
                self._refused += 1
                self.version += 1
            return
        if not event.sender:  # not a message (a browser, a health check)
            return
        count = event.session.get(self.counter_key)
        word = keyword(event.body)
        when = event.when.timestamp()
        key = (event.sender, event.to)
        with self._lock:
            old = self._conversations.pop(key, None)
            was_out = old is not None and old.opted_out
            opted_out = {Keyword.STOP: True, Keyword.START: False}.get(word, was_out)
            self._opted_out += opted_out - was_out
            self._conversations[key] = Conversation(
                sender=event.sender,
                to=event.to,
                who=old.who if old else self.names(event.sender) if self.names else event.sender,
                count=count if isinstance(count, int) and not isinstance(count, bool) else None,
                messages=(old.messages if old else 0) + 1,
                body=event.body,
                reply=reply_text(event),
                session=event.session,
                texted_at=when,
                cookie_set_at=when if event.session else (old.cookie_set_at if old else None),
                opted_out=opted_out,
            )
            self._messages += 1
            self.version += 1

    def totals(self) -> Totals:
        with self._lock:
            return Totals(len(self._conversations), self._messages, self._opted_out, self._refused)

    def rows(self, limit: int | None = None) -> list[Row]:
        """The most recent conversations first (all of them, or at most limit)."""
        with self._lock:
            recent = []
            for key in reversed(self._conversations):
                if limit is not None and len(recent) >= limit:
                    break
                recent.append(self._conversations[key])
        return [self._row(c) for c in recent]

    def row(self, sender: str, to: str) -> Row | None:
        """One conversation's row, or None if the model has not seen it."""
        with self._lock:
            conversation = self._conversations.get((sender, to))
        return None if conversation is None else self._row(conversation)

    def _row(self, c: Conversation) -> Row:
        countdown = self.expiry.countdown(c.sender, c.to, c.texted_at, c.cookie_set_at)
        return Row(
            who=c.who,
            sender=c.sender,
            to=c.to,
            count=c.count,
            messages=c.messages,
            message=c.body,
            reply=c.reply,
            session=c.session,
            expires_in=countdown.left,
            since=countdown.since,
            clock=countdown.clock,
            opted_out=c.opted_out,
        )

    def text(self, limit: int | None = None) -> str:
        """The totals and the rows as plain text (deterministic for a given history)."""
        return table_text(self.totals(), self.rows(limit))

    def __len__(self) -> int:
        return len(self._conversations)
