"""The local Twilio's cookie jars: one per conversation, the four-hour rule, attributes."""

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from flask import Flask, make_response, request

from smskit import CookieJars, ExpiryRule, LocalTwilio, SimulatedClock
from smskit.cookies import InvalidSetCookie, parse_set_cookie, path_matches
from tests.support import OUR_NUMBER

GEORGE, BOOTS = "+14158675309", "+14158675310"


def count(delivery) -> int:
    """The n of '... has messaged <To> n times'."""
    return int(delivery.reply.split()[-2])


def test_two_senders_to_one_number_keep_separate_counts(twilio):
    for _ in range(3):
        twilio.text(GEORGE, OUR_NUMBER, "hi")
    assert count(twilio.text(BOOTS, OUR_NUMBER, "hi")) == 1
    assert count(twilio.text(GEORGE, OUR_NUMBER, "hi")) == 4


def test_one_sender_to_two_numbers_keeps_separate_counts(twilio):
    twilio.text(GEORGE, OUR_NUMBER, "hi")
    assert count(twilio.text(GEORGE, "+15005550001", "hi")) == 1


@pytest.mark.parametrize("rule", list(ExpiryRule))
def test_four_hours_after_the_last_message_the_conversation_starts_over(app, rule):
    """The quickstart sets its cookie on every message, so both readings agree here."""
    twilio = LocalTwilio(app, clock=SimulatedClock(0), rule=rule)
    twilio.text(GEORGE, OUR_NUMBER, "hi")
    twilio.clock.advance(hours=3, minutes=59)
    assert count(twilio.text(GEORGE, OUR_NUMBER, "hi")) == 2
    twilio.clock.advance(hours=4)
    assert count(twilio.text(GEORGE, OUR_NUMBER, "hi")) == 1


def set_once_app():
    """A webhook that sets its cookie on the first message only, then just reads it."""
    app = Flask(__name__)

    @app.post("/sms")
    def sms():
        response = make_response("", 204)
        if "seen" not in request.cookies:
            response.set_cookie("seen", "yes")
        return response

    return app


@pytest.mark.parametrize(
    "rule,sent_at_4h30", [(ExpiryRule.FROM_SET, None), (ExpiryRule.INACTIVITY, "seen=yes")]
)
def test_the_two_readings_differ_when_a_cookie_is_not_set_again(rule, sent_at_4h30):
    """Set at 0 h, a message at 3 h: is the cookie still sent at 4 h 30?"""
    twilio = LocalTwilio(set_once_app(), clock=SimulatedClock(0), rule=rule)
    assert twilio.text(GEORGE, OUR_NUMBER, "first").cookie_sent is None
    twilio.clock.advance(hours=3)
    assert twilio.text(GEORGE, OUR_NUMBER, "at 3 h").cookie_sent == "seen=yes"
    twilio.clock.advance(hours=1, minutes=30)
    assert twilio.text(GEORGE, OUR_NUMBER, "at 4 h 30").cookie_sent == sent_at_4h30


def stored(header, rule=ExpiryRule.FROM_SET, date=None):
    """Jars holding one cookie received at t=0."""
    jars = CookieJars(SimulatedClock(0), rule)
    assert jars.receive(GEORGE, OUR_NUMBER, [header], "/sms", date) == []
    return jars


def alive_after(jars, seconds) -> bool:
    jars.clock.advance(seconds=seconds)
    return jars.cookie_header(GEORGE, OUR_NUMBER, "/sms") is not None


@pytest.mark.parametrize("rule", list(ExpiryRule))
@pytest.mark.parametrize(
    "header,lifetime",
    [
        ("a=1", 4 * 3600),  # a session cookie: four hours
        ("a=1; Max-Age=600", 600),  # shorter: honoured
        ("a=1; Max-Age=86400", 4 * 3600),  # longer: capped
        ("a=1; Expires=Thu, 01 Jan 1970 00:20:00 GMT", 1200),
        ("a=1; Expires=Fri, 02 Jan 1970 00:00:00 GMT", 4 * 3600),
        ("a=1; Max-Age=60; Expires=Fri, 02 Jan 1970 00:00:00 GMT", 60),  # Max-Age wins
    ],
)
def test_expiry_attributes_are_honoured_up_to_four_hours(rule, header, lifetime):
    assert alive_after(stored(header, rule), lifetime - 1)
    assert not alive_after(stored(header, rule), lifetime)


def test_expires_is_read_against_the_servers_date_header():
    """A server whose clock differs from the jar's: the lifetime it meant is kept."""
    sent = datetime(2030, 1, 1, 12, tzinfo=UTC)
    header = "a=1; Expires=" + format_datetime(sent.replace(hour=12, minute=10), usegmt=True)
    jars = stored(header, date=format_datetime(sent, usegmt=True))
    assert alive_after(jars, 599) and not alive_after(jars, 1)


def test_max_age_zero_deletes_the_cookie():
    jars = stored("a=1")
    jars.receive(GEORGE, OUR_NUMBER, ["a=gone; Max-Age=0"], "/sms")
    assert jars.cookie_header(GEORGE, OUR_NUMBER, "/sms") is None


def test_path_decides_where_a_cookie_is_sent():
    jars = stored("a=1; Path=/sms")
    jars.receive(GEORGE, OUR_NUMBER, ["b=2; Path=/admin"], "/sms")
    assert jars.cookie_header(GEORGE, OUR_NUMBER, "/sms") == "a=1"
    assert jars.cookie_header(GEORGE, OUR_NUMBER, "/admin/x") == "b=2"
    assert path_matches("/sms/inbound", "/sms") and not path_matches("/smsx", "/sms")


def test_default_path_is_the_request_directory():
    assert parse_set_cookie("a=1", 0, "/hooks/sms").path == "/hooks"
    assert parse_set_cookie("a=1", 0, "/sms").path == "/"


@pytest.mark.parametrize("header", ["=value", "   =x", "novalue", "a=1\x01", "a=\x7f"])
def test_invalid_set_cookie_is_refused(header):
    with pytest.raises(InvalidSetCookie):
        parse_set_cookie(header, 0, "/sms")


def test_an_invalid_set_cookie_is_twilio_error_11206():
    app = Flask(__name__)

    @app.post("/sms")
    def sms():
        response = make_response("<Response><Message>ok</Message></Response>")
        response.content_type = "text/xml"
        response.headers.add("Set-Cookie", "=no-name")
        return response

    delivery = LocalTwilio(app).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.error.code == 11206
    assert delivery.replies == ("ok",)


def test_jars_survive_a_round_trip_through_json():
    jars = stored("a=1; Max-Age=600")
    copy = CookieJars.from_dict(jars.to_dict(), jars.clock)
    assert copy.cookie_header(GEORGE, OUR_NUMBER, "/sms") == "a=1"
    assert alive_after(copy, 599) and not alive_after(copy, 1)
