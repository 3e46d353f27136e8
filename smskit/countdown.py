"""When Twilio drops a conversation's cookie, and which clock says so: one source, passed in.

Twilio keeps each conversation's cookie four hours (smskit.cookies explains both readings).
Who knows when that is depends on the phone:

* ``LocalTwilioJars(twilio)``: simulated phones. The local Twilio's own jars hold each
  cookie's deadline on its clock, so fast-forwarding that clock expires every conversation
  it carried, and only those.
* ``WallClock()``: real phones (and any conversation a jar does not hold). Twilio keeps the
  reply's cookie four hours, on the wall clock, from the last reply that set one.

Each countdown names its clock and carries the lifetime it counts down from, so a row can say
which clock it follows and a bar can show the share left. Simulated phones also know how long
their last reply still waits in the sender's queue (smskit.carrier); Twilio does not tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from . import cookies
from .clock import SystemClock

WALL_CLOCK = "wall clock"
LOCAL_TWILIO = "local Twilio"


@dataclass(frozen=True, slots=True)
class Countdown:
    """Seconds the cookie has left (None: no cookie) and since the last message, by clock."""

    left: float | None
    since: float | None
    clock: str
    lifetime: float  # what `left` counts down from
    queued: float | None = None  # seconds until its last reply leaves the carrier's queue

    @property
    def share(self) -> float:
        """The part of the lifetime left, from 0 (gone or no cookie) to 1."""
        return 0.0 if self.left is None else max(0.0, min(1.0, self.left / self.lifetime))


class Expiry(Protocol):
    """Says, for one conversation, when Twilio drops its cookie."""

    def countdown(self, sender: str, to: str, texted_at: float, cookie_set_at: float | None):
        """texted_at and cookie_set_at are wall-clock epoch seconds of the last message and
        of the last reply that carried a session (None: never)."""
        ...


class WallClock:
    """Real phones: four hours after the last reply that set a cookie, on the wall clock."""

    label = WALL_CLOCK

    def __init__(self, clock=None, lifetime: float | None = None):
        """lifetime: seconds (default: smskit.cookies.COOKIE_LIFETIME, Twilio's)."""
        self.clock = clock if clock is not None else SystemClock()
        self.lifetime = cookies.COOKIE_LIFETIME if lifetime is None else lifetime

    def countdown(self, sender, to, texted_at, cookie_set_at) -> Countdown:
        now = self.clock.now()
        if cookie_set_at is None:
            return Countdown(None, now - texted_at, self.label, self.lifetime)
        left = cookies.cookie_deadline(cookie_set_at, self.lifetime) - now
        return Countdown(left, now - texted_at, self.label, self.lifetime)


class LocalTwilioJars:
    """Simulated phones: the local Twilio's jars and its clock; other pairs go to fallback."""

    label = LOCAL_TWILIO

    def __init__(self, twilio, fallback: Expiry | None = None):
        self.twilio = twilio
        self.fallback = fallback if fallback is not None else WallClock()

    def countdown(self, sender, to, texted_at, cookie_set_at) -> Countdown:
        jars = self.twilio.jars
        jar = jars.conversations.get((sender, to))
        if jar is None:
            return self.fallback.countdown(sender, to, texted_at, cookie_set_at)
        now = self.twilio.clock.now()
        expires = jars.expires_at(sender, to)
        since = None if jar.last_message_at is None else now - jar.last_message_at
        left = None if expires is None else expires - now
        queued = self.twilio.carrier.queued(to, sender)
        return Countdown(left, since, self.label, jars.lifetime, queued)
