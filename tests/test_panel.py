"""The live conversation panel, without a browser: real server threads, real HTTP on loopback.

The widgets are real ipywidgets; with no kernel attached their comms are inert, and what a
browser would receive is the widgets' state, which is what these tests read.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time

import pytest

from quickstart.sms.sms_conversation import create_app, name_for
from smskit import serve
from smskit.conversations import remaining
from smskit.events import MessageEvent
from smskit.live import LiveStatus
from smskit.panel import HANDLER_NAME, SERVER_LOGGER, ConversationPanel, panels
from smskit.settings import scrub
from smskit.simulator import LocalTwilio

GEORGE, BOOTS, TWILIO_NUMBER = "+14158675309", "+14158675310", "+15005550006"


@pytest.fixture
def server():
    with serve(create_app({"SECRET_KEY": "test", "TWILIO_AUTH_TOKEN": None}), "panel-test") as s:
        yield s


@pytest.fixture
def panel(server):
    panel = ConversationPanel(server, names=name_for)
    yield panel
    panel.close()


def wait_for(condition, timeout=5.0):
    """Poll condition() until it is true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {condition.__doc__ or condition}")
        time.sleep(0.005)


def event(sender, count, to=TWILIO_NUMBER):
    return MessageEvent(sender, to, "hi", {"counter": count}, (f"reply {count}",), 200, "/sms")


@pytest.mark.integration  # starts a server
def test_messages_from_server_threads_update_rows_and_totals(server, panel):
    phone = LocalTwilio(server.url + "/sms")  # not the panel's phone: only events can tell it
    phone.text(GEORGE, TWILIO_NUMBER, "one")
    phone.text(BOOTS, TWILIO_NUMBER, "hey")
    phone.text(GEORGE, TWILIO_NUMBER, "two")

    def rendered():
        """the widgets to show 2 conversations and 3 messages"""
        return "2 conversations, 3 messages" in panel.totals_label.value

    wait_for(rendered)
    assert [(r.who, r.count, r.message) for r in panel.rows()] == [
        ("Curious George", 2, "two"),
        ("Boots", 1, "hey"),
    ]
    table = panel.table.value
    assert table.index(f"data-from='{GEORGE}'") < table.index(f"data-from='{BOOTS}'")
    assert "Curious George has messaged +15005550006 2 times" in table
    assert panel.row(GEORGE, TWILIO_NUMBER).session == {"counter": 2}
    assert '"POST /sms" 200' in panel.log_view.value


@pytest.mark.integration  # starts a server
def test_the_phone_counts_to_three_and_a_fast_forward_starts_over(panel):
    replies = [panel.send().reply for _ in range(3)]
    assert replies[-1] == "Curious George has messaged +15005550006 3 times"
    row = panel.row(GEORGE, TWILIO_NUMBER)
    assert (row.count, remaining(row.expires_in)) == (3, "4:00:00")
    panel.advance(1)
    assert remaining(panel.row(GEORGE, TWILIO_NUMBER).expires_in) == "3:00:00"
    panel.advance(4)
    assert remaining(panel.row(GEORGE, TWILIO_NUMBER).expires_in) == "expired"
    assert "expired" in panel.table.value
    assert panel.send().reply == "Curious George has messaged +15005550006 1 times"
    assert panel.row(GEORGE, TWILIO_NUMBER).count == 1
    assert "Curious George has messaged +15005550006 1 times" in panel.outcome.value


@pytest.mark.integration  # starts a server
def test_a_real_phone_row_counts_down_four_hours_from_its_message(panel, server):
    server.events.publish(event(BOOTS, 5))  # not through the panel's local Twilio: no jar
    expires_in = panel.row(BOOTS, TWILIO_NUMBER).expires_in
    assert 4 * 3600 - 5 < expires_in <= 4 * 3600


@pytest.mark.integration  # starts a server
def test_bad_input_gets_one_sentence_in_the_phone(panel):
    panel.body_box.value = "x" * 1601
    assert panel.send() is None
    assert "at most 1600 characters" in panel.outcome.value
    panel.body_box.value, panel.sender_box.value = "hi", ""
    delivery = panel.send()
    assert delivery.error.code == 11200
    assert "Twilio error 11200" in panel.outcome.value


@pytest.mark.integration  # starts a server
def test_the_header_says_local_only_and_then_what_the_live_code_reports(panel, server):
    panel.render()
    assert f"{server.url}/sms" in panel.header.value
    assert "local only (" in panel.header.value
    assert "does not sign" in panel.header.value
    live = LiveStatus(
        server.url,
        public_url="https://example.ngrok-free.app",
        webhook_url="https://example.ngrok-free.app/sms",
        phone_number="+15551234567",
        number_points_here=True,
    )
    panel.show_live(live)
    panel.render()
    assert "https://example.ngrok-free.app/sms" in panel.header.value
    assert "+15551234567 points here" in panel.header.value
    panel.show_live(LiveStatus(server.url, reason="No NGROK_AUTHTOKEN: get one."))
    panel.render()
    assert "local only (No NGROK_AUTHTOKEN: get one.)" in panel.header.value


@pytest.mark.integration  # starts a server
def test_log_lines_hide_secrets_and_never_reach_stderr(capfd, monkeypatch):
    token, ngrok_token = "s3cr3t-auth-token", "ngrok-s3cr3t-token"
    monkeypatch.setenv("NGROK_AUTHTOKEN", ngrok_token)
    monkeypatch.delenv("SMSKIT_OFFLINE")  # read it, as a learner's kernel would
    app = create_app({"SECRET_KEY": "test", "TWILIO_AUTH_TOKEN": token})
    with serve(app, "panel-secrets") as server:
        panel = ConversationPanel(server, path="/sms?auth_token=" + token, auth_token=token)
        try:
            delivery = panel.send()
            assert delivery.ok, delivery.error  # the phone signs with the app's token
            logging.getLogger(SERVER_LOGGER).warning("token was %s", token)
            logging.getLogger(SERVER_LOGGER).info("ngrok: %s", ngrok_token)
            panel.render()
            assert token not in panel.log_view.value and ngrok_token not in panel.log_view.value
            assert "auth_token=***" in panel.log_view.value
            assert "token was ••••" in panel.log_view.value
            assert "The phone</th><td>signs" in panel.header.value
        finally:
            panel.close()
    out, err = capfd.readouterr()
    assert token not in out + err
    assert "POST /sms" not in err


def test_scrub_hides_known_values_and_token_parameters():
    assert scrub("GET /x?token=abc&n=1 s3cr3t", "s3cr3t") == "GET /x?token=***&n=1 ••••"


@pytest.mark.integration  # starts a server
def test_recreating_the_panel_leaves_one_subscriber_and_one_log_handler(server):
    first = ConversationPanel(server)
    second = ConversationPanel(server)
    third = ConversationPanel(server)
    try:
        assert first.closed and second.closed and not third.closed
        assert panels()[server.name] is third
        handlers = [h for h in logging.getLogger(SERVER_LOGGER).handlers if h.name == HANDLER_NAME]
        assert handlers == [third._handler]
        assert first.root.comm is None and second.table.comm is None  # widgets closed
        LocalTwilio(server.url + "/sms").text(GEORGE, TWILIO_NUMBER, "hi")
        assert (first.totals().messages, second.totals().messages) == (0, 0)
        assert third.totals().messages == 1
        assert not first.host.loop.alive and not second.host.loop.alive
    finally:
        third.close()
    assert [h for h in logging.getLogger(SERVER_LOGGER).handlers if h.name == HANDLER_NAME] == []


@pytest.mark.integration  # starts a server
def test_re_serving_under_the_same_name_keeps_the_panel_fed(server, panel):
    token = "a-new-auth-token"
    again = serve(create_app({"SECRET_KEY": "test", "TWILIO_AUTH_TOKEN": token}), server.name)
    try:
        assert panel.send().error.code == 11200  # the app checks signatures now: 403
        panel.phone.auth_token = token  # told explicitly, never read from the app
        assert panel.send().ok  # the phone reaches the app that serves now, signed
        assert (panel.totals().messages, panel.totals().refused) == (1, 1)
        panel.render()
        assert "The phone</th><td>signs" in panel.header.value
    finally:
        again.stop()


@pytest.mark.integration  # starts a server
def test_ten_thousand_conversations_stay_responsive(server, panel):
    """Latency from a handled message to the widget's new state, with 10,000 conversations."""
    started = time.perf_counter()
    renders_before = panel.renders
    publisher = threading.Thread(
        target=lambda: [server.events.publish(event(f"+1555{i:07d}", 1)) for i in range(10_000)]
    )
    publisher.start()
    publisher.join()
    burst = time.perf_counter() - started
    wait_for(lambda: "10,000 conversations" in panel.totals_label.value)
    burst_renders = panel.renders - renders_before
    # coalescing: one render per interval at most (plus the one that ends the burst)
    assert burst_renders <= burst / panel.interval + 3

    handled, updated = {}, {}
    server.events.subscribe(lambda e: handled.setdefault(e.sender, time.perf_counter()))
    panel.table.observe(lambda _: updated.setdefault(len(updated), time.perf_counter()), "value")
    phone = LocalTwilio(server.url + "/sms")
    latencies = {"spaced": [], "back-to-back": []}
    for kind, pause in (("spaced", 1.5 * panel.interval), ("back-to-back", 0.0)):
        for _ in range(30):
            sender = f"+1666{len(handled):07d}"
            seen = len(updated)
            phone.text(sender, TWILIO_NUMBER, "hi")
            wait_for(lambda s=seen: len(updated) > s)
            latencies[kind].append(updated[seen] - handled[sender])
            time.sleep(pause)
    rows = panel.table.value.count("<tr data-from=")
    assert rows == panel.max_rows == 20
    assert panel.totals().conversations == 10_060
    for kind, values in latencies.items():
        values.sort()
        p50, p99 = (
            statistics.median(values),
            statistics.quantiles(values, n=100, method="inclusive")[98],
        )
        print(
            f"\npanel update latency, 10,000 conversations, {kind}: "
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
        assert p99 < 2.0  # generous: only a hang or a full re-render per message breaks it
    print(
        f"10,000 events published in {burst * 1000:.0f} ms, rendered {burst_renders} times; "
        f"rows rendered: {rows}"
    )


@pytest.mark.integration  # starts a server
def test_four_hours_age_every_conversation_of_the_panels_twilio_and_rows_name_their_clock(
    panel, server
):
    """The panel's local Twilio carries two phones; Virgil texts through a Twilio of his own."""
    virgil = "+14158675311"
    panel.send()
    panel.sender_box.value = BOOTS
    panel.send()
    LocalTwilio(server.url + "/sms").text(virgil, TWILIO_NUMBER, "hi")
    panel.advance(4)
    george, boots, other = (panel.row(s, TWILIO_NUMBER) for s in (GEORGE, BOOTS, virgil))
    assert remaining(george.expires_in) == remaining(boots.expires_in) == "expired"
    assert george.clock == boots.clock == "local Twilio"
    assert other.clock == "wall clock" and 4 * 3600 - 5 < other.expires_in <= 4 * 3600
    assert "<td class='smskit-clock'>wall clock</td>" in panel.table.value
