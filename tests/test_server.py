"""The in-kernel server: a background thread, clean re-runs, quiet logs, one event per message."""

import logging
import threading

import pytest

from smskit import LocalTwilio, serve, servers, stop
from tests.support import OUR_NUMBER, port_is_free

pytestmark = pytest.mark.integration  # starts a server

GEORGE = "+14158675309"


def server_threads(name):
    return [t for t in threading.enumerate() if t.name == f"smskit-server-{name}"]


def test_restarting_under_the_same_name_20_times_leaves_one_server(app):
    first = serve(app, name="rerun")
    ports = {first.port}
    for _ in range(20):
        server = serve(app, name="rerun")
        ports.add(server.port)
    assert len(server_threads("rerun")) == 1
    assert servers()["rerun"] is server
    assert LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, "hi").ok
    server.stop()
    assert server_threads("rerun") == []
    assert all(port_is_free(port) for port in ports)


def test_a_rerun_keeps_the_port_so_a_tunnel_stays_valid(app):
    port = serve(app, name="keep").port
    assert serve(app, name="keep").port == port
    stop("keep")
    assert port_is_free(port) and "keep" not in servers()


def test_the_context_manager_frees_the_port(app):
    with serve(app, name="ctx") as server:
        port = server.port
        assert not port_is_free(port)
    assert port_is_free(port) and not server.running
    server.stop()  # stopping twice is harmless


def test_a_taken_port_is_refused_in_one_sentence(app):
    with serve(app, name="taken") as server:
        with pytest.raises(OSError, match="is taken; call serve"):
            serve(app, name="other", port=server.port)


def test_access_log_lines_go_to_the_logger_not_the_cell(app, capfd, caplog):
    caplog.set_level(logging.INFO, logger="smskit.server")
    with serve(app, name="quiet") as server:
        LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, "hi")
    assert '"POST /sms" 200' in caplog.text
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_every_message_publishes_an_event_with_the_session(app):
    events = []
    with serve(app, name="events") as server:
        server.events.subscribe(events.append)
        twilio = LocalTwilio(server.url + "/sms")
        twilio.text(GEORGE, OUR_NUMBER, "one")
        twilio.text(GEORGE, OUR_NUMBER, "two")
    assert [e.session for e in events] == [{"counter": 1}, {"counter": 2}]
    assert [e.body for e in events] == ["one", "two"]
    last = events[-1]
    assert (last.sender, last.to, last.status, last.path) == (GEORGE, OUR_NUMBER, 200, "/sms")
    assert last.replies == (f"Curious George has messaged {OUR_NUMBER} 2 times",)


def test_subscribers_keep_receiving_after_a_rerun(app):
    events = []
    serve(app, name="feed").events.subscribe(events.append)
    server = serve(app, name="feed")
    LocalTwilio(server.url + "/sms").text(GEORGE, OUR_NUMBER, "hi")
    server.stop()
    assert len(events) == 1


def test_unsubscribe_and_a_failing_subscriber(app, caplog):
    events = []

    def broken(event):
        raise RuntimeError("subscriber bug")

    with serve(app, name="unsub") as server:
        server.events.subscribe(broken)
        unsubscribe = server.events.subscribe(events.append)
        twilio = LocalTwilio(server.url + "/sms")
        assert twilio.text(GEORGE, OUR_NUMBER, "hi").ok  # the broken subscriber harms nobody
        unsubscribe()
        twilio.text(GEORGE, OUR_NUMBER, "hi")
    assert len(events) == 1
    assert "An event subscriber failed" in caplog.text


def test_a_forged_request_is_an_event_too(signed_app):
    events = []
    with serve(signed_app, name="forged") as server:
        server.events.subscribe(events.append)
        LocalTwilio(server.url + "/sms", auth_token="wrong").text(GEORGE, OUR_NUMBER, "hi")
    assert [(e.status, e.session, e.replies) for e in events] == [(403, {}, ())]
