"""The quickstart's production command, as its Procfile gives it, against slow clients.

The `web:` line runs as a platform runs it (Heroku, Dokku, honcho: in the quickstart's folder,
through a shell, with $PORT set). Slow clients trickle a byte a second (tests/fakes/slow_clients.py)
while Twilio's stand-in (the kit's LocalTwilio, with Twilio's own 15 s deadline) sends a signed
message: gunicorn's default sync workers miss that deadline; the Procfile's gevent workers do not.
How fast the answer comes is measured in the bench (part 9), not here.
"""

import os
from pathlib import Path

import pytest

from smskit import LocalTwilio
from smskit.processes import free_port
from tests.fakes.slow_clients import KINDS, SlowClients
from tests.support import OUR_NUMBER, ROOT, TOKEN

FOLDER = ROOT / "quickstart"
KEY = "a production key of 32 characters or more"


def web_line() -> str:
    """The Procfile's `web:` command."""
    [line] = [line for line in (FOLDER / "Procfile").read_text().splitlines() if line]
    kind, command = line.split(":", 1)
    assert kind == "web"
    return command.strip()


@pytest.fixture
def procfile_server(run_server):
    """The web line running on a free $PORT; its port."""
    port = free_port()
    environment = os.environ | {
        "PORT": str(port),
        "PATH": f"{Path(os.sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "FLASK_SECRET_KEY": KEY,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    run_server(["sh", "-c", "exec " + web_line()], port, env=environment, cwd=FOLDER)
    return port


def test_the_web_line_binds_port_and_loads_its_config():
    command = web_line()
    assert "$PORT" in command and "--config gunicorn.conf.py" in command
    assert (FOLDER / "gunicorn.conf.py").exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_fifty_slow_clients_leave_a_signed_message_answered(procfile_server, kind):
    twilio = LocalTwilio(f"http://127.0.0.1:{procfile_server}/sms", auth_token=TOKEN)
    with SlowClients(procfile_server, 50, kind) as slow:
        delivery = twilio.text("+14158675309", OUR_NUMBER, "hello")
        held = slow.still_open()
    assert delivery.ok, delivery.error
    assert delivery.reply == f"Curious George has messaged {OUR_NUMBER} 1 times"
    assert held == 50  # held open, not turned away, and still no worker was taken
