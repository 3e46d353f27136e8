"""A rehearsal for room mode: N simulated phones text one number at random, at a chosen rate.

>>> rehearsal = Rehearsal(server.url + "/sms", "+15005550006", phones=50, rate=5)
>>> rehearsal.start()          # a daemon thread; rehearsal.delivered counts what got through

Every message goes through one local Twilio (signed with the app's token, with a cookie jar
per phone) over real HTTP to the served app, on the wall clock, so the room's countdowns
move as they will on the day. The order of phones is `plan(...)`: the same seed gives the
same messages, so a test can know what each phone sent (`planned`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

from .carrier import Carrier
from .clock import SystemClock
from .simulator import LocalTwilio

log = logging.getLogger(__name__)

BODIES = ("hello!", "is this thing on?", "counting...", "hi from the back row", "one more")
STOP_EVERY = 40  # about one message in this many is STOP
FIRST_PHONE = 15550100001  # simulated phones are +1 555 010 0001, +1 555 010 0002, ...


def phone_number(index: int) -> str:
    """The number of simulated phone `index` (0-based): each ends in its own four digits."""
    return f"+{FIRST_PHONE + index}"


def plan(phones: int, messages: int | None = None, seed: int = 0) -> Iterator[tuple[int, str]]:
    """Which phone texts what next, at random: every phone once first (in random order), so
    each has a card, then any phone; stops after `messages` when given. About one message
    in STOP_EVERY is STOP, and a phone that stopped sends START next, so a rehearsal shows
    opt-outs coming and going."""
    chooser = random.Random(seed)
    order = list(range(phones))
    chooser.shuffle(order)
    stopped: set[int] = set()
    sent = 0
    while messages is None or sent < messages:
        phone = order[sent] if sent < phones else chooser.randrange(phones)
        if phone in stopped:
            body = "START"
            stopped.discard(phone)
        elif chooser.randrange(STOP_EVERY) == 0:
            body = "STOP"
            stopped.add(phone)
        else:
            body = chooser.choice(BODIES)
        yield phone, body
        sent += 1


def planned(phones: int, messages: int, seed: int = 0) -> tuple[Counter[str], set[str]]:
    """Under plan(phones, messages, seed): how many messages each number sends, and which
    numbers end opted out."""
    counts: Counter[str] = Counter()
    opted_out: set[str] = set()
    for phone, body in plan(phones, messages, seed):
        number = phone_number(phone)
        counts[number] += 1
        if body == "STOP":
            opted_out.add(number)
        elif body == "START":
            opted_out.discard(number)
    return counts, opted_out


class Rehearsal:
    """Simulated phones texting `to` through one local Twilio, from a daemon thread."""

    def __init__(
        self,
        url: str,
        to: str,
        *,
        phones: int,
        rate: float,
        messages: int | None = None,
        auth_token: str | None = None,
        seed: int = 0,
        sender: str = "long-code",
    ):
        if phones < 1 or rate <= 0:
            raise ValueError("A rehearsal needs at least one phone and a rate above 0 per second.")
        self.to, self.phones, self.rate, self.messages, self.seed = to, phones, rate, messages, seed
        clock = SystemClock()  # the carrier's queue drains on the wall clock, as on the day
        self.twilio = LocalTwilio(
            url, auth_token=auth_token, clock=clock, carrier=Carrier(clock, sender)
        )
        self.delivered = self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smskit-rehearsal", daemon=True)

    def start(self) -> Rehearsal:
        self._thread.start()
        return self

    def _run(self) -> None:
        """Send on schedule (message i at start + i/rate); a slow reply delays, never skips."""
        started = time.monotonic()
        for sent, (phone, body) in enumerate(plan(self.phones, self.messages, self.seed)):
            if self._stop.wait(max(0.0, started + sent / self.rate - time.monotonic())):
                return
            delivery = self.twilio.text(phone_number(phone), self.to, body)
            # Delivered: the webhook handled it (a reply Twilio withholds from an opted-out
            # phone does not undo that).
            if delivery.status is not None and delivery.status < 400:
                self.delivered += 1
            else:
                self.failed += 1
                log.warning("Rehearsal message not delivered: %s", delivery.error)

    @property
    def finished(self) -> bool:
        return self._thread.ident is not None and not self._thread.is_alive()

    def summary(self) -> str:
        """Like "Offline rehearsal: 50 simulated phones, 5 messages/s, 120 delivered, 0 failed;
        long code queue: 12 replies wait, the last leaves in 12 s"."""
        state = "finished, " if self.finished else ""
        return (
            f"Offline rehearsal: {self.phones} simulated phones, {self.rate:g} messages/s, "
            f"{state}{self.delivered:,} delivered, {self.failed:,} failed; "
            f"{self.twilio.carrier.summary()}"
        )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
