"""Pytest fixtures that install the stand-ins: an ngrok agent binary and Twilio's REST API.

Test modules load them with `pytest_plugins = ["tests.fakes.fixtures"]`.
"""

import pytest
from pyngrok import conf

from smskit.tunnel import close_all
from smskit.twilio_number import hookups, restore_number
from tests.fakes import ngrok_agent
from tests.fakes.stand_ins import TwilioApi, agents


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """Install a stand-in agent (mode ok, exit, offline or hang) as pyngrok's ngrok binary."""
    monkeypatch.setattr(conf.get_default(), "config_path", str(tmp_path / "ngrok.yml"))
    logs = []

    def install(mode="ok"):
        binary, log = ngrok_agent.install(tmp_path, mode)
        monkeypatch.setattr(conf.get_default(), "ngrok_path", str(binary))
        logs.append(log)
        return log

    yield install
    close_all()
    for log in logs:
        assert agents(log) == [], "an ngrok agent was left running"


@pytest.fixture
def twilio_api():
    """A stand-in for api.twilio.com; any number still pointed somewhere is restored after."""
    stand_in = TwilioApi(sms_method="GET")
    yield stand_in
    for phone_number in hookups():
        restore_number(phone_number)
    stand_in.server.stop()
