"""What tests share besides fixtures: the kit's paths, test numbers and tokens, small helpers.

Fixtures live in tests/conftest.py only; test modules import constants and helpers from here
(never from conftest or from one another).
"""

import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "quickstart" / "sms" / "sms_conversation.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots of failed browser tests
TOKEN = "12345"  # a test auth token, not a real one
OUR_NUMBER = "+15005550006"  # Twilio's magic test number
KEY = "test key, 32 characters or more as required"
PYTHON = sys.executable


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


def session_cookie(app, session: dict) -> str:
    """A session cookie exactly as app would sign it."""
    return app.session_interface.get_signing_serializer(app).dumps(session)
