"""Messages of one conversation racing to several hosts, as when Twilio delivers two at once.

>>> race(["http://127.0.0.1:8001/sms", "http://127.0.0.1:8002/sms"], token, rounds=20)
(42, 42)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .clock import SimulatedClock
from .cookies import CookieJars
from .simulator import LocalTwilio

SENDER, OURS = "+14158675309", "+15005550006"


def race(urls: list[str], token: str | None, rounds: int = 20) -> tuple[int, int]:
    """One conversation's messages, one to each host at the same moment, rounds times.

    Every host's local Twilio shares one cookie jar, as Twilio keeps one per conversation.
    Returns (messages sent, the count in the conversation's last reply).
    """
    jars = CookieJars(SimulatedClock())
    hosts = [LocalTwilio(url, auth_token=token, jars=jars) for url in urls]
    hosts[0].text(SENDER, OURS, "first")
    with ThreadPoolExecutor(len(hosts)) as pool:
        for _ in range(rounds):
            list(pool.map(lambda host: host.text(SENDER, OURS, "at once"), hosts))
    last = hosts[-1].text(SENDER, OURS, "how many?").reply
    return 2 + rounds * len(hosts), int(last.split()[-2])
