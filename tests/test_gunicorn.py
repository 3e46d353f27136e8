"""The quickstart under gunicorn with two worker processes and no FLASK_SECRET_KEY set."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from smskit import LocalTwilio
from tests.conftest import PYTHON, ROOT, free_port

pytestmark = pytest.mark.slow
OURS = "+15005550006"


def gunicorn(port, app_path):
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app_path,
    ]


def converse(url, sender, messages):
    """Send messages texts from sender over one conversation; return the counts replied."""
    twilio = LocalTwilio(url)
    return [int(twilio.text(sender, OURS, "hi").reply.split()[-2]) for _ in range(messages)]


def test_two_workers_without_a_key_share_one_and_count_exactly(run_server, quickstart_copy):
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "FLASK_SECRET_KEY"}
    run_server(
        gunicorn(port, "sms_conversation:app"), port, env=environment, cwd=quickstart_copy.parent
    )
    url = f"http://127.0.0.1:{port}/sms"
    senders = [f"+1415555{n:04d}" for n in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        counts = list(pool.map(lambda sender: converse(url, sender, 5), senders))
    assert counts == [[1, 2, 3, 4, 5]] * 20
    assert (quickstart_copy.parent / "instance" / "secret_key").exists()


def test_it_runs_from_the_repository_root_by_module_path(run_server):
    port = free_port()
    environment = {**os.environ, "FLASK_SECRET_KEY": "gunicorn test"}
    run_server(
        gunicorn(port, "quickstart.sms.sms_conversation:app"), port, env=environment, cwd=ROOT
    )
    assert converse(f"http://127.0.0.1:{port}/sms", "+14158675309", 3) == [1, 2, 3]
