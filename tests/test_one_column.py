"""Adding a column from a new request field is one edit: an entry in the model's COLUMNS.

The test makes that one edit (FromCity, a field Twilio sends with every message) and finds
the column in the panel's text, its HTML table and the room's cards, served for real on
loopback and texted by the local Twilio.
"""

from __future__ import annotations

import pytest

from quickstart.sms.sms_conversation import create_app
from smskit import conversations, serve
from smskit.conversations import COLUMNS, Column
from smskit.countdown import WallClock
from smskit.panel import ConversationPanel
from smskit.room import Room

pytestmark = pytest.mark.integration  # starts a server

CITY = Column(
    "city", "city", lambda r: r.fields["city"], read=lambda e: e.form.get("FromCity", ""), card=True
)


@pytest.fixture
def server():
    with serve(create_app({"SECRET_KEY": "k"}), "one-column") as s:
        yield s


def test_one_entry_in_the_schema_shows_in_the_text_the_table_and_the_cards(monkeypatch, server):
    monkeypatch.setattr(conversations, "COLUMNS", (*COLUMNS, CITY))  # the one edit
    panel = ConversationPanel(server)
    room = Room(server, number="+15005550006", expiry=WallClock(), status="testing")
    try:
        delivery = panel.twilio.text("+14158675309", "+15005550006", "hi", FromCity="Berkeley")
        assert delivery.ok
        panel.render(), room.render()
        header, row = panel.text().splitlines()[1:3]
        assert header.split()[-1] == "city" and row.split()[-1] == "Berkeley"
        assert "<th class='smskit-city'>city</th>" in panel.table.value
        assert "<td class='smskit-city'>Berkeley</td>" in panel.table.value
        assert "<div class='room-city'>Berkeley</div>" in room.cards.value
    finally:
        panel.close(), room.close()
