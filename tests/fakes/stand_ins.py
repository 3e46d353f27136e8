"""What the tests of the live path share: made-up credentials, the stand-in Twilio API, checks."""

from __future__ import annotations

import psutil

from smskit import serve
from smskit.settings import Settings
from tests.fakes import ngrok_agent
from tests.fakes.twilio_api import LoopbackHttpClient, create_api, number_record

NGROK_TOKEN = "2fakeNgrokToken_0123456789abcdefXYZ"  # what the stand-in receives; not real
ACCOUNT = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fake-auth-token-0123456789abcdef"  # what the stand-in expects; not real
NUMBER = "+15005550006"
LIVE_SETTINGS = Settings(ACCOUNT, TWILIO_TOKEN, NUMBER, NGROK_TOKEN)


def one_sentence(message: str) -> bool:
    """Whether message is one line holding one sentence."""
    return "\n" not in message and message.endswith(".") and ". " not in message


def agents(log):
    """The stand-in agent processes writing to log still present (running or not yet reaped)."""
    return [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if f"--fake-log={log}" in (proc.info["cmdline"] or [])
    ]


def starts(log):
    """The times a stand-in agent was started."""
    return [call for call in ngrok_agent.calls(log) if call.get("event") == "start"]


def created(log):
    """The tunnels the stand-in agents were asked to create."""
    return [call for call in ngrok_agent.calls(log) if call.get("method") == "POST"]


class TwilioApi:
    """The stand-in REST API on a loopback port, with one account and two numbers."""

    def __init__(self, **fields):
        self.record = number_record(ACCOUNT, NUMBER, **fields)
        self.other = number_record(ACCOUNT, "+15005550001")
        self.app = create_api(ACCOUNT, TWILIO_TOKEN, [self.other, self.record])
        self.server = serve(self.app, name="fake-twilio-api")

    def client(self):
        """twilio-python's HTTP client, sending to this stand-in."""
        return LoopbackHttpClient(self.server.url, timeout=5)

    @property
    def calls(self):
        return self.app.config["CALLS"]

    def updates(self):
        return [call for call in self.calls if call[0] == "POST"]
