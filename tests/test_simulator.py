"""The local Twilio sends what Twilio sends and reports failures with Twilio's error codes."""

import re
import time

import pytest
from flask import Flask, Response, request

from smskit import LocalTwilio, serve
from smskit.carrier import segments
from smskit.processes import free_port
from smskit.twiml import reply_texts
from tests.support import OUR_NUMBER, TOKEN

GEORGE = "+14158675309"


def recording_app(answer=lambda: Response("<Response/>", mimetype="text/xml")):
    """A webhook that keeps every request it gets, and answers with answer()."""
    app = Flask(__name__)
    app.seen = []

    @app.route("/sms", methods=["GET", "POST"])
    def sms():
        app.seen.append((request.method, request.values.to_dict(), dict(request.headers)))
        return answer()

    return app


def test_the_webhook_gets_twilios_full_parameter_set():
    app = recording_app()
    twilio = LocalTwilio(app, messaging_service_sid="MG" + "a" * 32)
    twilio.text(GEORGE, OUR_NUMBER, "hello")
    method, params, headers = app.seen[0]
    assert method == "POST"
    assert headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    sid = params["MessageSid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    assert params["SmsSid"] == params["SmsMessageSid"] == sid
    assert re.fullmatch(r"AC[0-9a-f]{32}", params["AccountSid"])
    assert params["MessagingServiceSid"] == "MG" + "a" * 32
    assert (params["From"], params["To"], params["Body"]) == (GEORGE, OUR_NUMBER, "hello")
    assert (params["NumMedia"], params["NumSegments"]) == ("0", "1")
    assert (params["SmsStatus"], params["ApiVersion"]) == ("received", "2010-04-01")
    for side in ("From", "To"):
        assert params[f"{side}Country"] == "US"
        assert {f"{side}City", f"{side}State", f"{side}Zip"} <= params.keys()
    assert "X-Twilio-Signature" not in headers  # no auth token, no signature


def test_get_puts_the_parameters_in_the_query_string():
    app = recording_app()
    LocalTwilio(app, method="GET", auth_token=TOKEN).text(GEORGE, OUR_NUMBER, "hi there")
    method, params, headers = app.seen[0]
    assert method == "GET" and params["Body"] == "hi there"
    assert "X-Twilio-Signature" in headers


def test_a_message_sid_is_new_for_every_message():
    app = recording_app()
    twilio = LocalTwilio(app)
    sids = {twilio.text(GEORGE, OUR_NUMBER, "hi").message_sid for _ in range(5)}
    assert len(sids) == 5


@pytest.mark.parametrize(
    "body,expected",
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("€" * 80, 1),
        ("é☃" * 35, 1),
        ("☃" * 71, 2),
    ],
)
def test_segments_follow_gsm7_and_ucs2_limits(body, expected):
    assert segments(body) == expected


def test_bodies_past_1600_characters_cannot_be_sent(twilio):
    with pytest.raises(ValueError, match="1600"):
        twilio.text(GEORGE, OUR_NUMBER, "a" * 1601)


@pytest.mark.parametrize(
    "status,content_type,body,texts",
    [
        (
            200,
            "text/xml",
            b"<Response><Message>one</Message><Message>two</Message></Response>",
            ["one", "two"],
        ),
        (200, "application/xml", b"<Response><Sms>legacy</Sms></Response>", ["legacy"]),
        (
            200,
            "text/xml",
            b"<Response><Message><Body>in body</Body></Message></Response>",
            ["in body"],
        ),
        (200, "text/xml", b"<Response/>", []),
        (204, None, b"", []),
        (200, "text/plain", b"plain text is sent as is", ["plain text is sent as is"]),
    ],
)
def test_reply_texts(status, content_type, body, texts):
    assert reply_texts(status, content_type, body) == texts


def answer(status, content_type, body) -> Response:
    """A response with exactly this Content-Type, or none at all."""
    response = Response(body, status)
    del response.headers["Content-Type"]
    if content_type:
        response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize(
    "status,content_type,body,code",
    [
        (500, "text/html", b"oops", 11200),
        (404, "text/html", b"not found", 11200),
        (200, "text/xml", b"<Response><Message>unclosed</Response>", 12100),
        (200, "text/xml", b"<html/>", 12100),
        (200, "application/json", b'{"reply": "no"}', 12300),
        (200, None, b"<Response/>", 12300),
    ],
)
def test_failures_carry_twilios_error_codes(status, content_type, body, code):
    app = recording_app(lambda: answer(status, content_type, body))
    delivery = LocalTwilio(app).text(GEORGE, OUR_NUMBER, "hi")
    assert not delivery.ok and delivery.error.code == code
    assert str(delivery.error).startswith(f"Twilio error {code} (")


def test_an_unreachable_webhook_is_11200(unused_url):
    delivery = LocalTwilio(unused_url).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.error.code == 11200 and "could not reach" in delivery.error.detail


@pytest.fixture
def unused_url():
    return f"http://127.0.0.1:{free_port()}/sms"


@pytest.mark.integration  # starts a server
def test_a_slow_webhook_is_11205_and_the_server_keeps_serving(app):
    slow = recording_app(lambda: time.sleep(0.6) or Response("<Response/>", mimetype="text/xml"))
    with serve(slow, name="slow") as server:
        twilio = LocalTwilio(server.url + "/sms", timeout=0.2)
        delivery = twilio.text(GEORGE, OUR_NUMBER, "hi")
        assert delivery.error.code == 11205
        patient = LocalTwilio(server.url + "/sms", timeout=5)
        assert patient.text(GEORGE, OUR_NUMBER, "again").ok


@pytest.mark.integration  # starts a server
def test_http_and_in_process_deliveries_agree(app):
    with serve(app, name="agree") as server:
        over_http = LocalTwilio(server.url + "/sms")
        in_process = LocalTwilio(app)
        for _ in range(3):
            a = over_http.text(GEORGE, OUR_NUMBER, "hi")
            b = in_process.text(GEORGE, OUR_NUMBER, "hi")
            assert a.replies == b.replies and a.status == b.status == 200


@pytest.mark.integration  # starts a server
def test_via_delivers_a_public_urls_request_to_a_local_address():
    app = recording_app()
    with serve(app, name="via") as server:
        twilio = LocalTwilio("https://abc123.ngrok.app/sms", via=server.url)
        assert twilio.text(GEORGE, OUR_NUMBER, "hi").ok
    assert app.seen[0][2]["Host"] == "abc123.ngrok.app"
