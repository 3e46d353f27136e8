"""The carrier's pace in the local Twilio: a sender's queue on the simulated clock, segments,
and Twilio's errors 14107, 21617 and 30001 (sources in docs/fidelity.md)."""

from __future__ import annotations

import pytest

from smskit import LocalTwilio
from smskit.carrier import SENDERS, Carrier, estimate
from smskit.clock import SimulatedClock
from tests.support import answering

OURS = "+15005550006"


def phone(index: int) -> str:
    return f"+1555010{index:04d}"


def test_300_phones_on_a_long_code_wait_one_segment_a_second_and_the_clock_drains_it():
    clock = SimulatedClock(1_000_000)
    twilio = LocalTwilio(answering("thanks"), clock=clock)
    deliveries = [twilio.text(phone(i), OURS, "hi") for i in range(300)]
    assert [d.waited for d in deliveries] == [float(i) for i in range(300)]
    assert deliveries[-1].left == 1_000_000 + 299
    assert twilio.carrier.backlog() == (299, 299.0)
    assert twilio.carrier.summary() == "long code queue: 299 replies wait, the last leaves in 299 s"
    clock.advance(seconds=150)
    assert twilio.carrier.backlog() == (149, 149.0)
    clock.advance(seconds=150)
    assert twilio.carrier.backlog() == (0, 0.0) and twilio.carrier.summary().endswith("empty")


@pytest.mark.parametrize("sender", sorted(SENDERS))
def test_each_sender_sends_at_its_rate_in_segments(sender):
    clock = SimulatedClock(0)
    carrier = Carrier(clock, sender)
    two_segments = "🙂" * 40  # 80 UTF-16 units: UCS-2, two segments of 67
    first, second = carrier.send(OURS, phone(1), [two_segments, "ok"])
    assert first.segments == 2 and second.waited == 2 / SENDERS[sender]


def test_a_custom_rate_and_nonsense_senders():
    assert Carrier(SimulatedClock(0), "custom", rate=10).rate == 10
    with pytest.raises(ValueError, match="long-code, toll-free, short-code"):
        Carrier(SimulatedClock(0), "pigeon")
    with pytest.raises(ValueError, match="above 0"):
        Carrier(SimulatedClock(0), "custom", rate=0)


def test_more_than_30_replies_to_one_phone_within_30_s_fail_with_14107():
    clock = SimulatedClock(0)
    twilio = LocalTwilio(answering("again"), clock=clock)
    deliveries = [twilio.text(phone(1), OURS, "hi") for _ in range(35)]
    assert [len(d.replies) for d in deliveries] == [1] * 30 + [0] * 5
    assert {d.outgoing[0].error.code for d in deliveries[30:]} == {14107}
    assert twilio.text(phone(2), OURS, "hi").replies == ("again",)  # another pair is free
    clock.advance(seconds=31)
    assert twilio.text(phone(1), OURS, "hi").replies == ("again",)  # the counter starts again


def test_more_than_10_hours_queued_fails_with_30001():
    clock = SimulatedClock(0)
    carrier = Carrier(clock, "custom", rate=1 / 3600)  # an hour a segment
    sent = carrier.send(OURS, phone(1), ["x"] * 5) + carrier.send(OURS, phone(2), ["x"] * 8)
    assert [o.error.code if o.error else None for o in sent] == [None] * 11 + [30001] * 2


def test_the_days_estimate_is_one_line():
    assert estimate(30, 3) == (
        "30 phones × 3 messages on a long code: "
        "the last reply leaves about 90 s after the last text"
    )
    assert "about 3 s" in estimate(30, 10, "short-code")
