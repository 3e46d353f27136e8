"""What tests share besides fixtures: the kit's paths, test numbers and tokens, small helpers.

Fixtures live in tests/conftest.py only; test modules import constants and helpers from here
(never from conftest or from one another).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask, Response, request

from smskit.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "quickstart" / "sms" / "sms_conversation.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots of failed browser tests
TOKEN = "12345"  # a test auth token, not a real one
OUR_NUMBER = "+15005550006"  # Twilio's magic test number
KEY = "test key, 32 characters or more as required"
PYTHON = sys.executable
GEORGE = "+14158675309"  # Curious George, the seed's known number


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


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def session_cookie(app, session: dict) -> str:
    """A session cookie exactly as app would sign it."""
    return app.session_interface.get_signing_serializer(app).dumps(session)


def answering(*texts: str) -> Flask:
    """A webhook that keeps every Body and parameter set it gets and answers with texts."""
    app = Flask(__name__)
    app.seen = []

    @app.post("/sms")
    def sms():
        app.seen.append(request.form.to_dict())
        verbs = "".join(f"<Message>{text}</Message>" for text in texts)
        return Response(f"<Response>{verbs}</Response>", mimetype="text/xml")

    return app


def smskit_text(url, sender, body, jar, *extra, env=None, home=None):
    """Run the command line; its data folder (the installation's AccountSid) is under home."""
    home = home or jar.parent
    env = {**(env if env is not None else os.environ), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "smskit",
            "text",
            url,
            "--from",
            sender,
            "--to",
            OUR_NUMBER,
            body,
            "--jar",
            str(jar),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=home,  # away from any .env of the developer's
    )


def start_room(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, int, Path]:
    """`python3 kit.py room --no-browser ...options` on a free port, offline; waits for it."""
    port, log = free_port(), tmp_path / "room.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "NGROK_"))}
    env |= {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "SMSKIT_OFFLINE": "1"}
    command = [sys.executable, str(ROOT / "kit.py"), "room", "--no-browser", f"--port={port}"]
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, *options], cwd=tmp_path, env=env, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            pytest.fail(f"kit.py room exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port, log
        except OSError:
            assert time.monotonic() < deadline, f"the room never listened:\n{log.read_text()}"
            time.sleep(0.25)


def stop_room(process: subprocess.Popen) -> None:
    """Stop kit.py room, Voilà and its kernel (one process group)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
