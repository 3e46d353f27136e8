"""The carrier's pace: a sender's replies leave one queue at its rate, on the local Twilio's clock.

>>> carrier = Carrier(SimulatedClock(), "long-code")      # 1 segment a second, Twilio's default
>>> carrier.send("+15005550006", "+14158675309", ["hi"])   # (Outgoing(... waited=0.0 ...),)

Nothing waits for real: each reply is given the time it leaves (the queue's next free moment)
and how long it waited, so a simulated clock fast-forwards the queue like everything else.
Replies are counted in segments (GSM-7 160/153, UCS-2 70/67: segments below). A reply
Twilio would not send fails with its code: 21617 (over 1,600 characters), 14107 (more than 30
replies between one pair less than 30 s apart) and 30001 (more than 10 hours queued). Sources:
docs/fidelity.md. Written by hand: no library models a carrier's queue.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from .twiml import TwilioCode

SENDERS = {"long-code": 1.0, "toll-free": 3.0, "short-code": 100.0}  # segments per second
MAX_REPLY = 1600  # characters: a longer reply is not sent (21617)
PAIR_REPLIES, PAIR_GAP = 30, 30.0  # more than 30 replies each < 30 s after the last: 14107
MAX_QUEUED = 10 * 3600.0  # seconds a reply may wait in the queue before it fails (30001)
REPLY_ERRORS = {
    14107: "SMS send rate limit exceeded",  # https://www.twilio.com/docs/errors/14107
    21617: "The concatenated message body exceeds the 1600 character limit",
    30001: "Queue overflow",  # https://www.twilio.com/docs/api/errors/30001
}

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


@dataclass(frozen=True)
class ReplyFailed(TwilioCode):
    """A reply Twilio accepted from the webhook but did not send, with its error code."""

    TITLES = REPLY_ERRORS
    code: int
    detail: str


@dataclass(frozen=True)
class Outgoing:
    """One reply on its way: when it leaves (clock seconds), how long it waited, its segments."""

    body: str
    segments: int
    left: float | None  # None: it failed and never leaves
    waited: float = 0.0
    error: ReplyFailed | None = None


class Carrier:
    """One sender's outgoing queue at `rate` segments a second (a sender's name or a number)."""

    def __init__(self, clock, sender: str = "long-code", rate: float | None = None):
        if rate is None and sender not in SENDERS:
            raise ValueError(f"The sender is one of {', '.join(SENDERS)}, or give a rate.")
        self.clock, self.sender = clock, sender
        self.rate = float(rate if rate is not None else SENDERS[sender])
        if self.rate <= 0:
            raise ValueError("A sender's rate is above 0 segments per second.")
        self._free_at = 0.0  # clock seconds when the queue next has room
        self._leaving: deque[float] = deque()  # when each queued reply leaves, in order
        self._pairs: dict[tuple[str, str], tuple[int, float]] = {}  # (count, last reply)
        self._last_leaves: dict[tuple[str, str], float] = {}  # when each pair's last reply leaves
        self._lock = threading.Lock()

    def send(self, sender: str, to: str, bodies: list[str]) -> tuple[Outgoing, ...]:
        """Queue the replies from sender to to, in order; each says when it leaves or why not."""
        with self._lock:
            return tuple(self._queue(sender, to, body, segments(body)) for body in bodies)

    def _queue(self, sender: str, to: str, body: str, parts: int) -> Outgoing:
        now = self.clock.now()
        if len(body) > MAX_REPLY:
            detail = f"a reply of {len(body):,} characters; Twilio sends at most {MAX_REPLY:,}."
            return Outgoing(body, parts, None, error=ReplyFailed(21617, detail))
        count, last = self._pairs.get((sender, to), (0, -PAIR_GAP))
        count = count + 1 if now - last < PAIR_GAP else 1
        self._pairs[(sender, to)] = (count, now)
        if count > PAIR_REPLIES:
            detail = f"reply {count} to {to} within {PAIR_GAP:g} s of the one before; failed."
            return Outgoing(body, parts, None, error=ReplyFailed(14107, detail))
        start = max(now, self._free_at)
        if start - now > MAX_QUEUED:
            detail = f"{(start - now) / 3600:.1f} hours of replies queued before this one."
            return Outgoing(body, parts, None, error=ReplyFailed(30001, detail))
        self._free_at = start + parts / self.rate
        self._leave_until(now)
        self._leaving.append(start)
        self._last_leaves[(sender, to)] = start
        return Outgoing(body, parts, start, waited=start - now)

    def _leave_until(self, now: float) -> None:
        while self._leaving and self._leaving[0] <= now:
            self._leaving.popleft()

    def backlog(self) -> tuple[int, float]:
        """How many replies still wait, and in how many seconds the last one leaves (0: none)."""
        with self._lock:
            now = self.clock.now()
            self._leave_until(now)
            return len(self._leaving), self._leaving[-1] - now if self._leaving else 0.0

    def queued(self, sender: str, to: str) -> float | None:
        """Seconds until the last reply from sender to to leaves; None: none still waits."""
        with self._lock:
            left = self._last_leaves.get((sender, to))
            now = self.clock.now()
        return None if left is None or left <= now else left - now

    def summary(self) -> str:
        """Like "long code queue: 12 replies wait, the last leaves in 12 s"."""
        waiting, last = self.backlog()
        name = self.sender.replace("-", " ")
        if not waiting:
            return f"{name} queue: empty"
        replies = "reply waits" if waiting == 1 else "replies wait"
        return f"{name} queue: {waiting:,} {replies}, the last leaves in {last:.0f} s"


def estimate(phones: int, messages_each: int, sender: str = "long-code", segments: int = 1) -> str:
    """One line for the day: how long after the last text its reply leaves, if all arrive at once.

    >>> estimate(30, 3)
    '30 phones × 3 messages on a long code: the last reply leaves about 90 s after the last text'
    """
    seconds = phones * messages_each * segments / SENDERS[sender]
    name = sender.replace("-", " ")
    return (
        f"{phones:,} phones × {messages_each:,} messages on a {name}: the last reply leaves "
        f"about {seconds:,.0f} s after the last text"
    )
