"""Hooking a Twilio number up to the tunnel, with twilio-python's real client.

Unless marked live, these tests replace Twilio's REST API (api.twilio.com) with a local stand-in
(tests/fakes/twilio_api.py) that speaks the same wire protocol on 127.0.0.1.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from smskit.processes import free_port
from smskit.settings import Settings, load_settings
from smskit.twilio_number import (
    NumberHookupError,
    NumberInUse,
    give_back_left_webhook,
    hookup_files,
    hookups,
    point_number,
    restore_number,
)
from tests.fakes.stand_ins import ACCOUNT, NUMBER, TWILIO_TOKEN, TwilioApi, one_sentence
from tests.fakes.twilio_api import LoopbackHttpClient
from tests.support import ROOT

TUNNEL = "https://abc123.ngrok-free.app/sms"
SETTINGS = Settings(ACCOUNT, TWILIO_TOKEN, NUMBER, None)


@pytest.fixture(autouse=True)
def hookup_dir(tmp_path, monkeypatch):
    """Each test's own folder for the number's lock and previous-webhook files."""
    monkeypatch.setenv("SMSKIT_HOOKUP_DIR", str(tmp_path))
    return tmp_path


def point_in_another_process(twilio_api) -> subprocess.Popen:
    """A process (standing in for a room's kernel) that points the number here, then waits."""
    script = f"""
import sys, time
from smskit.settings import Settings
from smskit.twilio_number import point_number
from tests.fakes.twilio_api import LoopbackHttpClient
point_number({TUNNEL!r}, Settings({ACCOUNT!r}, {TWILIO_TOKEN!r}, {NUMBER!r}, None),
             LoopbackHttpClient({twilio_api.server.url!r}, timeout=5))
print("pointed", flush=True)
sys.stdin.read()
"""
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "pointed", process.stderr.read()
    return process


def test_points_the_number_here_and_restores_the_previous_url(twilio_api):
    before = dict(twilio_api.record)
    hookup = point_number(TUNNEL, SETTINGS, twilio_api.client())
    assert (twilio_api.record["sms_url"], twilio_api.record["sms_method"]) == (TUNNEL, "POST")
    assert hookup.previous_url == before["sms_url"] and hookup.previous_method == "GET"
    assert hookups() == {NUMBER: hookup}
    listing = twilio_api.calls[0]
    assert listing[0] == "GET" and "PhoneNumber=%2B15005550006" in listing[1]
    assert (
        twilio_api.other["sms_url"] == before["sms_url"]
    )  # the account's other number is untouched

    restore_number(NUMBER)
    assert (twilio_api.record["sms_url"], twilio_api.record["sms_method"]) == (
        before["sms_url"],
        "GET",
    )
    assert hookups() == {}


def test_a_rerun_keeps_the_url_from_before_the_first_run(twilio_api):
    original = twilio_api.record["sms_url"]
    point_number(TUNNEL, SETTINGS, twilio_api.client())
    point_number(TUNNEL, SETTINGS, twilio_api.client())
    assert len(twilio_api.updates()) == 1  # already pointing here: no second change
    moved = point_number("https://def456.ngrok-free.app/sms", SETTINGS, twilio_api.client())
    assert moved.previous_url == original
    restore_number(NUMBER)
    assert twilio_api.record["sms_url"] == original


def test_a_wrong_auth_token_is_one_sentence_without_the_token(twilio_api):
    wrong = replace(SETTINGS, twilio_auth_token="not-the-token-0123456789abcdef00")
    with pytest.raises(NumberHookupError) as refused:
        point_number(TUNNEL, wrong, twilio_api.client())
    message = str(refused.value)
    assert "20003" in message and "TWILIO_AUTH_TOKEN" in message and one_sentence(message)
    assert wrong.twilio_auth_token not in message and TWILIO_TOKEN not in message
    assert twilio_api.updates() == [] and hookups() == {}


def test_a_number_not_on_the_account_is_named(twilio_api):
    stranger = replace(SETTINGS, twilio_phone_number="+15005550009")
    with pytest.raises(NumberHookupError) as unknown:
        point_number(TUNNEL, stranger, twilio_api.client())
    message = str(unknown.value)
    assert "+15005550009 is not a number of Twilio account AC…cdef" in message
    assert one_sentence(message) and twilio_api.updates() == []


@pytest.mark.integration  # starts a server
def test_a_twiml_app_on_the_number_is_reported_not_overridden():
    stand_in = TwilioApi(sms_application_sid="AP" + "1" * 32)
    try:
        with pytest.raises(NumberHookupError, match="TwiML app AP1111"):
            point_number(TUNNEL, SETTINGS, stand_in.client())
        assert stand_in.updates() == []
    finally:
        stand_in.server.stop()


def test_no_network_fails_fast_in_one_sentence():
    nobody = LoopbackHttpClient(f"http://127.0.0.1:{free_port()}", timeout=5)
    started = time.monotonic()
    with pytest.raises(NumberHookupError) as offline:
        point_number(TUNNEL, SETTINGS, nobody)
    assert time.monotonic() - started < 2
    assert "Could not reach api.twilio.com" in str(offline.value)
    assert one_sentence(str(offline.value))


@pytest.mark.parametrize(
    "settings, expected",
    [
        (Settings(), "No TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER:"),
        (replace(SETTINGS, twilio_phone_number=None), "No TWILIO_PHONE_NUMBER: copy .env.example"),
        (replace(SETTINGS, twilio_account_sid="SK123"), "TWILIO_ACCOUNT_SID should be AC"),
        (
            replace(SETTINGS, twilio_phone_number="555-1234"),
            "TWILIO_PHONE_NUMBER '555-1234' is not",
        ),
    ],
)
def test_missing_or_malformed_settings_stop_before_any_request(twilio_api, settings, expected):
    with pytest.raises(NumberHookupError) as missing:
        point_number(TUNNEL, settings, twilio_api.client())
    assert str(missing.value).startswith(expected) and one_sentence(str(missing.value))
    assert twilio_api.calls == []


def test_the_previous_url_comes_back_when_python_exits(twilio_api):
    script = f"""
from smskit.settings import Settings
from smskit.twilio_number import point_number
from tests.fakes.twilio_api import LoopbackHttpClient
point_number({TUNNEL!r}, Settings({ACCOUNT!r}, {TWILIO_TOKEN!r}, {NUMBER!r}, None),
             LoopbackHttpClient({twilio_api.server.url!r}, timeout=5))
print("pointed")
"""
    original = twilio_api.record["sms_url"]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "pointed", done.stderr
    assert [call[2].get("SmsUrl") for call in twilio_api.updates()] == [TUNNEL, original]
    assert (twilio_api.record["sms_url"], twilio_api.record["sms_method"]) == (original, "GET")


def test_a_second_process_is_told_the_room_is_open_elsewhere_and_changes_nothing(twilio_api):
    room = point_in_another_process(twilio_api)
    try:
        with pytest.raises(NumberInUse) as elsewhere:
            point_number("https://second-tab.ngrok-free.app/sms", SETTINGS, twilio_api.client())
        assert "is open elsewhere" in str(elsewhere.value) and one_sentence(str(elsewhere.value))
        assert twilio_api.record["sms_url"] == TUNNEL and len(twilio_api.updates()) == 1
        # a running room gives the number back itself: a start beside it restores nothing
        assert give_back_left_webhook(SETTINGS, twilio_api.client()) is None
        assert twilio_api.record["sms_url"] == TUNNEL
    finally:
        room.communicate("")  # its stdin closes: it exits and restores at exit
    assert room.returncode == 0 and twilio_api.record["sms_url"] != TUNNEL


def test_after_kill_9_the_next_start_gives_the_previous_webhook_back_and_says_so(twilio_api):
    original = twilio_api.record["sms_url"]
    room = point_in_another_process(twilio_api)
    assert json.loads(hookup_files(NUMBER)[1].read_text())["previous_url"] == original
    room.send_signal(signal.SIGKILL)  # no atexit, no cleanup: the number stays on the tunnel
    room.communicate()
    assert room.returncode == -signal.SIGKILL and twilio_api.record["sms_url"] == TUNNEL

    said = give_back_left_webhook(SETTINGS, twilio_api.client())
    assert twilio_api.record["sms_url"] == original and twilio_api.record["sms_method"] == "GET"
    assert f"had left it on {TUNNEL}" in said and original in said and one_sentence(said)
    assert not hookup_files(NUMBER)[1].exists()
    assert give_back_left_webhook(SETTINGS, twilio_api.client()) is None  # nothing left now
    point_number(TUNNEL, SETTINGS, twilio_api.client())  # and the number is free to take
    restore_number(NUMBER)
    assert twilio_api.record["sms_url"] == original


def test_a_room_taking_the_number_after_kill_9_restores_first_then_points(twilio_api):
    original = twilio_api.record["sms_url"]
    room = point_in_another_process(twilio_api)
    room.kill()
    room.communicate()
    hookup = point_number("https://new.ngrok-free.app/sms", SETTINGS, twilio_api.client())
    assert hookup.previous_url == original and "kill -9" in hookup.given_back
    assert [call[2].get("SmsUrl") for call in twilio_api.updates()][1:] == [
        original,
        "https://new.ngrok-free.app/sms",
    ]
    restore_number(NUMBER)
    assert twilio_api.record["sms_url"] == original


LIVE = load_settings()


@pytest.mark.skipif(
    not LIVE.has_twilio or not os.environ.get("SMSKIT_LIVE_TESTS"),
    reason="live Twilio test: needs TWILIO_* in the environment or .env and SMSKIT_LIVE_TESTS=1",
)
def test_live_number_hookup_round_trip():
    """Against the real api.twilio.com: point the number at a dummy URL and put it back."""
    hookup = point_number("https://example.com/smskit-live-test", LIVE)
    try:
        assert hookup.phone_number == LIVE.twilio_phone_number
    finally:
        restore_number(hookup.phone_number)
    assert hookups() == {}
