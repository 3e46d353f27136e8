"""Twilio's warnings (14109, 14103) on a delivery that still goes ahead, and STOP/START/HELP as
Twilio's default opt-out handles them on a long code (support article "Twilio support for
opt-out keywords (SMS STOP filtering)"; Advanced Opt-Out adds OptOutType)."""

import pytest

from smskit import LocalTwilio
from smskit.optout import DEFAULT_REPLIES, Keyword
from tests.support import GEORGE, OUR_NUMBER, answering


def test_more_than_10_messages_sends_10_with_warning_14109():
    delivery = LocalTwilio(answering(*map(str, range(12)))).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.ok and delivery.replies == tuple(map(str, range(10)))
    assert [w.code for w in delivery.warnings] == [14109]
    assert str(delivery.warnings[0]).startswith("Twilio warning 14109 (")


def test_a_reply_over_1600_characters_is_logged_14103_and_not_sent_21617():
    delivery = LocalTwilio(answering("x" * 1700, "short")).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.ok and delivery.replies == ("short",)
    assert [w.code for w in delivery.warnings] == [14103]
    failed = [reply.error for reply in delivery.outgoing if reply.error]
    assert [error.code for error in failed] == [21617] and "1,700 characters" in str(failed[0])


def test_an_empty_message_is_not_sent_with_warning_14103():
    delivery = LocalTwilio(answering("", "fine")).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.replies == ("fine",) and [w.code for w in delivery.warnings] == [14103]


def test_stop_is_passed_on_answered_by_twilio_and_blocks_the_webhooks_replies():
    app = answering("counted")
    twilio = LocalTwilio(app)
    stop = twilio.text(GEORGE, OUR_NUMBER, " stop ")
    assert app.seen[-1]["Body"] == " stop "  # the webhook still gets it
    assert stop.replies == (DEFAULT_REPLIES[Keyword.STOP],) and stop.auto_reply
    assert stop.blocked == ("counted",) and [w.code for w in stop.warnings] == [21610]
    assert twilio.opted_out(GEORGE, OUR_NUMBER)
    later = twilio.text(GEORGE, OUR_NUMBER, "hello?")
    assert later.ok and later.replies == () and later.blocked == ("counted",)
    assert "replied with STOP" in later.warnings[0].detail
    assert twilio.text(GEORGE, OUR_NUMBER, "help").replies == ()  # no help text once out
    assert not twilio.opted_out("+14155550100", OUR_NUMBER)  # only that phone, that number


def test_start_opts_back_in_and_help_gets_twilios_help_text():
    twilio = LocalTwilio(answering("counted"))
    twilio.text(GEORGE, OUR_NUMBER, "STOP")
    start = twilio.text(GEORGE, OUR_NUMBER, "unstop")
    assert start.replies == (DEFAULT_REPLIES[Keyword.START], "counted")
    assert not twilio.opted_out(GEORGE, OUR_NUMBER)
    assert twilio.text(GEORGE, OUR_NUMBER, "INFO").replies == (
        DEFAULT_REPLIES[Keyword.HELP],
        "counted",
    )


def test_a_keyword_inside_a_longer_message_is_an_ordinary_message():
    twilio = LocalTwilio(answering("counted"))
    assert twilio.text(GEORGE, OUR_NUMBER, "STOP PLEASE").replies == ("counted",)
    assert not twilio.opted_out(GEORGE, OUR_NUMBER)


def test_opt_out_handling_can_be_switched_off():
    twilio = LocalTwilio(answering("counted"), opt_out=False)
    assert twilio.text(GEORGE, OUR_NUMBER, "STOP").replies == ("counted",)
    assert not twilio.opted_out(GEORGE, OUR_NUMBER)


@pytest.mark.parametrize("body,kind", [("STOP", "STOP"), ("yes", "START"), ("help", "HELP")])
def test_advanced_opt_out_adds_opt_out_type_and_uses_its_own_replies(body, kind):
    app = answering()
    custom = {Keyword.STOP: "Bye.", Keyword.START: "Welcome back.", Keyword.HELP: ""}
    delivery = LocalTwilio(app, advanced_opt_out=custom).text(GEORGE, OUR_NUMBER, body)
    assert app.seen[-1]["OptOutType"] == kind
    assert delivery.auto_reply == (custom[Keyword(kind)] or None)


def test_without_advanced_opt_out_there_is_no_opt_out_type():
    app = answering()
    LocalTwilio(app).text(GEORGE, OUR_NUMBER, "STOP")
    assert "OptOutType" not in app.seen[-1]
