"""Twilio's deadlines and retries, over real local sockets that stall, trickle or refuse.

Twilio (https://www.twilio.com/docs/api/errors/11205 and the connection-overrides page,
https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides): 5 s per TCP
connection attempt, one retry, 15 s for everything; the URL fragment #ct/rt/tt/rc/rp overrides
them in milliseconds and is never sent. Each test shrinks the deadlines through that fragment,
so it takes well under a few seconds.
"""

import logging
import threading
import time

import pytest

from smskit import LocalTwilio
from smskit.processes import free_port
from smskit.transport import Deadlines, split_overrides
from tests.fakes.sockets import ScriptedServer, answer, stall, stalled_address, trickle
from tests.support import OUR_NUMBER

GEORGE = "+14158675309"
REPLY = b"<Response><Message>made it</Message></Response>"


def retries_logged(caplog) -> int:
    return sum("retrying" in record.getMessage() for record in caplog.records)


def test_twilios_defaults_are_5_s_to_connect_one_retry_and_15_s_in_all():
    url, deadlines = split_overrides("https://example.com/sms")
    assert url == "https://example.com/sms"
    assert deadlines == Deadlines(connect=5.0, read=15.0, total=15.0, retries=1)
    assert deadlines.retry_on == {"ct"}


def test_the_fragment_overrides_the_deadlines_and_is_dropped_from_the_url():
    url, deadlines = split_overrides(
        "https://example.com/sms?a=1#ct=200&rt=300&tt=900&rc=3&rp=rt,5xx"
    )
    assert url == "https://example.com/sms?a=1"
    assert (deadlines.connect, deadlines.read, deadlines.total, deadlines.retries) == (
        0.2,
        0.3,
        0.9,
        3,
    )
    assert deadlines.retry_on == {"rt", "5xx"}


@pytest.mark.parametrize("fragment", ["ct=50", "tt=20000", "rc=6", "rp=sometimes", "ct=soon"])
def test_an_override_out_of_twilios_range_is_refused_in_one_sentence(fragment):
    with pytest.raises(ValueError, match="^Connection override .+\\.$"):
        LocalTwilio(f"http://127.0.0.1:1/sms#{fragment}")


@pytest.mark.integration  # starts a server
def test_a_connection_that_never_completes_is_tried_twice_then_11205(caplog):
    caplog.set_level(logging.INFO, logger="smskit.transport")
    with stalled_address() as address:
        started = time.monotonic()
        delivery = LocalTwilio(f"{address}/sms#ct=200").text(GEORGE, OUR_NUMBER, "hi")
        seconds = time.monotonic() - started
    assert delivery.error.code == 11205 and "no TCP connection" in delivery.error.detail
    assert retries_logged(caplog) == 1  # one retry of the connection, as Twilio documents
    assert seconds >= 0.4  # two attempts of 200 ms each


@pytest.mark.integration  # starts a server
def test_rc_0_means_no_retry(caplog):
    caplog.set_level(logging.INFO, logger="smskit.transport")
    with stalled_address() as address:
        delivery = LocalTwilio(f"{address}/sms#ct=200&rc=0").text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.error.code == 11205 and retries_logged(caplog) == 0


def test_a_refused_connection_is_retried_then_11200_marked_refused(caplog):
    caplog.set_level(logging.INFO, logger="smskit.transport")
    delivery = LocalTwilio(f"http://127.0.0.1:{free_port()}/sms").text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.error.code == 11200 and delivery.error.refused
    assert retries_logged(caplog) == 1


@pytest.mark.integration  # starts a server
def test_a_reply_trickled_past_the_total_deadline_is_11205_at_the_deadline():
    """Every byte comes within the read timeout, but the whole takes 4 s: tt (0.5 s) ends it."""
    with ScriptedServer(trickle(REPLY, every=4.0 / len(REPLY))) as server:
        started = time.monotonic()
        delivery = LocalTwilio(f"{server.url}/sms#tt=500").text(GEORGE, OUR_NUMBER, "hi")
        seconds = time.monotonic() - started
    assert delivery.error is not None and delivery.error.code == 11205
    assert 0.5 <= seconds < 3.5  # at the total deadline, not when the trickle ends


@pytest.mark.integration  # starts a server
def test_a_read_timeout_retry_keeps_the_idempotency_token():
    with ScriptedServer(stall(1.0), answer(body=REPLY)) as server:
        twilio = LocalTwilio(f"{server.url}/sms#rt=200&rp=rt")
        delivery = twilio.text(GEORGE, OUR_NUMBER, "hi")
        assert delivery.replies == ("made it",)
        first, second = server.headers(0), server.headers(1)
    assert first["I-Twilio-Idempotency-Token"] == second["I-Twilio-Idempotency-Token"]


@pytest.mark.integration  # starts a server
def test_a_5xx_is_retried_only_when_rp_asks_for_it():
    with ScriptedServer(answer("500 Internal Server Error", b"oops"), answer(body=REPLY)) as server:
        assert LocalTwilio(f"{server.url}/sms").text(GEORGE, OUR_NUMBER, "hi").error.code == 11200
    with ScriptedServer(answer("500 Internal Server Error", b"oops"), answer(body=REPLY)) as server:
        delivery = LocalTwilio(f"{server.url}/sms#rp=5xx").text(GEORGE, OUR_NUMBER, "hi")
        assert delivery.replies == ("made it",) and len(server.requests) == 2


@pytest.mark.integration  # starts a server
def test_the_fragment_is_not_sent_and_the_signature_covers_the_url_without_it():
    with ScriptedServer(answer(body=REPLY)) as server:
        twilio = LocalTwilio(f"{server.url}/sms?x=1#tt=5000&rc=0", auth_token="12345")
        assert twilio.text(GEORGE, OUR_NUMBER, "hi").ok
        request_line = server.requests[0].split(b"\r\n")[0]
    assert request_line == b"POST /sms?x=1 HTTP/1.1"
    assert twilio.url == f"{server.url}/sms?x=1"


@pytest.mark.integration  # starts a server
def test_more_messages_than_connections_wait_their_turn_without_timing_out():
    """The transport never opens more connections than its pool keeps (no 'pool is full')."""
    gate = threading.Event()

    def slow(conn, n):
        gate.wait(2)
        answer(body=REPLY)(conn, n)

    with ScriptedServer(slow) as server:
        twilio = LocalTwilio(f"{server.url}/sms#tt=3000")
        twilio.transport.slots = threading.BoundedSemaphore(2)  # a pool of two, for the test
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(twilio.text(GEORGE, OUR_NUMBER, "hi")))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        in_flight = len(server.requests)
        gate.set()
        for thread in threads:
            thread.join(10)
    assert in_flight == 2  # two on the wire, two waiting for a connection
    assert [d.ok for d in results] == [True] * 4


@pytest.mark.integration  # starts a server
def test_rp_all_retries_failures_but_not_a_success_or_a_redirect():
    moved = answer("302 Found", b"", headers={"Location": "/sms2"})
    with ScriptedServer(moved, answer(body=REPLY)) as server:
        delivery = LocalTwilio(f"{server.url}/sms#rp=all").text(GEORGE, OUR_NUMBER, "hi")
        assert delivery.replies == ("made it",)
        paths = [r.split(b" ")[1] for r in server.requests]
    assert paths == [b"/sms", b"/sms2"]  # the redirect was followed, not retried
