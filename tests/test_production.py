"""The quickstart on the public internet (notebook 05): limits, settings, the kept key, proxies.

Malformed HTTP is sent to real servers (flask run, gunicorn, the in-kernel server) over loopback.
"""

import hashlib
import logging
import os
import stat
import subprocess
import time
from io import BytesIO

import pytest

from quickstart.sms.sms_conversation import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    SettingsError,
    production_app,
    secret_key_for,
)
from smskit import LocalTwilio, serve
from smskit.processes import free_port
from tests.support import OUR_NUMBER, PYTHON, TOKEN, status_of

KEY = "a production key of 32 characters or more"
GEORGE = "+14158675309"
FORM = "application/x-www-form-urlencoded"
PUBLIC = "https://abc123.ngrok.app/sms"


@pytest.fixture
def live():
    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "TESTING": True})


class CountingStream(BytesIO):
    """A request body that remembers how many bytes the app read from it."""

    taken = 0

    def read(self, size=-1):
        data = super().read(size)
        self.taken += len(data)
        return data


def test_a_large_body_is_refused_with_413_before_it_is_read(live):
    body = CountingStream(b"x" * (MAX_BODY_BYTES * 4))
    answer = live.test_client().post(
        "/sms", input_stream=body, content_length=MAX_BODY_BYTES * 4, content_type=FORM
    )
    assert answer.status_code == 413 and answer.mimetype == "text/plain"
    assert body.taken == 0


def test_a_large_chunked_body_is_refused_after_the_limit_only(live):
    body = CountingStream(b"x" * (MAX_BODY_BYTES * 4))
    answer = live.test_client().post(
        "/sms",
        input_stream=body,
        content_type=FORM,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413
    assert body.taken <= MAX_BODY_BYTES + 1


def test_too_many_form_fields_get_413(live):
    fields = "&".join(f"f{n}=1" for n in range(300))
    answer = live.test_client().post("/sms", data=fields, content_type=FORM)
    assert answer.status_code == 413 and "form fields" in answer.text


def test_over_long_headers_get_431(live):
    answer = live.test_client().post("/sms", headers={"X-Padding": "x" * (MAX_HEADER_BYTES + 1)})
    assert answer.status_code == 431 and answer.mimetype == "text/plain"


def test_a_real_twilio_webhook_is_well_within_the_limits(live):
    twilio = LocalTwilio(live, auth_token=TOKEN)
    delivery = twilio.text(GEORGE, OUR_NUMBER, "\U0001f600" * 1600)  # Twilio's largest Body
    assert delivery.status == 200


@pytest.mark.parametrize("weak", ["123456", "true", "", "   ", "x" * 31])
def test_a_weak_key_is_refused_at_start_in_one_sentence(weak, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", weak)
    with pytest.raises(SettingsError, match=r"FLASK_SECRET_KEY .*secrets.token_hex\(32\)") as err:
        production_app()
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_the_key_from_the_environment_is_text_never_json(monkeypatch):
    key = "1234567890" * 4  # JSON would make this a number
    monkeypatch.setenv("FLASK_SECRET_KEY", key)
    assert production_app().config["SECRET_KEY"] == key


def test_an_empty_token_means_unset_and_says_so_once(monkeypatch, caplog):
    monkeypatch.setenv("FLASK_SECRET_KEY", KEY)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    with caplog.at_level(logging.WARNING):
        app = production_app()
    assert app.config["TWILIO_AUTH_TOKEN"] is None
    assert caplog.text.count("NOT checked for signatures") == 1
    caplog.clear()
    production_app({"TWILIO_AUTH_TOKEN": TOKEN})
    assert "NOT checked" not in caplog.text


def test_the_kept_key_folder_is_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        key = secret_key_for(tmp_path / "instance")
    finally:
        os.umask(old)
    assert len(key) == 64
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600
    assert secret_key_for(tmp_path / "instance") == key  # kept


def test_a_folder_others_can_write_is_refused(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(SettingsError, match="chmod 700"):
        secret_key_for(folder)


def test_a_symlink_at_the_key_path_is_never_followed(tmp_path):
    folder, target = tmp_path / "instance", tmp_path / "elsewhere"
    folder.mkdir(mode=0o700)
    target.write_text("a guessable key that is long enough to pass")
    (folder / "secret_key").symlink_to(target)
    with pytest.raises(SettingsError, match=r"The kept key .*secret_key cannot be read"):
        secret_key_for(folder)
    dangling = tmp_path / "dangling"
    dangling.mkdir(mode=0o700)
    (dangling / "secret_key").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SettingsError):
        secret_key_for(dangling)
    assert not (tmp_path / "nowhere").exists()  # nothing was written through the link


@pytest.mark.parametrize("content", ["", "   \n", "short"])
def test_an_empty_or_short_key_file_stops_the_app_naming_it(tmp_path, content):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    (folder / "secret_key").write_text(content)
    with pytest.raises(SettingsError, match=rf"The kept key {folder}/secret_key is"):
        secret_key_for(folder)


def test_an_unreadable_key_file_stops_the_app_naming_it(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    (folder / "secret_key").mkdir()  # unreadable as a file, even for root
    with pytest.raises(SettingsError, match=r"secret_key cannot be read"):
        secret_key_for(folder)


AT_ONCE = """
import hashlib, sys, time
sys.path.insert(0, sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
from sms_conversation import app
print(hashlib.sha256(app.config["SECRET_KEY"].encode()).hexdigest())
"""


@pytest.mark.integration  # starts a process
def test_workers_starting_at_once_agree_on_one_key(quickstart_copy):
    environment = {k: v for k, v in os.environ.items() if k != "FLASK_SECRET_KEY"}

    start = str(time.time() + 2.0)
    workers = [
        subprocess.Popen(
            [PYTHON, "-c", AT_ONCE, str(quickstart_copy.parent), start],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(6)
    ]
    keys = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    kept = (quickstart_copy.parent / "instance" / "secret_key").read_text()
    assert keys == {hashlib.sha256(kept.encode()).hexdigest()}


def signed_post(app, peer, signed_for=PUBLIC, host="abc123.ngrok.app"):
    signer = LocalTwilio(signed_for, auth_token=TOKEN)
    params = signer.params(GEORGE, OUR_NUMBER, "hi", "SM" + "0" * 32)
    headers = {
        "X-Twilio-Signature": signer.signature(signed_for, params),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": host,
    }
    client = app.test_client()
    return client.post("/sms", data=params, headers=headers, environ_base={"REMOTE_ADDR": peer})


def test_forwarded_headers_count_from_loopback_only_by_default(live):
    assert signed_post(live, "127.0.0.1").status_code == 200
    assert signed_post(live, "::1").status_code == 200
    assert signed_post(live, "203.0.113.7").status_code == 403


def test_a_request_signed_for_another_url_is_refused_from_an_untrusted_client(live):
    other = "https://shop.example/sms"
    assert (
        signed_post(live, "203.0.113.7", signed_for=other, host="shop.example").status_code == 403
    )


def test_trusted_proxies_come_from_the_setting(monkeypatch):
    monkeypatch.setenv("FLASK_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    app = production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN})
    assert signed_post(app, "10.20.30.40").status_code == 200
    assert signed_post(app, "192.0.2.1").status_code == 200
    assert signed_post(app, "127.0.0.1").status_code == 403


def test_a_bad_trusted_proxies_setting_is_refused(monkeypatch):
    monkeypatch.setenv("FLASK_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(SettingsError, match="FLASK_TRUSTED_PROXIES"):
        production_app({"SECRET_KEY": KEY})


MALFORMED_CHUNKED = (
    b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nFrom=x\r\n0\r\n\r\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn", "flask run"])
def test_a_malformed_chunked_body_gets_400_without_a_traceback(server, run_server, quickstart_copy):
    from smskit.processes import output_of

    port = free_port()
    folder = str(quickstart_copy.parent)
    commands = {
        "gunicorn": [PYTHON, "-m", "gunicorn", "--chdir", folder, "--bind", f"127.0.0.1:{port}",
                     "sms_conversation:app"],
        "flask run": [PYTHON, "-m", "flask", "--app", "sms_conversation", "run",
                      "--port", str(port)],
    }  # fmt: skip
    environment = os.environ | {"FLASK_SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN}
    process = run_server(commands[server], port, env=environment, cwd=folder)
    assert " 400 " in status_of(port, MALFORMED_CHUNKED) + " "
    assert "Traceback" not in output_of(process)


@pytest.mark.integration  # starts a server
def test_the_in_kernel_server_answers_a_malformed_chunked_body_with_400(live, caplog):
    with serve(live, name="malformed") as server:
        assert " 400 " in status_of(server.port, MALFORMED_CHUNKED) + " "
    assert "Traceback" not in caplog.text


@pytest.mark.integration  # starts a process
def test_the_module_refuses_to_import_with_a_short_key(quickstart_copy):
    environment = os.environ | {"FLASK_SECRET_KEY": "123456"}
    done = subprocess.run(
        [PYTHON, "-c", "import sms_conversation"],
        cwd=quickstart_copy.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "FLASK_SECRET_KEY is only 6 characters" in done.stderr


def test_a_folder_others_can_only_read_is_kept(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)  # as Flask or an older quickstart made it
    folder.chmod(0o755)
    assert len(secret_key_for(folder)) == 64


@pytest.mark.integration  # starts a server
def test_an_oversized_form_is_413_also_when_the_panel_watches(live):
    """The event feed reads the form after the answer; a refused form must read as empty."""
    body = b"Body=" + b"x" * (MAX_BODY_BYTES + 10)
    head = b"POST /sms HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
    head += b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    events = []
    with serve(live, name="watched") as server:
        server.events.subscribe(events.append)
        assert status_of(server.port, head + body).split()[1] == "413"
    assert [event.status for event in events] == [413]


def chunked(body: bytes) -> bytes:
    """A form POST with body sent in one chunk."""
    return (
        b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn", "gunicorn gevent", "flask run"])
def test_a_chunked_body_over_the_limit_gets_413_not_a_count(server, run_server, quickstart_copy):
    port = free_port()
    folder = str(quickstart_copy.parent)
    gunicorn = [PYTHON, "-m", "gunicorn", "--chdir", folder, "--bind", f"127.0.0.1:{port}"]
    commands = {
        "gunicorn": [*gunicorn, "sms_conversation:app"],
        "gunicorn gevent": [*gunicorn, "--worker-class", "gevent", "sms_conversation:app"],
        "flask run": [PYTHON, "-m", "flask", "--app", "sms_conversation", "run",
                      "--port", str(port)],
    }  # fmt: skip
    environment = os.environ | {"FLASK_SECRET_KEY": KEY}  # unsigned: the count would show
    run_server(commands[server], port, env=environment, cwd=folder)
    form = f"From={GEORGE}&To={OUR_NUMBER}&Body=".encode()
    assert " 413 " in status_of(port, chunked(form + b"x" * MAX_BODY_BYTES)) + " "
    assert " 200 " in status_of(port, chunked(form + b"hi")) + " "  # within the limit: counted


def test_only_the_trusted_hosts_are_accepted_and_signatures_checked_against_them(monkeypatch):
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", "abc123.ngrok.app")
    app = production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN})
    answers = {  # both signed by the same account, forwarded by the loopback proxy
        host: signed_post(app, "127.0.0.1", f"https://{host}/sms", host).status_code
        for host in ["abc123.ngrok.app", "other.ngrok.app"]
    }
    assert answers == {"abc123.ngrok.app": 200, "other.ngrok.app": 400}
