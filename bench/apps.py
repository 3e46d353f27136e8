"""The two handlers the quickstart is compared with: a floor, and the way Twilio's docs write it.

gunicorn serves them as bench.apps:floor and bench.apps:docs (from the repository root).
"""

from __future__ import annotations

import os

from flask import Flask, Response, request, session
from twilio.twiml.messaging_response import MessagingResponse

CONSTANT_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'
)

# Twilio's Python docs ("Track SMS conversations with cookies") keep their callers in a dict.
CALLERS = {"+14158675308": "Rey", "+12349013030": "Finn", "+12348134522": "Chewy"}


def create_floor() -> Flask:
    """The least a Flask webhook can do: a route answering constant TwiML (no form, no session)."""
    app = Flask(__name__)

    @app.post("/sms")
    def sms():
        return Response(CONSTANT_TWIML, mimetype="text/xml")

    return app


def create_layer(secret_key: str, *, counts: bool) -> Flask:
    """A step between floor and docs-style: reads the form, and counts in flask.session if asked."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key

    @app.post("/sms")
    def sms():
        if not (request.values.get("From") and request.values.get("To")):
            return Response("From and To are required.\n", 400, mimetype="text/plain")
        if counts:
            session["counter"] = session.get("counter", 0) + 1
        return Response(CONSTANT_TWIML, mimetype="text/xml")

    return app


def create_docs(secret_key: str) -> Flask:
    """The counter as Twilio's Python docs write it: flask.session plus MessagingResponse."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key

    @app.route("/sms", methods=["GET", "POST"])
    def hello():
        counter = session.get("counter", 0)
        counter += 1
        session["counter"] = counter
        from_number = request.values.get("From")
        name = CALLERS.get(from_number, "Friend")
        message = f"{name} has messaged {request.values.get('To')} {counter} times."
        resp = MessagingResponse()
        resp.message(message)
        return str(resp)

    return app


floor = create_floor()
docs = create_docs(os.environ.get("FLASK_SECRET_KEY", "bench docs-style key"))
