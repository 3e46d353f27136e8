"""Editions as parts: both servers follow one protocol, sit in one registry and hand a local
Twilio its transport; the browser edition's imports never reach the tunnel."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from flask import Flask

from smskit import LocalTwilio, Server, edition, servers, serving, stop, stop_all
from smskit.inprocess import InProcessServer, InProcessTransport, uninstall_adapter
from smskit.lessons import in_edition
from smskit.server import InKernelServer
from smskit.transport import HttpTransport
from tests.support import OUR_NUMBER

ROOT = Path(__file__).resolve().parent.parent
GEORGE = "+14158675309"


@pytest.fixture(params=[pytest.param("desktop", marks=pytest.mark.integration), "browser"])
def serve(request, monkeypatch):
    """serve() as each edition has it; every server stopped and requests' adapter back after."""
    monkeypatch.setattr(edition, "EDITION", request.param)
    yield serving.serve
    stop_all()
    uninstall_adapter()


def replying_app(reply: str = "hi") -> Flask:
    app = Flask(__name__)

    @app.post("/sms")
    def sms():
        return f"<Response><Message>{reply}</Message></Response>", {"Content-Type": "text/xml"}

    return app


def test_each_edition_serves_a_server_the_one_registry_lists_and_stops(serve):
    served = serve(replying_app(), name="parts")
    assert isinstance(served, Server)
    assert servers()["parts"] is served and served.running
    assert LocalTwilio(served.url + "/sms").text(GEORGE, OUR_NUMBER, "hello").reply == "hi"
    stop("parts")
    assert "parts" not in servers() and not served.running
    assert LocalTwilio(served.url + "/sms").text(GEORGE, OUR_NUMBER, "hello").error.code == 11200


def test_a_replacement_keeps_the_events_and_stop_all_ends_every_edition(serve):
    first = serve(replying_app(), name="parts")
    second = serve(replying_app(), name="parts")
    other = serve(replying_app(), name="other")
    assert second.events is first.events and not first.running
    assert set(servers()) == {"parts", "other"}
    stop_all()
    assert servers() == {} and not second.running and not other.running


def test_the_server_hands_the_local_twilio_its_transport(serve):
    served = serve(replying_app(), name="handed")
    twilio = LocalTwilio(served.url + "/sms")
    kind = InProcessTransport if isinstance(served, InProcessServer) else HttpTransport
    assert isinstance(twilio.transport, kind)
    given = LocalTwilio(served.url + "/sms", transport=served.transport())
    assert given.text(GEORGE, OUR_NUMBER, "hello").reply == "hi"


def test_a_local_twilio_reaches_the_app_served_again_at_its_address(serve):
    twilio = LocalTwilio(serve(replying_app(), name="again").url + "/sms")
    serve(replying_app("new"), name="again")
    assert twilio.text(GEORGE, OUR_NUMBER, "hello").reply == "new"


def test_two_names_for_one_in_process_address_leave_the_newer_answering(monkeypatch):
    monkeypatch.setattr(edition, "EDITION", "browser")
    try:
        first = serving.serve(replying_app(), name="Sessions 2")
        second = serving.serve(replying_app(), name="sessions-2")
        assert first.url == second.url and not first.running
        assert list(servers()) == ["sessions-2"]
    finally:
        stop_all()
        uninstall_adapter()


@pytest.mark.integration  # starts a process
def test_the_desktop_leaves_requests_adapter_alone():
    with serving.serve(replying_app(), name="desktop-only"):
        assert requests.sessions.HTTPAdapter is requests.adapters.HTTPAdapter
    assert serving.SERVERS["desktop"] is InKernelServer


def browser_lessons_smskit_imports() -> set[str]:
    """Every smskit module the browser edition's lessons import, read from their code cells."""
    modules = {"smskit"}
    for lesson in in_edition("browser"):
        notebook = json.loads((ROOT / "notebooks" / lesson.file).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            lines = "".join(cell["source"]).splitlines()
            source = "\n".join(line for line in lines if not line.startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    modules |= {a.name for a in node.names if a.name.startswith("smskit")}
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("smskit"):
                    modules.add(node.module)
    return modules


BROWSER_RUN = """
import sys
sys.modules["pyngrok"] = None  # unimportable: an import of it raises ImportError
for module in {modules!r}:
    __import__(module)
import requests
from flask import Flask
from smskit import LocalTwilio, edition, serving
edition.EDITION = "browser"
app = Flask("x")
app.post("/sms")(lambda: "<Response><Message>hi</Message></Response>")
served = serving.serve(app, name="sms")
assert requests.post(served.url + "/sms").ok
assert LocalTwilio(served.url + "/sms").text("+14158675309", "+15005550006", "hi").ok
loaded = [name for name, module in sys.modules.items() if module is not None]
print(sorted(name for name in loaded if "tunnel" in name or "pyngrok" in name))
"""


@pytest.mark.integration  # starts a process
def test_the_browser_editions_imports_and_serving_never_reach_the_tunnel():
    modules = sorted(browser_lessons_smskit_imports())
    assert {"smskit", "smskit.checks", "smskit.wire"} <= set(modules)  # the reading works
    done = subprocess.run(
        [sys.executable, "-c", BROWSER_RUN.format(modules=modules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
