"""Hooking a Twilio number up to the tunnel, with twilio-python's real client.

Unless marked live, these tests replace Twilio's REST API (api.twilio.com) with a local stand-in
(tests/fakes/twilio_api.py) that speaks the same wire protocol on 127.0.0.1.
"""

import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from smskit.processes import free_port
from smskit.settings import Settings, load_settings
from smskit.twilio_number import NumberHookupError, hookups, point_number, restore_number
from tests.fakes.stand_ins import ACCOUNT, NUMBER, TWILIO_TOKEN, TwilioApi, one_sentence
from tests.fakes.twilio_api import LoopbackHttpClient
from tests.support import ROOT

TUNNEL = "https://abc123.ngrok-free.app/sms"
SETTINGS = Settings(ACCOUNT, TWILIO_TOKEN, NUMBER, None)


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
