"""Messages of one conversation racing to several hosts, as when Twilio delivers two at once.

>>> race(["http://127.0.0.1:8001/sms", "http://127.0.0.1:8002/sms"], token, rounds=20)
(42, 42)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .clock import SimulatedClock
from .cookies import CookieJars
from .simulator import LocalTwilio

SENDER, OURS = "+14158675309", "+15005550006"


@dataclass(frozen=True)
class Outcome:
    """A race's figures: messages sent, those the hosts answered with a reply, and the count."""

    sent: int
    delivered: int
    counted: int

    @property
    def lost(self) -> int:
        """Counts lost: delivered messages the last reply does not count (refused ones aside)."""
        return self.delivered - self.counted


def race_outcome(urls: list[str], token: str | None, rounds: int = 20) -> Outcome:
    """One conversation's messages, one to each host at the same moment, rounds times.

    Every host's local Twilio shares one cookie jar, as Twilio keeps one per conversation. The
    last message ("how many?") must be delivered for the count to be read.
    """
    jars = CookieJars(SimulatedClock())
    hosts = [LocalTwilio(url, auth_token=token, jars=jars) for url in urls]
    deliveries = [hosts[0].text(SENDER, OURS, "first")]
    with ThreadPoolExecutor(len(hosts)) as pool:
        for _ in range(rounds):
            deliveries += pool.map(lambda host: host.text(SENDER, OURS, "at once"), hosts)
    last = hosts[-1].text(SENDER, OURS, "how many?")
    if not last.ok:
        raise RuntimeError(f"The last message was refused ({last.error}): run the race again.")
    delivered = sum(delivery.ok for delivery in deliveries) + 1
    return Outcome(len(deliveries) + 1, delivered, int(last.reply.split()[-2]))


def race(urls: list[str], token: str | None, rounds: int = 20) -> tuple[int, int]:
    """(messages sent, the count in the conversation's last reply): see race_outcome."""
    outcome = race_outcome(urls, token, rounds)
    return outcome.sent, outcome.counted
