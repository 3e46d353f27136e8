"""The quickstart under gunicorn, started the way its README says (the no-key, two-worker
case with 200 conversations at once is in test_concurrency.py)."""

import os

import pytest

from smskit import LocalTwilio
from smskit.processes import free_port, gunicorn_command
from tests.support import ROOT

pytestmark = pytest.mark.slow


def test_it_runs_from_the_repository_root_by_module_path(run_server):
    port = free_port()
    environment = {**os.environ, "FLASK_SECRET_KEY": "gunicorn test key of 32 characters or more"}
    run_server(
        gunicorn_command("quickstart.sms.sms_conversation:app", port),
        port,
        env=environment,
        cwd=ROOT,
    )
    twilio = LocalTwilio(f"http://127.0.0.1:{port}/sms")
    replies = [twilio.text("+14158675309", "+15005550006", "hi").reply for _ in range(3)]
    assert replies == [f"Curious George has messaged +15005550006 {n} times" for n in (1, 2, 3)]
