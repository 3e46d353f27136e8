"""Twilio's four-hour rule is one name in one place: smskit.cookies.COOKIE_LIFETIME.

The jars, the wall-clock countdown and the room's bar all read it, so changing it is one edit
(the test makes it, to two hours); the quickstart's generated CONVERSATION_LIFETIME (written
by notebook 03's export cell) must agree with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quickstart.sms.sms_conversation import CONVERSATION_LIFETIME, create_app
from smskit import LocalTwilio, SimulatedClock, cookies, serve
from smskit.conversations import COLUMNS, Conversations
from smskit.countdown import LocalTwilioJars, WallClock
from smskit.room import card_html

GEORGE, OURS = "+14158675309", "+15005550006"


def test_the_quickstarts_generated_lifetime_is_twilios():
    assert CONVERSATION_LIFETIME.total_seconds() == cookies.COOKIE_LIFETIME


@pytest.mark.integration  # starts a server
def test_one_edit_to_the_lifetime_reaches_the_jars_the_countdowns_and_the_cards(monkeypatch):
    monkeypatch.setattr(cookies, "COOKIE_LIFETIME", 2 * 60 * 60.0)  # the one edit
    with serve(create_app({"SECRET_KEY": "k"}), "lifetime") as server:
        twilio = LocalTwilio(server.url + "/sms", clock=SimulatedClock())
        model = Conversations(LocalTwilioJars(twilio))
        server.events.subscribe(model.add)
        twilio.text(GEORGE, OURS, "hi")
        row = model.row(GEORGE, OURS)
        assert row.countdown.lifetime == row.expires_in == 2 * 60 * 60.0
        assert "width:100.0%" in card_html(row, COLUMNS)
        twilio.clock.advance(hours=1)
        assert "width:50.0%" in card_html(model.row(GEORGE, OURS), COLUMNS)
        twilio.clock.advance(hours=1, seconds=1)
        assert twilio.jars.expires_at(GEORGE, OURS) < twilio.clock.now()  # gone at two hours
    wall = WallClock(SimulatedClock(0.0)).countdown(GEORGE, OURS, 0.0, 0.0)
    assert (wall.left, wall.lifetime) == (2 * 60 * 60.0, 2 * 60 * 60.0)
    others = [p for p in Path(cookies.__file__).parent.glob("*.py") if p.name != "cookies.py"]
    for path in others:  # no other module writes the four hours out again
        assert not re.search(r"4 ?\* ?60 ?\* ?60|14400", path.read_text()), path
