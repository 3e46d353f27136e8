"""6. Memory the live panel keeps for 100,000 refused requests, beside 100,000 conversations.

Each arm builds a fresh panel on a served quickstart and publishes 100,000 finished requests
on the server's event feed, as the server does after handling each one (built directly: over
HTTP the same count takes minutes): *refused* are 403s, each from its own sender with its own
body (forged requests); *accepted* are 200s from as many conversations, which a panel must
keep. Retained memory: tracemalloc's current size once the events are in, minus before
(garbage collected both times), so only what the panel holds on to counts.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass

from .common import Spread, interleaved

OURS = "+15005550006"
KEY = "bench key"


@dataclass
class RefusalsResult:
    requests: int
    retained_mb: dict[str, Spread]  # by arm
    seconds: dict[str, Spread]  # to publish the arm's events
    target_mb: float


def retained(status: int, requests: int) -> tuple[float, float]:
    """MB a fresh panel retains after `requests` events of that status, and seconds taken."""
    from quickstart.sms.sms_conversation import create_app
    from smskit import serve
    from smskit.events import MessageEvent
    from smskit.panel import ConversationPanel

    with serve(create_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None}), "bench-refusals") as s:
        panel = ConversationPanel(s)
        try:
            session, replies = ({}, ()) if status >= 400 else ({"counter": 1}, ("hi",))
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            for n in range(requests):
                body = f"forged message number {n} " * 4
                s.events.publish(
                    MessageEvent(f"+1628{n:07d}", OURS, body, session, replies, status, "/sms")
                )
            seconds = time.perf_counter() - started
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            panel.close()
    return kept / 1e6, seconds


def run(requests: int = 100_000, rounds: int = 3, target_mb: float = 20.0) -> RefusalsResult:
    tracemalloc.start()
    try:
        seconds: dict[str, list[float]] = {"refused (403)": [], "accepted (200)": []}

        def arm(name: str, status: int):
            def once() -> float:
                mb, took = retained(status, requests)
                seconds[name].append(took)
                return mb

            return once

        mb = interleaved(
            {name: arm(name, 403 if "403" in name else 200) for name in seconds}, rounds
        )
    finally:
        tracemalloc.stop()
    return RefusalsResult(
        requests=requests,
        retained_mb={k: Spread.of(v) for k, v in mb.items()},
        seconds={k: Spread.of(v) for k, v in seconds.items()},
        target_mb=target_mb,
    )
