"""Twilio follows HTTP redirects (301, 302, 303, 307; error 11216's page) a bounded number of
times (11215), and executes TwiML <Redirect> with the conversation's cookies (14106 past 50)."""

import pytest
from flask import Flask, Response, redirect, request

from smskit import LocalTwilio
from tests.support import OUR_NUMBER

GEORGE = "+14158675309"


def twiml(*verbs: str) -> Response:
    return Response(f"<Response>{''.join(verbs)}</Response>", mimetype="text/xml")


def redirecting_app() -> Flask:
    app = Flask(__name__)
    app.seen = []

    @app.before_request
    def keep():
        app.seen.append((request.method, request.path, request.headers.get("Cookie")))

    @app.route("/old", methods=["GET", "POST"])
    def old():
        return redirect("/sms", int(request.args.get("status", 302)))

    @app.route("/sms", methods=["GET", "POST"])
    def sms():
        response = twiml(f"<Message>{request.values.get('Body', '?')}</Message>")
        response.set_cookie("seen", "yes")
        return response

    @app.route("/loop", methods=["GET", "POST"])
    def loop():
        return redirect("/loop")

    @app.route("/first", methods=["POST"])
    def first():
        response = twiml(
            "<Message>one</Message>", "<Redirect>/second</Redirect>", "<Message>never</Message>"
        )
        response.set_cookie("step", "1")
        return response

    @app.route("/second", methods=["GET", "POST"])
    def second():
        return twiml(f"<Message>two, cookie {request.cookies.get('step')}</Message>")

    @app.route("/forever", methods=["POST"])
    def forever():
        return twiml("<Redirect>/forever</Redirect>")

    @app.route("/broken", methods=["POST"])
    def broken():
        return twiml("<Message>before</Message>", "<Redirect>/missing</Redirect>")

    return app


@pytest.mark.parametrize("status", [301, 302, 307])
def test_an_http_redirect_is_followed_with_the_same_method_and_parameters(status):
    app = redirecting_app()
    delivery = LocalTwilio(app, url=f"http://localhost/old?status={status}").text(
        GEORGE, OUR_NUMBER, "hello"
    )
    assert delivery.ok and delivery.replies == ("hello",)
    assert [seen[:2] for seen in app.seen] == [("POST", "/old"), ("POST", "/sms")]


def test_303_is_followed_with_get():
    app = redirecting_app()
    delivery = LocalTwilio(app, url="http://localhost/old?status=303").text(
        GEORGE, OUR_NUMBER, "hi"
    )
    assert delivery.ok and app.seen[-1][:2] == ("GET", "/sms")
    assert delivery.replies == ("hi",)  # GET carries the parameters in the query string


def test_a_redirect_loop_is_11215():
    delivery = LocalTwilio(redirecting_app(), url="http://localhost/loop").text(
        GEORGE, OUR_NUMBER, "hi"
    )
    assert delivery.error.code == 11215


@pytest.mark.parametrize("status", [300, 304, 308])
def test_other_3xx_answers_are_11216(status):
    app = Flask(__name__)
    app.post("/sms")(lambda: Response("", status, headers={"Location": "/elsewhere"}))
    assert LocalTwilio(app).text(GEORGE, OUR_NUMBER, "hi").error.code == 11216


def test_a_twiml_redirect_is_executed_with_the_conversations_cookies():
    app = redirecting_app()
    delivery = LocalTwilio(app, url="http://localhost/first").text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.ok
    assert delivery.replies == ("one", "two, cookie 1")  # nothing after <Redirect> runs
    assert app.seen[-1] == ("POST", "/second", "step=1")


def test_a_twiml_redirect_loop_stops_at_50_documents_with_warning_14106():
    app = redirecting_app()
    delivery = LocalTwilio(app, url="http://localhost/forever").text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.ok and delivery.replies == ()
    assert [w.code for w in delivery.warnings] == [14106]
    assert len(app.seen) == 50


def test_a_twiml_redirect_that_fails_is_the_failures_error():
    delivery = LocalTwilio(redirecting_app(), url="http://localhost/broken").text(
        GEORGE, OUR_NUMBER, "hi"
    )
    assert delivery.error.code == 11200 and "404" in delivery.error.detail
    assert delivery.replies == ("before",)  # Twilio runs verbs in order: it was already sent
