"""The request as Twilio sends it, byte for byte where three real captures agree: the
Content-Type without charset, Accept, Accept-Encoding: gzip, X-Home-Region, the parameter
order; a gzip answer read; cookies per Twilio's 11206 page."""

import gzip

import pytest
from flask import Flask, Response, request

from smskit import LocalTwilio
from smskit.cookies import InvalidSetCookie, parse_set_cookie
from smskit.simulator import PARAMETER_ORDER
from tests.fakes.sockets import ScriptedServer, answer
from tests.support import OUR_NUMBER

GEORGE = "+14158675309"
CAPTURED_ORDER = [
    "ToCountry",
    "ToState",
    "SmsMessageSid",
    "NumMedia",
    "ToCity",
    "FromZip",
    "SmsSid",
    "FromState",
    "SmsStatus",
    "FromCity",
    "Body",
    "FromCountry",
    "To",
    "MessagingServiceSid",
    "ToZip",
    "NumSegments",
    "MessageSid",
    "AccountSid",
    "From",
    "ApiVersion",
]


@pytest.mark.integration  # starts a server
def test_the_request_on_the_wire_is_as_captured():
    with ScriptedServer(answer()) as server:
        twilio = LocalTwilio(
            f"{server.url}/sms", auth_token="12345", messaging_service_sid="MG" + "a" * 32
        )
        assert twilio.text(GEORGE, OUR_NUMBER, "hi").ok
        raw = server.requests[0]
        headers = server.headers(0)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"  # no charset
    assert headers["Accept"] == "*/*" and headers["Accept-Encoding"] == "gzip"
    assert headers["X-Home-Region"] == "us1" and headers["User-Agent"] == "TwilioProxy/1.1"
    names = list(headers)
    order = ["User-Agent", "Content-Type", "Accept", "Accept-Encoding", "X-Home-Region"]
    order += ["I-Twilio-Idempotency-Token", "X-Twilio-Signature"]
    assert [name for name in names if name in order] == order
    body = raw.partition(b"\r\n\r\n")[2].decode()
    assert [pair.split("=")[0] for pair in body.split("&")] == CAPTURED_ORDER


def test_messaging_service_sid_is_left_out_without_a_service():
    params = LocalTwilio(Flask(__name__)).params(GEORGE, OUR_NUMBER, "hi", "SM" + "0" * 32)
    assert list(params) == [name for name in CAPTURED_ORDER if name != "MessagingServiceSid"]
    assert list(PARAMETER_ORDER) == CAPTURED_ORDER


@pytest.mark.parametrize("over_http", [True, False])
@pytest.mark.integration  # starts a server
def test_a_gzip_answer_is_read(over_http):
    packed = gzip.compress(b"<Response><Message>squeezed</Message></Response>")
    if over_http:
        with ScriptedServer(answer(body=packed, headers={"Content-Encoding": "gzip"})) as server:
            delivery = LocalTwilio(f"{server.url}/sms").text(GEORGE, OUR_NUMBER, "hi")
    else:
        app = Flask(__name__)
        app.post("/sms")(
            lambda: Response(packed, mimetype="text/xml", headers={"Content-Encoding": "gzip"})
        )
        delivery = LocalTwilio(app).text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.replies == ("squeezed",)


@pytest.mark.parametrize("character", ["\t", "\r", "\n", "\v", "\f"])
def test_the_characters_on_twilios_11206_page_make_a_set_cookie_invalid(character):
    with pytest.raises(InvalidSetCookie):
        parse_set_cookie(f"a=1{character}2", 0, "/sms")


@pytest.mark.parametrize("character", ["\t", "\v", "\f"])  # werkzeug cannot send CR or LF
def test_a_webhook_setting_one_is_11206_and_the_cookie_is_not_kept(character):
    app = Flask(__name__)

    @app.post("/sms")
    def sms():
        response = Response("<Response/>", mimetype="text/xml")
        response.headers["Set-Cookie"] = f"a=1{character}2"
        return response

    twilio = LocalTwilio(app)
    delivery = twilio.text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.error.code == 11206
    assert twilio.text(GEORGE, OUR_NUMBER, "again").cookie_sent is None  # nothing was kept


def test_several_cookies_are_kept_and_sent_back_together():
    """Twilio's current cookie article sets no limit (its old one said one cookie)."""
    app = Flask(__name__)
    app.seen = []

    @app.post("/sms")
    def sms():
        app.seen.append(request.headers.get("Cookie"))
        response = Response("<Response/>", mimetype="text/xml")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    twilio = LocalTwilio(app)
    twilio.text(GEORGE, OUR_NUMBER, "one")
    twilio.text(GEORGE, OUR_NUMBER, "two")
    assert app.seen == [None, "a=1; b=2"]
