"""The command line as a new user meets it: a URL without http://, warnings, one AccountSid per
installation, and a jar file that is never lost, half-written, or written when it is wrong."""

import json
import os
import stat
import subprocess

import pytest

from tests.fakes.sockets import ScriptedServer, answer
from tests.support import GEORGE, PYTHON, smskit_text

pytestmark = pytest.mark.integration  # starts a server and a process

REPLY = b"<Response><Message>ok</Message></Response>"
COOKIE = {"Set-Cookie": "seen=1; Max-Age=600"}


@pytest.fixture
def server():
    with ScriptedServer(answer(body=REPLY, headers=COOKIE)) as running:
        yield running


def test_a_url_without_http_exits_2_before_sending(server, tmp_path):
    bare = server.url.removeprefix("http://") + "/sms"
    result = smskit_text(bare, GEORGE, "hi", tmp_path / "jar.json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"e.g. http://{bare}" in result.stderr
    assert server.requests == [] and not (tmp_path / "jar.json").exists()


def test_warnings_are_printed_and_the_message_still_delivered(tmp_path):
    many = b"<Response>" + b"<Message>m</Message>" * 11 + b"</Response>"
    with ScriptedServer(answer(body=many)) as server:
        result = smskit_text(f"{server.url}/sms", GEORGE, "hi", tmp_path / "jar.json")
    assert result.returncode == 0 and result.stdout == "m\n" * 10
    assert result.stderr.startswith("Twilio warning 14109 (TwiML Reply message limit exceeded)")


def account_sids(server) -> list[str]:
    return [
        next(p for p in r.split(b"&") if p.startswith(b"AccountSid=")).decode()
        for r in server.requests
    ]


def test_one_account_sid_per_installation_kept_beside_the_jars(server, tmp_path):
    for n in range(3):
        assert (
            smskit_text(f"{server.url}/sms", GEORGE, "hi", tmp_path / f"{n}.json").returncode == 0
        )
    assert len(set(account_sids(server))) == 1
    kept = (tmp_path / "data" / "smskit" / "account_sid").read_text().strip()
    assert account_sids(server)[0] == f"AccountSid={kept}"


def test_twilio_account_sid_wins_when_set(server, tmp_path):
    mine = "AC" + "1" * 32
    env = {k: v for k, v in os.environ.items() if k != "SMSKIT_OFFLINE"}
    env |= {"TWILIO_ACCOUNT_SID": mine}
    env.pop("TWILIO_AUTH_TOKEN", None)
    assert (
        smskit_text(f"{server.url}/sms", GEORGE, "hi", tmp_path / "j.json", env=env).returncode == 0
    )
    assert account_sids(server) == [f"AccountSid={mine}"]


@pytest.mark.parametrize(
    "content", ["[]", "{not json", '{"conversations": [{"from": 1}]}', "\udcff"], ids=str
)
def test_a_corrupt_or_wrong_shaped_jar_exits_2_naming_it_and_sends_nothing(
    server, tmp_path, content
):
    jar = tmp_path / "jar.json"
    jar.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = smskit_text(f"{server.url}/sms", GEORGE, "hi", jar)
    assert result.returncode == 2 and str(jar) in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert server.requests == [] and jar.read_bytes() == content.encode("utf-8", "surrogateescape")


def test_a_directory_as_the_jar_exits_2_and_sends_nothing(server, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = smskit_text(f"{server.url}/sms", GEORGE, "hi", folder, home=tmp_path)
    assert result.returncode == 2 and "is a directory" in result.stderr
    assert server.requests == []


@pytest.fixture
def device(tmp_path):
    """A character device of the test's own (like /dev/null), so that a failure cannot harm the
    system's: the old command line, run as root, replaced the device it was given with a file."""
    node = tmp_path / "null-device"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return node


def test_a_device_as_the_jar_exits_2_and_stays_a_device(server, tmp_path, device):
    result = smskit_text(f"{server.url}/sms", GEORGE, "hi", device, home=tmp_path)
    assert result.returncode == 2 and f"{device} is not a regular file" in result.stderr
    assert server.requests == [] and stat.S_ISCHR(device.stat().st_mode)
    assert not device.with_name(device.name + ".lock").exists()


def test_a_jar_in_a_missing_folder_exits_2_and_sends_nothing(server, tmp_path):
    jar = tmp_path / "no-such-folder" / "jar.json"
    result = smskit_text(f"{server.url}/sms", GEORGE, "hi", jar, home=tmp_path)
    assert result.returncode == 2 and str(jar) in result.stderr
    assert server.requests == [] and not jar.parent.exists()


RUNS = """
import sys
from smskit.cli import main
url, jar, who = sys.argv[1:]
for n in range(20):
    code = main(["text", url, "hi", "--from", f"+1415555{who}{n:02d}", "--to", "+15005550006",
                 "--jar", jar])
    assert code == 0, code
"""


@pytest.mark.slow
def test_8_processes_at_once_20_rounds_each_on_one_jar_lose_nothing(server, tmp_path):
    """Real processes, as eight terminals would run them; each round is one full CLI run."""
    jar = tmp_path / "jar.json"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    processes = [
        subprocess.Popen([PYTHON, "-c", RUNS, f"{server.url}/sms", str(jar), str(p)], env=env)
        for p in range(8)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0] * 8
    conversations = json.loads(jar.read_text())["conversations"]
    assert len(conversations) == 160
    assert all(c["cookies"][0]["value"] == "1" for c in conversations)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "jar.json", "jar.json.lock"]


def test_a_stop_is_kept_in_the_jar_so_later_runs_stay_blocked(server, tmp_path):
    jar, url = tmp_path / "jar.json", f"{server.url}/sms"
    stop = smskit_text(url, GEORGE, "STOP", jar)
    assert stop.returncode == 0 and stop.stdout.startswith(
        "You have successfully been unsubscribed"
    )
    later = smskit_text(url, GEORGE, "hello?", jar)
    assert later.returncode == 0 and later.stdout == ""
    assert "Twilio warning 21610" in later.stderr and "(not sent, the phone texted STOP: ok)" in (
        later.stderr
    )
    assert len(server.requests) == 2  # the webhook got both messages
    back = smskit_text(url, GEORGE, "START", jar)
    assert back.stdout.endswith("ok\n") and json.loads(jar.read_text())["opted_out"] == []


def test_a_timeout_of_zero_exits_2_before_sending(server, tmp_path):
    result = smskit_text(f"{server.url}/sms", GEORGE, "hi", tmp_path / "j.json", "--timeout", "0")
    assert result.returncode == 2 and "--timeout 0 must be more than 0" in result.stderr
    assert server.requests == []
