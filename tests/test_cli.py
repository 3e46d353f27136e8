"""`python -m smskit text`, end to end against the quickstart running as a real server."""

import os
import subprocess

import pytest

from smskit.processes import free_port
from tests.support import GEORGE, OUR_NUMBER, PYTHON, QUICKSTART, smskit_text

pytestmark = pytest.mark.integration  # starts a process

STRANGER, OURS = "+14155550100", OUR_NUMBER


@pytest.fixture
def flask_run(run_server, tmp_path):
    """The quickstart under `flask --app ... run`, as a separate process; returns its /sms URL."""

    def start(**env):
        port = free_port()
        environment = {
            **os.environ,
            "FLASK_SECRET_KEY": "cli test key of 32 characters or more",
            **env,
        }
        flask = [PYTHON, "-m", "flask", "--app", str(QUICKSTART), "run", "--port", str(port)]
        run_server(flask, port, env=environment, cwd=tmp_path)
        return f"http://127.0.0.1:{port}/sms"

    return start


def test_three_texts_count_1_2_3_and_another_number_starts_at_1(flask_run, tmp_path):
    url, jar = flask_run(), tmp_path / "jar.json"
    outputs = [smskit_text(url, GEORGE, f"hello {n}", jar) for n in (1, 2, 3)]
    outputs.append(smskit_text(url, STRANGER, "hi", jar))
    assert [o.returncode for o in outputs] == [0, 0, 0, 0]
    assert [o.stdout for o in outputs] == [
        f"Curious George has messaged {OURS} 1 times\n",
        f"Curious George has messaged {OURS} 2 times\n",
        f"Curious George has messaged {OURS} 3 times\n",
        f"Monkey has messaged {OURS} 1 times\n",
    ]


def test_it_signs_with_twilio_auth_token_when_set(flask_run, tmp_path):
    url = flask_run(TWILIO_AUTH_TOKEN="cli-token")
    online = {k: v for k, v in os.environ.items() if k != "SMSKIT_OFFLINE"}
    signed_env = {**online, "TWILIO_AUTH_TOKEN": "cli-token"}
    unsigned_env = {k: v for k, v in online.items() if k != "TWILIO_AUTH_TOKEN"}
    good = smskit_text(url, GEORGE, "hi", tmp_path / "a.json", env=signed_env)
    bad = smskit_text(url, GEORGE, "hi", tmp_path / "b.json", env=unsigned_env)
    assert good.returncode == 0 and good.stdout.endswith("1 times\n")
    assert bad.returncode == 1 and "Twilio error 11200" in bad.stderr and "403" in bad.stderr
    assert "It said: Forbidden: X-Twilio-Signature does not match" in bad.stderr  # its reason
    assert "The request was not signed: TWILIO_AUTH_TOKEN is not set." in bad.stderr


def test_an_unreachable_webhook_exits_non_zero_with_the_error_code(tmp_path):
    result = smskit_text(f"http://127.0.0.1:{free_port()}/sms", GEORGE, "hi", tmp_path / "j")
    assert result.returncode == 1
    assert result.stderr.startswith("Twilio error 11200 (HTTP retrieval failure)")
    assert "start the server first" in result.stderr.splitlines()[-1]


def test_help_explains_every_option():
    result = subprocess.run(
        [PYTHON, "-m", "smskit", "text", "--help"], capture_output=True, text=True, timeout=30
    )
    for option in ("--from", "--to", "--jar", "--method", "--rule", "--timeout"):
        assert option in result.stdout
    assert "TWILIO_AUTH_TOKEN" in result.stdout


WEB_PAGE_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PAGE = b"<!doctype html><title>403</title><script>window.config = {a: 1};</script><p>x</p>"


class Page(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(403)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


HTTPServer(("127.0.0.1", int(sys.argv[1])), Page).serve_forever()
"""


def test_a_web_page_from_another_server_is_named_and_the_signature_not_blamed(run_server, tmp_path):
    """A 403 page with scripts (as JupyterLab's port answers): no JavaScript, no token line."""
    script, port = tmp_path / "page.py", free_port()
    script.write_text(WEB_PAGE_SERVER)
    run_server([PYTHON, str(script), str(port)], port)
    result = smskit_text(f"http://127.0.0.1:{port}/sms", GEORGE, "hi", tmp_path / "j.json")
    assert result.returncode == 1
    assert "It said: the server answered with a web page" in result.stderr
    assert "window.config" not in result.stderr
    assert "TWILIO_AUTH_TOKEN" not in result.stderr


def test_https_against_a_plain_http_server_says_to_use_http(flask_run, tmp_path):
    url = flask_run()
    result = smskit_text(url.replace("http://", "https://"), GEORGE, "hi", tmp_path / "j.json")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"The server speaks plain HTTP, not HTTPS: use {url}"


def test_a_number_not_in_e164_is_refused_with_the_e164_form_and_nothing_is_sent(tmp_path):
    # nothing listens at this URL: a number that got past the check would say so instead
    url = f"http://127.0.0.1:{free_port()}/sms"
    result = smskit_text(url, "4158675309", "hi", tmp_path / "j.json")
    assert result.returncode == 2
    assert result.stderr == (
        "error: --from 4158675309 is not in E.164, the form Twilio always sends: write it as "
        "+14158675309 (+, the country code, the number, no spaces).\n"
    )
    assert not (tmp_path / "j.json").exists()


def test_a_reply_blocked_after_stop_is_printed_once(flask_run, tmp_path):
    url, jar = flask_run(), tmp_path / "jar.json"
    assert smskit_text(url, GEORGE, "STOP", jar).returncode == 0
    result = smskit_text(url, GEORGE, "hi", jar)
    assert result.returncode == 0 and result.stdout == ""
    said = result.stderr.splitlines()
    assert [line for line in said if "has messaged" in line] == [
        f"(not sent, the phone texted STOP: Curious George has messaged {OURS} 2 times)"
    ]
    assert "(the webhook answered without a reply)" not in said
