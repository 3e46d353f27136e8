"""The conversation model alone: events in, rows and totals out. No server, no widgets.

Events are built as the server publishes them; clocks are simulated, so every countdown is
exact. The HTML view is checked against the text view, column by column.
"""

from __future__ import annotations

import gc
import html
import re
from datetime import UTC, datetime
from types import FunctionType, ModuleType

import pytest

from quickstart.sms.sms_conversation import create_app, name_for
from smskit import LocalTwilio, SimulatedClock
from smskit.conversations import COLUMNS, Conversations, remaining
from smskit.countdown import LocalTwilioJars, WallClock
from smskit.events import MessageEvent
from smskit.numbers import mask_number
from smskit.panel_view import table_html

GEORGE, BOOTS, VIRGIL, OURS = "+14158675309", "+14158675310", "+14158675311", "+15005550006"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def event(sender, count=1, body="hi", status=200, to=OURS, when=START, replies=None):
    session = {"counter": count} if count is not None else {}
    replies = (f"reply {count}",) if replies is None else replies
    return MessageEvent(sender, to, body, session, replies, status, "/sms", when)


@pytest.fixture
def wall():
    return SimulatedClock(START)


@pytest.fixture
def model(wall):
    return Conversations(WallClock(wall), names=name_for)


def test_events_make_rows_newest_first_and_totals(model):
    for sender, count in [(GEORGE, 1), (BOOTS, 1), (GEORGE, 2)]:
        model.add(event(sender, count, body=f"message {count}"))
    rows = model.rows()
    assert [(r.who, r.count, r.messages, r.message, r.reply) for r in rows] == [
        ("Curious George", 2, 2, "message 2", "reply 2"),
        ("Boots", 1, 1, "message 1", "reply 1"),
    ]
    assert model.totals().text() == "2 conversations, 3 messages"
    assert model.rows(limit=1)[0].sender == GEORGE
    assert model.row(VIRGIL, OURS) is None


def test_one_phone_texting_two_numbers_is_two_conversations(model):
    model.add(event(GEORGE, 3))
    model.add(event(GEORGE, 1, to="+15005550007"))
    assert (model.row(GEORGE, OURS).count, model.row(GEORGE, "+15005550007").count) == (3, 1)


def test_a_failed_request_shows_its_status_and_a_silent_one_says_so(model):
    model.add(event(GEORGE, None, status=500, replies=()))
    model.add(event(BOOTS, 1, replies=()))
    assert model.row(GEORGE, OURS).reply == "HTTP 500"
    assert model.row(GEORGE, OURS).count is None
    assert model.row(BOOTS, OURS).reply == "(no reply)"


def test_the_wall_clock_counts_four_hours_from_the_last_reply_that_set_a_cookie(model, wall):
    model.add(event(GEORGE, 1))
    wall.advance(minutes=90)
    row = model.row(GEORGE, OURS)
    assert (remaining(row.expires_in), row.since, row.clock) == ("2:30:00", 90 * 60, "wall clock")
    model.add(event(GEORGE, None, when=wall.datetime(), replies=()))  # no session: no new cookie
    assert remaining(model.row(GEORGE, OURS).expires_in) == "2:30:00"
    assert model.row(GEORGE, OURS).since == 0
    wall.advance(hours=3)
    assert remaining(model.row(GEORGE, OURS).expires_in) == "expired"


def test_a_row_without_any_cookie_says_no_cookie(model):
    model.add(event(GEORGE, None, replies=()))
    assert remaining(model.row(GEORGE, OURS).expires_in) == "no cookie"


def test_the_local_twilios_jars_govern_its_phones_and_the_wall_clock_the_rest(wall):
    """One source decides: the local Twilio's jars for its pairs, the wall clock for others."""
    twilio = LocalTwilio(create_app({"SECRET_KEY": "k", "TWILIO_AUTH_TOKEN": None}), clock=wall)
    model = Conversations(LocalTwilioJars(twilio, fallback=WallClock(SimulatedClock(START))))
    twilio.text(GEORGE, OURS, "hi")  # the model only sees events: feed it what was delivered
    model.add(event(GEORGE, 1, when=wall.datetime()))
    model.add(event(VIRGIL, 1, when=wall.datetime()))  # a real phone: no jar holds it
    twilio.clock.advance(hours=4)
    george, virgil = model.row(GEORGE, OURS), model.row(VIRGIL, OURS)
    assert (george.clock, remaining(george.expires_in), george.since) == (
        "local Twilio",
        "expired",
        4 * 3600,
    )
    assert (virgil.clock, remaining(virgil.expires_in)) == ("wall clock", "4:00:00")


def test_stop_opts_a_conversation_out_and_start_brings_it_back(model):
    """Twilio passes keyword messages on to the webhook, so events alone tell opt-outs."""
    model.add(event(GEORGE, 1))
    model.add(event(BOOTS, 1, body=" stop "))
    model.add(event(GEORGE, 2, body="STOP PLEASE"))  # not a keyword: an ordinary message
    assert [r.opted_out for r in model.rows()] == [False, True]
    assert model.totals().text() == "2 conversations, 3 messages, 1 opted out"
    model.add(event(BOOTS, 2, body="hello"))  # still out until START
    assert model.row(BOOTS, OURS).opted_out
    model.add(event(BOOTS, 3, body="Start"))
    assert not model.row(BOOTS, OURS).opted_out and model.totals().opted_out == 0
    model.add(event(BOOTS, 4, body="UNSUBSCRIBE"))
    assert model.totals().opted_out == 1


def test_refused_requests_are_one_total_and_keep_nothing(model):
    model.add(event(GEORGE, 1))
    before = model.row(GEORGE, OURS)
    model.add(event(GEORGE, None, body="forged", status=403, replies=()))
    model.add(event("", None, body="", status=400, replies=()))
    assert model.totals().text() == "1 conversation, 1 message, 2 requests refused"
    assert model.row(GEORGE, OURS) == before  # a forged request changes no conversation


def reachable(root) -> list:
    """Every object reachable from root through references, but for code (classes, modules and
    functions, whose globals reach everything): the data that keeping root keeps alive."""
    seen, found, stack = set(), [], [root]
    while stack:
        thing = stack.pop()
        if id(thing) in seen or isinstance(thing, type | ModuleType | FunctionType):
            continue
        seen.add(id(thing))
        found.append(thing)
        stack.extend(gc.get_referents(thing))
    return found


def test_a_flood_of_refused_requests_leaves_the_model_the_size_it_was(model):
    """Bounded by structure: after 10,000 refusals with distinct senders and bodies, the model
    holds no more objects than before, and none of their text (the bench measures MB)."""
    model.add(event(GEORGE, 1))
    for i in range(100):  # warm-up: the counter's int becomes large enough to be its own object
        model.add(event(f"+1999{i:07d}", None, body=f"warm {i}", status=403, replies=()))
    size = len(reachable(model))
    bodies = {f"forged body {i}" for i in range(10_000)}
    for i, body in enumerate(sorted(bodies)):
        model.add(event(f"+1555{i:07d}", None, body=body, status=403, replies=()))
    kept = reachable(model)
    assert len(kept) <= size
    assert not [t for t in kept if isinstance(t, str) and (t in bodies or t.startswith("+1555"))]
    assert model.totals().refused == 10_100


def test_numbers_are_masked_for_a_projector():
    assert mask_number(GEORGE) == "••• 5309"  # the last four digits only
    assert mask_number("+442079460958") == "••• 0958"
    assert mask_number("Monkey") == "•••ey"
    assert mask_number("") == "•••"


def test_masking_is_the_columns_formatter_and_lifts_only_what_is_revealed(model):
    model.add(event(GEORGE, 1, body="a secret"))
    row, columns = model.row(GEORGE, OURS), {c.key: c for c in COLUMNS}
    assert columns["from"].text(row, reveal=()) == "••• 5309"
    assert columns["message"].text(row, reveal=("numbers",)) == ""
    assert columns["message"].text(row, reveal=("messages",)) == "a secret"
    assert columns["from"].text(row) == GEORGE  # a private screen (the panel) reveals all


def test_a_row_is_its_conversation_and_its_countdown_not_a_copy(model, wall):
    model.add(event(GEORGE, 1))
    first = model.row(GEORGE, OURS)
    wall.advance(minutes=5)
    later = model.row(GEORGE, OURS)
    assert later.conversation is first.conversation  # the record is shared, frozen
    assert later.expires_in == first.expires_in - 300 and later.since == 300
    with pytest.raises(AttributeError):
        first.conversation.count = 2


def cells_of(table: str) -> list[list[str]]:
    """The text of each <td>, row by row, from table_html's output."""
    rows = re.findall(r"<tr data-from[^>]*>(.*?)</tr>", table)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


def test_the_text_and_html_views_show_the_same_columns_in_the_same_order(model):
    model.add(event(GEORGE, 2, body="<b>&</b>"))
    model.add(event(BOOTS, 1, body="STOP"))
    lines = model.text().splitlines()
    tabled = [c for c in COLUMNS if c.table]  # the cards' own columns (queued) are not tabled
    assert (
        len(tabled) < len(COLUMNS) and lines[1].split() == " ".join(c.title for c in tabled).split()
    )
    rows = model.rows()
    table = table_html(rows, COLUMNS)
    headers = [html.unescape(h) for h in re.findall(r"<th class[^>]*>(.*?)</th>", table)]
    assert headers == [c.title for c in tabled]
    assert cells_of(table) == [[c.text(r) for c in tabled] for r in rows]
    for line, cells in zip(lines[2:], cells_of(table), strict=True):
        assert [cell for cell in cells if cell] == [
            cell for cell in re.split(r"\s{2,}", line) if cell
        ]
