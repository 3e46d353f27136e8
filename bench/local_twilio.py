"""3. The local Twilio through the in-kernel server: latency per message, and exact counts.

1,000 conversations x 10 messages go over real HTTP on loopback to serve(quickstart), in rounds:
round r texts every conversation once and every reply must say r. Each round is one sample of
p50/p99. The same rounds are also sent in-process (LocalTwilio calling the WSGI app), interleaved,
to show what the HTTP hop costs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from quickstart.sms.sms_conversation import production_app
from smskit import LocalTwilio, serve

from .common import Spread, interleaved, percentile, where_time_goes

OURS = "+15005550006"
KEY = "bench key, 32 characters or more as the quickstart requires"


@dataclass
class LocalTwilioResult:
    conversations: int
    messages: int
    wrong: int  # replies whose count was not the expected one
    p50: dict[str, Spread]  # ms, by path ("HTTP (serve)", "in-process")
    p99: dict[str, Spread]
    targets: tuple[float, float]
    profile: str | None


class Rounds:
    """Texts every conversation once per call, checking each reply's count."""

    def __init__(self, twilio: LocalTwilio, senders: list[str]):
        self.twilio, self.senders = twilio, senders
        self.round = 0
        self.wrong = 0
        self.p50: list[float] = []
        self.p99: list[float] = []

    def __call__(self) -> float:
        self.round += 1
        expected = f" {self.round} times"
        latencies = []
        for sender in self.senders:
            started = time.perf_counter()
            delivery = self.twilio.text(sender, OURS, "hello")
            latencies.append((time.perf_counter() - started) * 1e3)
            if not (delivery.reply or "").endswith(expected):
                self.wrong += 1
        self.p50.append(percentile(latencies, 50))
        self.p99.append(percentile(latencies, 99))
        return self.p50[-1]


def run(
    conversations: int = 1000, messages: int = 10, p50_target: float = 2.0, p99_target: float = 10.0
) -> LocalTwilioResult:
    senders = [f"+1415{n:07d}" for n in range(conversations)]
    app = production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None})
    with serve(app, name="bench-local-twilio") as server:
        paths = {
            "HTTP (serve)": Rounds(LocalTwilio(server.url + "/sms"), senders),
            "in-process": Rounds(LocalTwilio(app), senders),
        }
        interleaved(paths, messages)
        http = paths["HTTP (serve)"]
        missed = percentile(http.p50, 50) > p50_target or percentile(http.p99, 50) > p99_target
        profile = None
        if missed:
            probe = LocalTwilio(server.url + "/sms")
            profile = where_time_goes(lambda: [probe.text(s, OURS, "x") for s in senders[:300]])
    return LocalTwilioResult(
        conversations=conversations,
        messages=sum(len(r.p50) * len(senders) for r in paths.values()),
        wrong=sum(r.wrong for r in paths.values()),
        p50={name: Spread.of(r.p50) for name, r in paths.items()},
        p99={name: Spread.of(r.p99) for name, r in paths.items()},
        targets=(p50_target, p99_target),
        profile=profile,
    )
