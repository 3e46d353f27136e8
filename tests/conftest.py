"""Fixtures in the style of Flask's tutorial: the app, a test client, and the local Twilio."""

import os
import socket
import sys
from pathlib import Path

import pytest

# Offline by default: a developer's own .env must not take the lessons live while nbval
# compares their outputs (the notebooks' kernels inherit this). Live tests opt back in.
if os.environ.get("SMSKIT_LIVE_TESTS") != "1":
    os.environ["SMSKIT_OFFLINE"] = "1"
# Importing the quickstart builds its module-level app: give it a key so that the import
# writes no key file into the repository (tests that need no key remove it themselves).
os.environ.setdefault("FLASK_SECRET_KEY", "test suite key, 32 characters or more")

from quickstart.sms.sms_conversation import production_app  # noqa: E402
from smskit import LocalTwilio, SimulatedClock  # noqa: E402
from smskit.processes import start_server, stop_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "quickstart" / "sms" / "sms_conversation.py"
TOKEN = "12345"  # a test auth token, not a real one
OUR_NUMBER = "+15005550006"  # Twilio's magic test number


KEY = "test key, 32 characters or more as required"


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


def status_of(port: int, raw: bytes, seconds: float = 30) -> str:
    """Send raw bytes to 127.0.0.1:port; the status line of the answer ("" if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as conn:
        conn.sendall(raw)
        answer = b""
        while b"\r\n" not in answer:
            data = conn.recv(4096)
            if not data:
                break
            answer += data
    return answer.split(b"\r\n")[0].decode()


def execute_allowing_errors(notebook, folder: Path, timeout: int = 60) -> None:
    """Run notebook in a real kernel, in folder; a failing cell keeps its error as an output."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


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


PYTHON = sys.executable
