"""Room mode without a browser: cards from events, privacy by default, the rehearsal's phones.

The Room is fed by a real server's events (real HTTP on loopback, the quickstart's handler);
the widgets are real ipywidgets with inert comms, read through their values.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from quickstart.sms.sms_conversation import create_app
from smskit import LocalTwilio, serve
from smskit.carrier import Carrier
from smskit.clock import SimulatedClock
from smskit.countdown import LocalTwilioJars, WallClock
from smskit.live import go_local
from smskit.rehearsal import BODIES, Rehearsal, phone_number, plan, planned
from smskit.room import Room, RoomOptions, open_room, qr_svg
from smskit.settings import Settings
from smskit.twilio_number import hookup_files
from tests.fakes.stand_ins import LIVE_SETTINGS, NUMBER, TWILIO_TOKEN, starts

GEORGE, OURS = "+14158675309", "+15005550006"


@pytest.fixture
def server():
    with serve(
        create_app({"SECRET_KEY": "k", "TWILIO_AUTH_TOKEN": "room-token"}), "room-test"
    ) as s:
        yield s


@pytest.fixture
def room(server):
    room = Room(server, number=OURS, expiry=WallClock(), status="local only: testing")
    yield room
    room.close()


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition.__doc__}"
        time.sleep(0.01)


@pytest.mark.integration  # starts a server
def test_cards_keep_the_order_they_came_masked_and_quiet_until_the_instructor_says(server, room):
    phone = LocalTwilio(server.url + "/sms", auth_token="room-token")
    for sender, body in [(GEORGE, "first secret"), ("+14158675310", "second secret")]:
        phone.text(sender, OURS, body)
    phone.text(GEORGE, OURS, "STOP")
    LocalTwilio(server.url + "/sms").text("+14155550000", OURS, "unsigned")  # refused: 403
    room.render()
    cards = room.cards.value
    assert [int(n) for n in re.findall(r"data-count='(\d+)'", cards)] == [2, 1]  # George first
    assert cards.index("••• 5309") < cards.index("••• 5310")
    assert "415" not in cards and "secret" not in cards and "unsigned" not in cards  # 4 digits
    george = cards[: cards.index("••• 5310")]
    assert "room-out" in george and "<div class='room-optout'>opted out</div>" in george
    assert room.totals_label.value.count("2 conversations, 3 messages, 1 opted out") == 1
    assert "1 request refused" in room.totals_label.value
    room.show_numbers.value = room.show_bodies.value = True  # the instructor's toggles
    assert GEORGE in room.cards.value and "second secret" in room.cards.value
    room.close()
    assert room.cards.comm is None and room.show_numbers.comm is None  # closed, nothing leaks


@pytest.mark.integration  # starts a server
def test_the_number_is_in_large_type_and_a_qr_code_of_its_sms_link(room):
    assert "+1 500-555-0006" in room.join.value
    assert qr_svg(OURS) in room.join.value
    assert qr_svg(OURS) != qr_svg("+15005550007") and qr_svg(OURS).startswith("<svg")


def test_the_plan_gives_every_phone_a_turn_first_and_is_the_same_for_a_seed():
    first = list(plan(5, 20, seed=3))
    assert sorted(phone for phone, _ in first[:5]) == [0, 1, 2, 3, 4]
    assert first == list(plan(5, 20, seed=3))
    assert sum(planned(5, 20, seed=3)[0].values()) == 20
    assert len({phone_number(i)[-4:] for i in range(500)}) == 500  # masked, still told apart


def test_a_phone_that_stopped_starts_again_with_its_next_message():
    sent = list(plan(20, 2000, seed=0))
    stops = [i for i, (_, body) in enumerate(sent) if body == "STOP"]
    assert 20 < len(stops) < 100  # about one in STOP_EVERY
    for i in stops:
        phone = sent[i][0]
        following = next((body for p, body in sent[i + 1 :] if p == phone), "START")
        assert following == "START"


@pytest.mark.integration  # starts a server
def test_a_rehearsal_delivers_what_it_planned_through_the_local_twilio(server, room):
    rehearsal = Rehearsal(
        server.url + "/sms", OURS, phones=6, rate=200, messages=30, auth_token="room-token", seed=0
    )
    room.model.expiry = LocalTwilioJars(rehearsal.twilio)
    rehearsal.start()
    wait_for(lambda: rehearsal.finished)
    assert (rehearsal.delivered, rehearsal.failed) == (30, 0)
    counts, opted_out = planned(6, 30, seed=0)
    rows = room.model.rows()
    assert {row.sender: row.count for row in rows} == dict(counts)
    assert {row.sender for row in rows if row.opted_out} == opted_out != set()
    assert {row.clock for row in rows} == {"local Twilio"}
    assert "30 delivered, 0 failed" in rehearsal.summary()
    assert {row.message for row in rows} <= {*BODIES, "STOP", "START"}


def test_a_rehearsal_refuses_nonsense():
    with pytest.raises(ValueError, match="at least one phone"):
        Rehearsal("http://127.0.0.1:9/sms", OURS, phones=0, rate=1)


def test_options_reach_the_kernel_through_the_environment_and_back():
    options = RoomOptions(simulate=50, rate=20.0, messages=150, seed=7, trace="/tmp/x.jsonl")
    assert RoomOptions.from_environment(options.environment()) == options
    assert RoomOptions.from_environment({}) == RoomOptions()


@pytest.mark.integration  # starts a server
def test_without_credentials_the_room_says_in_one_line_what_is_missing():
    room = open_room(RoomOptions(), settings=Settings())
    try:
        room.render()
        status = room.status_label.value
        assert "No NGROK_AUTHTOKEN" in status and "--simulate" in status
        assert status.count("\n") == 0
        assert "No number yet" in room.join.value and room.number is None
    finally:
        room.close()
        room.server.stop()


def test_with_credentials_the_room_goes_live_and_counts_only_signed_requests(agent, twilio_api):
    """The real pyngrok and twilio clients, against the local stand-ins for ngrok and Twilio."""
    agent("ok")
    original = twilio_api.record["sms_url"]
    room = open_room(RoomOptions(), settings=LIVE_SETTINGS, http_client=twilio_api.client())
    try:
        assert twilio_api.record["sms_url"].endswith("/sms") and room.number == NUMBER
        assert f"{NUMBER} points here" in room.status
        # the preflight, once live: the stand-in's number is in no Messaging Service
        assert "preflight: NO A2P 10DLC: the number is in no Messaging Service" in room.status
        url = room.server.url + "/sms"
        assert LocalTwilio(url, auth_token=TWILIO_TOKEN).text(GEORGE, room.number, "hi").ok
        LocalTwilio(url).text("+14155550000", room.number, "unsigned")
        assert room.model.totals().text() == "1 conversation, 1 message, 1 request refused"
        room.render()
        assert TWILIO_TOKEN not in room.status_label.value
    finally:
        room.close()
        go_local(room.server)
        room.server.stop()
    assert twilio_api.record["sms_url"] == original


@pytest.mark.integration  # starts a server
def test_the_rehearsals_status_line_shows_the_senders_queue(server):
    rehearsal = Rehearsal(
        server.url + "/sms",
        OURS,
        phones=3,
        rate=50,
        messages=3,
        sender="toll-free",
        auth_token="room-token",
    )
    assert RoomOptions(sender="short-code").environment()["SMSKIT_ROOM_SENDER"] == "short-code"
    assert RoomOptions.from_environment({"SMSKIT_ROOM_SENDER": "toll-free"}).sender == "toll-free"
    rehearsal.start()
    wait_for(lambda: rehearsal.finished)
    assert rehearsal.twilio.carrier.rate == 3.0
    assert rehearsal.delivered == 3 and "failed; toll free queue: " in rehearsal.summary()


@pytest.mark.integration  # starts a server
def test_a_card_says_while_its_reply_waits_in_the_senders_queue(server, room):
    """Three phones text at one instant of the local Twilio's clock on a long code (one segment
    a second): the first reply leaves at once, the others wait 1 and 2 s; the clock moves on
    and the cards say nothing more. The card reads it through the schema's `queued` column."""
    clock = SimulatedClock()
    twilio = LocalTwilio(
        server.url + "/sms", auth_token="room-token", clock=clock, carrier=Carrier(clock)
    )
    room.model.expiry = LocalTwilioJars(twilio)
    phones = ["+14158675301", "+14158675302", "+14158675303"]
    for phone in phones:
        assert twilio.text(phone, OURS, "hi").ok
    room.render()
    cards = room.cards.value.split("<div class='room-card'")[1:]
    queued = [re.findall(r"<div class='room-queued'>(.*?)</div>", card) for card in cards]
    assert queued == [[], ["reply queued: 1 s"], ["reply queued: 2 s"]]
    assert "queued" not in room.model.text()  # a card's column, not the panel's
    clock.advance(seconds=2)
    room.render()
    assert "room-queued" not in room.cards.value


def test_a_second_kernel_is_told_the_room_is_open_elsewhere_and_starts_no_tunnel(
    agent, twilio_api, tmp_path, monkeypatch
):
    """Another process (a first tab's kernel) holds the number: this room claims it before any
    tunnel, so the stand-in ngrok agent is never started and the number is not touched."""
    monkeypatch.setenv("SMSKIT_HOOKUP_DIR", str(tmp_path))
    log = agent("ok")
    lock = hookup_files(NUMBER)[0]
    hold = f"from filelock import FileLock; held = FileLock({str(lock)!r}); held.acquire();"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold + "print('held', flush=True); input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        room = open_room(RoomOptions(), settings=LIVE_SETTINGS, http_client=twilio_api.client())
        try:
            assert "is open elsewhere" in room.status and room.number is None
            assert starts(log) == [] and twilio_api.updates() == []
        finally:
            room.close()
            room.server.stop()
    finally:
        holder.communicate("")
