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
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from .countdown import Countdown, Expiry
from .events import MessageEvent
from .numbers import mask_number
from .optout import Keyword, keyword

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the model keeps of one From/To pair: its latest event, already interpreted."""

    sender: str
    to: str
    who: str
    count: int | None
    messages: int
    message: str
    reply: str
    session: dict
    texted_at: float  # wall-clock epoch seconds of the latest message
    cookie_set_at: float | None  # ... of the latest reply that carried a session
    opted_out: bool
    fields: dict = field(default_factory=dict)  # what the columns that read a request kept
    arrived: int = 0  # the order of its first message among the model's conversations


@dataclass(frozen=True, slots=True)
class Row:
    """One conversation as shown: its record and its countdown, on the countdown's clock."""

    conversation: Conversation
    countdown: Countdown

    def __getattr__(self, name: str):
        if name in Conversation.__slots__:  # the record's facts read as the row's own
            return getattr(self.conversation, name)
        raise AttributeError(name)

    @property
    def expires_in(self) -> float | None:
        """Seconds the cookie has left; None: no cookie."""
        return self.countdown.left

    @property
    def since(self) -> float | None:
        """Seconds since the last message."""
        return self.countdown.since

    @property
    def clock(self) -> str:
        """Which clock the countdown follows."""
        return self.countdown.clock

    @property
    def queued(self) -> float | None:
        """Seconds until its last reply leaves the sender's queue (None: none waits, or unknown)."""
        return self.countdown.queued


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


def hidden(text: str) -> str:
    """A message body on a public screen: not shown at all."""
    return ""


MASKS = {"numbers": mask_number, "messages": hidden}  # what a public screen hides, and how


@dataclass(frozen=True)
class Column:
    """One column of the conversation table; the panel's text, its HTML and the room's cards
    all read COLUMNS. `read` keeps a request's value (a MessageEvent's form) as fields[key];
    `card` puts the column on the room's cards, `table` in the panel's text and table (a card's
    empty text shows nothing); `private` names what a public screen masks."""

    key: str  # the HTML cell's class is smskit-<key>, the card's room-<key>
    title: str
    cell: Callable[[Row], str]
    read: Callable[[MessageEvent], object] | None = None
    card: bool = False
    private: str | None = None  # a key of MASKS
    table: bool = True

    def text(self, row: Row, reveal: Collection[str] = tuple(MASKS)) -> str:
        """The cell's text; masked unless what it is (numbers, messages) is in reveal."""
        text = self.cell(row)
        return text if self.private is None or self.private in reveal else MASKS[self.private](text)


COLUMNS = (
    Column("who", "who", lambda r: r.who, card=True, private="numbers"),
    Column("from", "From", lambda r: r.sender, private="numbers"),
    Column("to", "To", lambda r: r.to),
    Column("count", "count", lambda r: "-" if r.count is None else str(r.count), card=True),
    Column("expires", "expires in", lambda r: remaining(r.expires_in), card=True),
    Column("clock", "clock", lambda r: r.clock),
    Column("queued", "reply", lambda r: waiting(r.queued), card=True, table=False),
    Column("optout", "opted out", lambda r: "yes" if r.opted_out else "no", card=True),
    Column("session", "session", lambda r: session_text(r.session)),
    Column("message", "last message", lambda r: r.message, card=True, private="messages"),
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


def waiting(seconds: float | None) -> str:
    """A reply still in the carrier's queue: "reply queued: 12 s"; "" once it left."""
    return "" if seconds is None else f"reply queued: {math.ceil(seconds)} s"


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


def table_text(totals: Totals, rows: list[Row], columns: tuple[Column, ...]) -> str:
    """The totals line, then the table's columns as aligned plain text."""
    columns = tuple(c for c in columns if c.table)
    table = [tuple(c.title for c in columns)] + [tuple(c.text(r) for c in columns) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
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
        columns: tuple[Column, ...] | None = None,
    ):
        """columns: what rows show (default: COLUMNS, as it is when the model is made)."""
        self.expiry, self.names, self.counter_key = expiry, names, counter_key
        self.columns = COLUMNS if columns is None else columns
        self._reads = [(c.key, c.read) for c in self.columns if c.read is not None]
        self._conversations: OrderedDict[tuple[str, str], Conversation] = OrderedDict()
        self._messages = self._refused = self._opted_out = self._arrivals = 0
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
                message=event.body,
                reply=reply_text(event),
                session=event.session,
                texted_at=when,
                cookie_set_at=when if event.session else (old.cookie_set_at if old else None),
                opted_out=opted_out,
                fields={key: read(event) for key, read in self._reads},
                arrived=old.arrived if old else self._arrivals,
            )
            self._arrivals += old is None
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
        return Row(c, self.expiry.countdown(c.sender, c.to, c.texted_at, c.cookie_set_at))

    def text(self, limit: int | None = None) -> str:
        """The totals and the rows as plain text (deterministic for a given history)."""
        return table_text(self.totals(), self.rows(limit), self.columns)

    def __len__(self) -> int:
        return len(self._conversations)
