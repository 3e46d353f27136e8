"""Twilio's opt-out keywords: only a whole one-word message counts, in any case."""

import pytest

from smskit.optout import Keyword, keyword


@pytest.mark.parametrize(
    "body, expected",
    [
        ("STOP", Keyword.STOP),
        (" stop \n", Keyword.STOP),
        ("Unsubscribe", Keyword.STOP),
        ("start", Keyword.START),
        ("UNSTOP", Keyword.START),
        ("info", Keyword.HELP),
        ("STOP PLEASE", None),
        ("please cancel", None),
        ("stopp", None),
        ("", None),
    ],
)
def test_only_a_whole_keyword_message_is_a_keyword(body, expected):
    assert keyword(body) == expected


def test_an_event_is_refused_only_when_the_app_answered_4xx():
    from smskit.events import MessageEvent

    def event(status):
        return MessageEvent("+1", "+2", "hi", {}, (), status, "/sms")

    assert [event(s).refused for s in (200, 204, 400, 403, 413, 500)] == [
        False,
        False,
        True,
        True,
        True,
        False,
    ]
