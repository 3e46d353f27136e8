# Generated from notebooks/03_sms_conversations.ipynb by `python -m smskit.export`.
# Do not edit: change the cells tagged "export" there and run the command again.
"""Count the messages of each SMS conversation, as Twilio's cookie quickstart does.

Twilio keeps one cookie per conversation (a From/To pair) and sends it back with the
next message, so a Flask session remembers the conversation for up to four hours.

Run it:  flask --app quickstart/sms/sms_conversation.py run
    or:  gunicorn quickstart.sms.sms_conversation:app   (from the repository root)
"""

import logging
import os
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, request, session
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


# The people we know, keyed by their number in E.164 form (how Twilio sends From).
PEOPLE = {
    "+14158675309": "Curious George",
    "+14158675310": "Boots",
    "+14158675311": "Virgil",
}


# Twilio forgets a conversation's cookie after four hours; the server agrees.
CONVERSATION_LIFETIME = timedelta(hours=4)


# Characters XML 1.0 cannot carry, even escaped (most control characters).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def e164(number):
    """Write a North American number the way Twilio does: 4158675309 -> +14158675309."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


def name_for(number):
    """The sender's name if we know them, else "Monkey" (as in the original lesson)."""
    return PEOPLE.get(e164(number), "Monkey")


def count_message():
    """Add this message to the conversation's counter and return the new count."""
    counter = session.get("counter", 0) + 1
    session["counter"] = counter
    return counter


def reply(sender, to, counter):
    """The TwiML answer: one SMS back to the sender."""
    response = MessagingResponse()
    response.message(NOT_XML.sub("", f"{name_for(sender)} has messaged {to} {counter} times"))
    return Response(str(response), mimetype="text/xml")


def refusal(status, reason):
    """A plain-text answer that says in one line why the request was turned away."""
    return Response(reason + "\n", status, mimetype="text/plain")


def signed_by_twilio(token):
    """Whether X-Twilio-Signature matches this request's URL and parameters."""
    # The URL exactly as Twilio asked for it: request.url would decode %-escapes in the query.
    query = request.query_string.decode()
    url = request.base_url + ("?" + query if query else "")
    params = request.form if request.method == "POST" else {}
    signature = request.headers.get("X-Twilio-Signature", "")
    return RequestValidator(token).validate(url, params, signature)


def secret_key_for(app):
    """The session signing key: FLASK_SECRET_KEY, else one generated once and kept on disk.

    The kept key survives restarts and is shared by every worker process, so a
    conversation's cookie stays valid for its four hours.
    """
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as draft:
            draft.write(secrets.token_hex(32))
        os.chmod(draft.name, 0o600)
        try:
            os.link(draft.name, path)  # atomic: the first worker's key wins
        except FileExistsError:
            pass
        finally:
            os.unlink(draft.name)
    log.warning("FLASK_SECRET_KEY is not set; signing sessions with the key kept in %s", path)
    return path.read_text().strip()


def create_app(test_config=None):
    """Build the webhook app; test_config overrides the environment."""
    app = Flask(__name__)
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY -> SECRET_KEY, ...
    app.config["TWILIO_AUTH_TOKEN"] = os.environ.get("TWILIO_AUTH_TOKEN")
    app.config["PERMANENT_SESSION_LIFETIME"] = CONVERSATION_LIFETIME
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key_for(app)
    # Twilio signs the public https URL; a tunnel or proxy says what it was.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)

    @app.before_request
    def only_twilio():
        token = app.config.get("TWILIO_AUTH_TOKEN")
        if token and not signed_by_twilio(token):
            return refusal(403, "Forbidden: X-Twilio-Signature does not match this request.")

    @app.errorhandler(HTTPException)
    def plain_text_error(error):
        """Flask's own refusals (wrong method, unknown path) in one line of plain text too."""
        response = error.get_response()
        response.set_data(f"{error.name}: {error.description}\n")
        response.mimetype = "text/plain"
        return response

    @app.route("/sms", methods=["GET", "POST"])
    def sms_conversation():
        sender, to = request.values.get("From"), request.values.get("To")
        if not sender or not to:
            return refusal(400, "Bad request: From and To are required (Twilio sends both).")
        return reply(sender, to, count_message())

    return app


app = create_app()
