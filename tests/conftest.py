"""Every fixture of the suite: the app and a test client in the style of Flask's tutorial, the
local Twilio, server processes, and the stand-ins for ngrok's agent and Twilio's REST API."""

import os

import pytest

# Offline by default: a developer's own .env must not take the lessons live while nbval
# compares their outputs (the notebooks' kernels inherit this). Live tests opt back in.
if os.environ.get("SMSKIT_LIVE_TESTS") != "1":
    os.environ["SMSKIT_OFFLINE"] = "1"
# Importing the quickstart builds its module-level app: give it a key so that the import
# writes no key file into the repository (tests that need no key remove it themselves).
os.environ.setdefault("FLASK_SECRET_KEY", "test suite key, 32 characters or more")

from pyngrok import conf  # noqa: E402

from quickstart.sms.sms_conversation import production_app  # noqa: E402
from smskit import LocalTwilio, SimulatedClock  # noqa: E402
from smskit.processes import start_server, stop_server  # noqa: E402
from smskit.tunnel import close_all  # noqa: E402
from smskit.twilio_number import hookups, restore_number  # noqa: E402
from tests.fakes import ngrok_agent  # noqa: E402
from tests.fakes.stand_ins import TwilioApi, agents  # noqa: E402
from tests.support import KEY, QUICKSTART, TOKEN  # noqa: E402

LAYERS = ("notebook", "browser", "slow")  # a test in none of these is in the unit layer


def pytest_collection_modifyitems(items):
    """Give each test its layer: nbval's lesson cells are notebook tests, the rest unmarked unit."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif not any(item.get_closest_marker(layer) for layer in LAYERS):
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def app():
    """The quickstart as deployed (production_app), without a token."""
    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None, "TESTING": True})


@pytest.fixture
def signed_app():
    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def clock():
    return SimulatedClock(start=1_700_000_000)


@pytest.fixture
def twilio(app, clock):
    """The local Twilio calling the app in-process."""
    return LocalTwilio(app, clock=clock)


@pytest.fixture
def run_server():
    """Start server processes (a command list and its port); stop them after the test."""
    processes = []

    def start(command, port, **options):
        processes.append(start_server(command, port, **options))
        return processes[-1]

    yield start
    for process in processes:
        stop_server(process)


@pytest.fixture
def quickstart_copy(tmp_path):
    """The quickstart file alone in a temporary folder (its instance folder lands there too)."""
    copy = tmp_path / "sms_conversation.py"
    copy.write_text(QUICKSTART.read_text())
    return copy


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
